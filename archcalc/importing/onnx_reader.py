"""An ONNX file -> archcalc spec data (the mapping a YAML spec loads to), with no torch: read and
check the file (onnx_load), compute the constant side of the graph (onnx_fold), map each
remaining node through the table of ONNX op types in archcalc/layers/imports/onnx_ops.py, then
analyse the spec and check every layer against the model: its output shape against
onnx.shape_inference's, its parameters and buffers against the initializers it reads."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError, SpecError, clip
from ..layers import lookup
from ..layers.imports.onnx_ops import ONNX_OPS, Emit
from .onnx_fold import FOLDED_OPS, LEADING_CONSTANTS, fold
from .onnx_load import LoadedModel, load_model, tensor_value
from .onnx_view import NodeView

NET_INPUT = "input"  # how a spec refers to the net's input
MAX_NAME = 200


@dataclass
class Constant:
    """A tensor known before the net runs: an initializer or Constant (``tensor``, its value read
    only when needed) or a computed value (``array``)."""

    shape: tuple[int, ...]
    tensor: Any = None
    array: Any = None
    computed: bool = False  # made by an op from other constants, not stored in the model


@dataclass
class Expected:
    """What the model says about one layer of the spec, checked after the analysis."""

    layer: str
    node: str
    shape: tuple[int, ...] | None  # without the batch; None where shape inference has none
    params: int
    buffers: int


def safe_name(text: str) -> str:
    """A node name as a spec layer name: letters, digits, '_' and '-' (not first). A scope that
    the next one repeats is left out: TorchScript's '/layer1/layer1.0/conv1/Conv' is
    'layer1_0_conv1_Conv'."""
    parts = [part for part in text.split("/") if part]
    parts = [part for part, after in zip(parts, parts[1:] + [""]) if not after.startswith(part + ".")]
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", "/".join(parts)).strip("_").lstrip("-")
    return name[:MAX_NAME]


class OnnxImport:
    """One model's walk: constants, activations (ONNX shape, the spec layer producing it), layers."""

    def __init__(self, loaded: LoadedModel):
        self.loaded = loaded
        self.file = loaded.file
        graph = loaded.model.graph
        self.constants: dict[str, Constant] = {t.name: Constant(tuple(t.dims), tensor=t) for t in graph.initializer}
        self.constants.update((name, Constant(dims, tensor=external)) for name, (dims, external) in loaded.weights.items())
        self.activations: dict[str, tuple[int, ...] | None] = {loaded.input_name: loaded.input_shape}
        self.producers: dict[str, str] = {loaded.input_name: NET_INPUT}
        # the node messages held once: protobuf may wrap graph.node[i] anew on each access, and
        # nodes are told apart by identity
        self.nodes = list(graph.node)
        self.consumers: dict[str, list] = {}
        for node in self.nodes:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.graph_outputs = [value.name for value in graph.output]
        self.layers: list[dict] = []
        self.expected: list[Expected] = []
        self.names: set[str] = {NET_INPUT}
        self.suffixes: dict[str, int] = {}  # a repeated name -> the last number appended to it
        self.covered: set[int] = set()
        self.labels: dict[int, str] = {}

    # -- the walk
    def run(self) -> None:
        for index, node in enumerate(self.nodes):
            self.labels[id(node)] = node.name or f"{node.op_type}_{index}"
        # the constant side first (a pattern's later Reshape reads a target computed further on)
        folded = set()
        for node in self.nodes:
            if self._folds(node):
                self._fold(node)
                folded.add(id(node))
        for node in self.nodes:
            if id(node) in self.covered or id(node) in folded:
                continue
            if node.domain not in ("", "ai.onnx"):
                self.fail_node(node, f"unsupported ONNX op '{clip(node.domain)}.{clip(node.op_type)}' (a custom domain)")
            self._map(node)

    def _folds(self, node) -> bool:
        if node.domain not in ("", "ai.onnx"):
            return False
        if node.op_type == "Shape":
            return node.input[0] in self.constants or node.input[0] in self.loaded.shapes
        if node.op_type == "Transpose":  # a weight transposed (torch's Linear as MatMul(x, W^T))
            return node.input[0] in self.constants
        present = [name for name in node.input if name][:LEADING_CONSTANTS.get(node.op_type, len(node.input))]
        return node.op_type in FOLDED_OPS and all(name in self.constants for name in present) and (
            bool(present) or node.op_type == "Constant")

    def _fold(self, node) -> None:
        label = f"'{clip(self.labels[id(node)])}' ({node.op_type})"
        if node.op_type == "Shape":
            results = [self._shape_of(node, label)]
        elif node.op_type == "Identity":  # the same tensor (exports alias equal initializers so)
            self.constants[node.output[0]] = self.constants[node.input[0]]
            return
        elif node.op_type == "Transpose":
            self.constants[node.output[0]] = self._transposed(node, label)
            return
        else:
            values = [self.value(name, node) if name in self.constants else None for name in node.input]
            results = fold(node, values, lambda tensor: tensor_value(tensor, self.loaded), self.file, label)
        for name, array in zip(node.output, results):
            self.constants[name] = Constant(tuple(array.shape), array=array, computed=node.op_type != "Constant")

    def _transposed(self, node, label: str) -> Constant:
        """A constant transposed: a stored weight still (its elements are parameters where a
        layer reads it), by its shape alone when it is too large to read."""
        import numpy as np

        from .onnx_fold import attribute
        from .onnx_load import MAX_VALUE_ELEMENTS

        source = self.constants[node.input[0]]
        perm = list(attribute(node, "perm", range(len(source.shape))[::-1]))
        if sorted(perm) != list(range(len(source.shape))):
            raise SpecError(f"node {label}: perm {perm} does not fit a {len(source.shape)}-d tensor", file=self.file)
        shape = tuple(source.shape[axis] for axis in perm)
        if source.array is None and math.prod(source.shape) > MAX_VALUE_ELEMENTS:
            return Constant(shape, computed=source.computed)
        return Constant(shape, array=np.transpose(self.value(node.input[0], node), perm), computed=source.computed)

    def _shape_of(self, node, label: str):
        import numpy as np

        from .onnx_fold import attribute

        source = node.input[0]
        shape = self.constants[source].shape if source in self.constants else self.loaded.shapes[source]
        start, end = attribute(node, "start", 0), attribute(node, "end", None)
        return np.array(shape[start:end], dtype=np.int64)

    def _map(self, node) -> None:
        handler = ONNX_OPS.get(node.op_type)
        if handler is None and (node.op_type in FOLDED_OPS or node.op_type == "Shape"):
            self.fail_node(node, f"unsupported ONNX op '{clip(node.op_type)}' on computed tensors (archcalc computes "
                                 "it only over constants and static shapes, as shape arithmetic)")
        if handler is None:
            self.fail_node(node, f"unsupported ONNX op '{clip(node.op_type)}'")
        mapped = handler(NodeView(self, node))
        if mapped.alias is not None:
            output, source = mapped.alias
            self.activations[output] = self.activations[source]
            self.producers[output] = self.producers[source]
        for emit in mapped.layers:
            self._add_layer(node, emit)
        self.covered.update(id(covered.node) for covered in mapped.covers)

    def _add_layer(self, node, emit: Emit) -> None:
        name = self._unique(safe_name(self.labels[id(node)] + emit.suffix) or node.op_type)
        inputs = []
        for tensor in emit.inputs:
            if tensor not in self.producers:
                self.fail_node(node, f"reads '{clip(tensor)}', which is not computed by the net")
            inputs.append(self.producers[tensor])
        entry: dict[str, Any] = {"name": name, "type": emit.type, **emit.args}
        previous = self.layers[-1]["name"] if self.layers else NET_INPUT
        if inputs != [previous]:
            entry["inputs"] = inputs[0] if len(inputs) == 1 else inputs
        self.layers.append(entry)
        self.producers[emit.produces] = name
        shape = self.loaded.shapes.get(emit.produces)
        self.activations[emit.produces] = shape or self._archcalc_shape(node, emit)
        self.expected.append(Expected(name, self.labels[id(node)], shape[1:] if shape else None, emit.params,
                                      emit.buffers))

    def _archcalc_shape(self, node, emit: Emit) -> tuple[int, ...] | None:
        """The output shape archcalc's layer gives, where shape inference has none (a Slice whose
        bounds come from a Shape chain); None when an input's shape is unknown too."""
        in_shapes = [self.activations.get(tensor) for tensor in emit.inputs]
        if any(shape is None for shape in in_shapes):
            return None
        layer = lookup(emit.type)
        try:
            result = layer.infer(layer.validate(dict(emit.args)), [shape[1:] for shape in in_shapes])
        except ArchcalcError as exc:
            self.fail_node(node, exc.message)
        return (in_shapes[0][0], *result.output)

    def _unique(self, name: str) -> str:
        if name == NET_INPUT:
            name += "_"
        candidate, count = name, self.suffixes.get(name, 1)
        while candidate in self.names:  # continues from the last number: no quadratic search
            count += 1
            candidate = f"{name[:MAX_NAME - 8]}_{count}"
        self.suffixes[name] = count
        self.names.add(candidate)
        return candidate

    # -- what NodeView reads
    def value(self, name: str, node):
        constant = self.constants.get(name)
        if constant is None:
            self.fail_node(node, f"input '{clip(name)}' must be a constant")
        if constant.array is None:
            if constant.tensor is None:
                self.fail_node(node, f"reads the value of '{clip(name)}', a tensor of shape {constant.shape} (too large "
                               "for a shape or an argument)")
            constant.array = tensor_value(constant.tensor, self.loaded)
        return constant.array

    def fail_node(self, node, message: str):
        raise SpecError(f"node '{clip(self.labels.get(id(node), node.name), 120)}' ({clip(node.op_type)}): {message}",
                        file=self.file)

    # -- the spec
    def spec(self) -> dict:
        outputs = []
        for name in self.graph_outputs:
            producer = self.producers.get(name)
            if producer is None or producer == NET_INPUT:
                raise SpecError(f"the graph's output '{clip(name)}' is {'the input' if producer else 'a constant'}, "
                                "not computed by a layer", file=self.file)
            outputs.append(producer)
        stem = safe_name(Path(self.file).stem) or "model"
        spec: dict[str, Any] = {"name": stem, "description": f"imported from the ONNX file {stem}.onnx",
                                "input": list(self.loaded.input_shape[1:]), "batch": self.loaded.input_shape[0],
                                "layers": self.layers}
        if len(outputs) == 1:
            spec["output"] = outputs[0]
        else:
            spec["outputs"] = outputs
        return spec


def spec_text(spec: dict) -> str:
    """Spec data as YAML text (the names and values in it are plain: safe names, numbers, lists)."""
    import yaml

    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, width=120)


def _analyze(spec: dict, file: str, batch: int | None = None):
    from ..analysis import analyze
    from ..graph import load_graph

    try:
        graph = load_graph(file, text=spec_text(spec), batch=batch)
        return analyze(graph, batch=batch)
    except ArchcalcError as exc:
        raise SpecError(f"the imported net: {exc.message}", file=file, layer=exc.layer) from None


def _check(report, expected: list[Expected], file: str) -> None:
    """Every layer as the model has it: output shape, parameters, floating-point buffers."""
    rows = {row.name: row for row in report.rows}
    for item in expected:
        row = rows[item.layer]
        where = f"node '{clip(item.node, 120)}' ({row.type})"
        if item.shape is not None and tuple(row.output) != tuple(item.shape):
            raise SpecError(f"{where}: archcalc infers the output {tuple(row.output)}, ONNX shape inference "
                            f"{tuple(item.shape)}", file=file)
        integer = lookup(row.type).integer_buffers
        buffers = sum(t.count for t in row.buffer_tensors if t.name not in integer)
        if (row.params, buffers) != (item.params, item.buffers):
            raise SpecError(f"{where}: archcalc counts {row.params:,} parameters and {buffers:,} buffer elements, "
                            f"the model's initializers hold {item.params:,} and {item.buffers:,}", file=file)


def import_onnx(path: str | os.PathLike, input_shape=None):
    """(spec data, its Report): the spec checked against the model layer by layer."""
    if input_shape is not None:  # '3x512x512', (3, 512, 512) or [4096], bounded as a spec's input
        from ..spec import parse_shape

        input_shape = parse_shape(list(input_shape) if isinstance(input_shape, tuple) else input_shape, "input_shape")
    loaded = load_model(path, input_shape)
    walk = OnnxImport(loaded)
    walk.run()
    spec = walk.spec()
    report = _analyze(spec, loaded.file)
    _check(report, walk.expected, loaded.file)
    return spec, report


def spec_from_onnx(path: str | os.PathLike, input_shape=None) -> dict:
    """The spec data of an ONNX file (name, input, batch, layers with type, arguments and
    ``inputs``; output), as a YAML spec loads to. ``input_shape`` (C, H, W), (F,) or '3x512x512'
    fixes a dynamic input (or replaces a static one). Raises archcalc.errors.SpecError, one line naming the node, for an op archcalc
    cannot express or a malformed file."""
    return import_onnx(path, input_shape)[0]


def analyze_onnx(path: str | os.PathLike, input_shape=None, batch: int | None = None):
    """The Report of an ONNX file, as archcalc.analyze gives for a spec."""
    spec, report = import_onnx(path, input_shape)
    if batch is not None and batch != spec["batch"]:
        report = _analyze(spec, str(path), batch)
    return report
