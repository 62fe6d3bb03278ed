"""A torch.export program (an ``ExportedProgram``: loaded from a ``.pt2`` file, or exported where
torch.fx cannot trace) -> the layers of an imported net (archcalc.importing.layout.ImportedNet),
each ATen op read through archcalc.layers.imports.aten_ops.

Names follow the module tree as the fx importer's do: an op inside a module the fx tables keep
whole (``nn.Conv2d``, ``nn.ReLU``; read from the node's ``nn_module_stack``) is named after the
module's path, a module called several times gives ``relu1``, ``relu2``, then ``relu``; any other
op is named after its node in the innermost module (``layer1.0.add``). Parameters and buffers
come from the graph signature: every layer's weights must be the program's parameters (running
statistics its buffers), each read by one layer, and every tensor the program holds must be
read, or the import stops (``--partial``: listed as not counted). Shapes come from each node's
``meta['val']``; the written spec's are checked against them (importing.check)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch
import torch.fx as fx

from ..importing.layout import Entry, ImportedNet
from ..layers.imports import aten_ops, torch_ops
from ..layers.imports.aten_ops import Weight
from ..layers.imports.calls import Alias, OpCall, TensorArg, Unsupported
from .aten_program import Program, module_class_key, op_key, static
from .fx_trace import ImportError_, source_line
from .imported import MultiOutput as _Multi, Uncounted as _Uncounted


class UnsupportedAtenOp(ImportError_):
    pass


@dataclass(frozen=True)
class _Folded:
    """A channels-last map viewed with its batch and spatial axes as one, as run_decompositions()
    writes a linear layer on it (view N x H x W x C as (N*H*W) x C, addmm, view back): what
    produces the map, and the map's shape (batch first). Ops on it are read as ops on the map."""

    source: object
    shape: tuple[int, ...]


def _base_name(node: fx.Node) -> str:
    """A node's name as the fx importer would have it: add__1 (aten.add_) -> add,
    upsample_bilinear2d (F.interpolate) -> interpolate."""
    base = re.sub(r"_\d+$", "", node.name).rstrip("_") or node.name
    return aten_ops.FX_NODE_NAMES.get(base, base)


class _AtenImporter:
    def __init__(self, program: Program, partial: bool):
        self.program = program
        self.partial = partial
        self.entries: list[Entry] = []
        self.producer: dict[fx.Node, object] = {}  # node -> entry index, None (input), Weight, _Multi, _Uncounted
        self.not_counted: list[str] = []
        self.read: dict[str, str] = {}  # state_dict name -> the layer reading it
        self.held_by_module: set[str] = set()  # module paths named by a layer: all their tensors counted there
        self.calls: dict[str, list[str]] = {}  # module path -> its calls' stack keys, in order
        self.named_calls: set[str] = set()  # stack keys of module calls that have the module's name
        self.scope_classes: dict[tuple[str, ...], str] = {}
        self.under: dict[str, list[int]] = {}  # module path -> [parameters, buffer elements] under it
        for name, (kind, size) in program.sizes.items():
            for prefix in _prefixes(name):
                self.under.setdefault(prefix, [0, 0])[0 if kind == "parameter" else 1] += size
        for node in program.graph.nodes:
            for key, (path, kind) in (node.meta.get("nn_module_stack") or {}).items():
                if path:
                    self.scope_classes.setdefault(tuple(path.split(".")), module_class_key(kind))
                    keys = self.calls.setdefault(path, [])
                    if key not in keys:
                        keys.append(key)

    # -- nodes ---------------------------------------------------------------------------------
    def run(self) -> list[tuple[int, str]]:
        outputs: list[tuple[int, str]] = []
        inputs = self.program.user_inputs
        if len(inputs) != 1:
            raise ImportError_(f"the program takes {len(inputs)} tensors; archcalc imports models of one input")
        for node in self.program.graph.nodes:
            value = node.meta.get("val")
            if node.op == "placeholder":
                if node.name in self.program.weights:
                    kind, name = self.program.weights[node.name]
                    shape = tuple(int(s) for s in value.shape) if isinstance(value, torch.Tensor) else ()
                    self.producer[node] = Weight(name, shape, shape, kind)
                else:
                    static(value, "the program's input")
                    self.producer[node] = None
            elif node.op == "output":
                outputs = self._outputs(node)
            elif node.op == "call_function":
                self._call(node, value)
        return outputs

    def _call(self, node: fx.Node, value) -> None:
        key = op_key(node.target)
        if key == "operator.getitem" and isinstance(self.producer.get(node.args[0]), _Uncounted):
            self.producer[node] = self.producer[node.args[0]]  # --partial: a part of an op left out
            return
        if key == "operator.getitem" and isinstance(self.producer.get(node.args[0]), _Multi):
            if isinstance(value, torch.Tensor) and (node.users or node.name in self.program.user_outputs):
                self._convert(self.producer[node.args[0]].node, static(value, node.name), part=node.args[1],
                              name_node=node)
            return
        if isinstance(value, torch.Tensor):
            self._convert(node, static(value, node.name))
        elif isinstance(value, (tuple, list)) and any(isinstance(v, torch.Tensor) for v in value):
            if key in aten_ops.MULTI_OUTPUT:
                self.producer[node] = _Multi(node)
            else:
                self._unsupported(node, "returns several tensors" if key in aten_ops.ATEN_OPS
                                  else "archcalc has no layer type for it", shape_kept=False)
        elif any(isinstance(a, fx.Node) and a in self.producer for a in node.all_input_nodes) and node.users:
            self._unsupported(node, "archcalc has no layer type for it", shape_kept=False)
        # else: an assertion or a size computation (no tensor, or read only as a number)

    # -- where a node is ---------------------------------------------------------------------------
    def _table_module(self, node: fx.Node):
        """(stack key, path) of the outermost module in the node's stack that the fx tables read
        whole (the call the op belongs to), or None for a functional op."""
        for key, (path, kind) in (node.meta.get("nn_module_stack") or {}).items():
            if path and module_class_key(kind) in torch_ops.MODULES:
                return key, path
        return None

    @staticmethod
    def _scope(node: fx.Node) -> str:
        stack = node.meta.get("nn_module_stack") or {}
        return next(reversed(stack.values()))[0] if stack else ""

    def _origin(self, node: fx.Node) -> str:
        line = source_line(node)
        return f"{op_key(node.target)} at {self._scope(node) or 'the top level'}{f' ({line})' if line else ''}"

    def _unsupported(self, node: fx.Node, reason: str, shape_kept: bool) -> None:
        message = f"{self._origin(node)}: {reason}"
        if not self.partial:
            raise UnsupportedAtenOp(f"unsupported operation {message}; `--partial` analyses the rest")
        self.not_counted.append(message)
        tensors = [a for a in node.all_input_nodes if a in self.producer and not isinstance(self.producer[a], Weight)]
        if shape_kept and tensors:
            self.producer[node] = self.producer[tensors[0]]
        else:
            before = self.producer[tensors[0]] if tensors else None
            self.producer[node] = before if isinstance(before, _Uncounted) else _Uncounted(before)

    # -- reading one op ----------------------------------------------------------------------------
    def _arguments(self, node: fx.Node):
        """Every schema argument by name (defaults filled in), activations as TensorArg, the
        program's tensors as Weight; the activation nodes; a problem, if any."""
        tensors: list[fx.Node] = []
        problems: list[str] = []

        def convert(arg):
            if isinstance(arg, fx.Node):
                source = self.producer.get(arg, _Missing)
                if isinstance(source, Weight):
                    return source
                if source is not _Missing:
                    if isinstance(source, _Multi):
                        return problems.append("reads all the tensors of a call that returns several")
                    if isinstance(source, _Uncounted):
                        problems.append("reads the output of an operation not counted")
                    tensors.append(arg)
                    shape = source.shape if isinstance(source, _Folded) else getattr(arg.meta.get("val"), "shape", ())
                    return TensorArg(len(tensors) - 1, tuple(shape[1:]))
                value = arg.meta.get("val")
                return int(value) if isinstance(value, torch.SymInt) else value
            if isinstance(arg, (list, tuple)):
                return type(arg)(convert(a) for a in arg)
            return arg

        schema = getattr(node.target, "_schema", None)
        names = [a.name for a in schema.arguments] if schema is not None else [f"arg{i}" for i in range(len(node.args))]
        kwargs = {}
        for i, name in enumerate(names):
            if i < len(node.args):
                kwargs[name] = convert(node.args[i])
            elif name in node.kwargs:
                kwargs[name] = convert(node.kwargs[name])
            elif schema is not None and schema.arguments[i].has_default_value():
                kwargs[name] = schema.arguments[i].default_value
        return kwargs, tensors, problems

    def _convert(self, node: fx.Node, value: torch.Tensor, part=None, name_node=None) -> None:
        name_node = name_node or node
        key = op_key(node.target)
        kwargs, tensors, problems = self._arguments(node)
        out = tuple(int(s) for s in value.shape[1:])
        weights = [v for v in _flat(kwargs.values()) if isinstance(v, Weight)]
        if key in aten_ops.WEIGHT_VIEWS and weights and not tensors:
            weight = weights[0]
            self.producer[name_node] = Weight(weight.name, tuple(int(s) for s in value.shape), weight.stored, weight.kind)
            return
        if not tensors:
            return self._unsupported(name_node, "computes a tensor from the program's parameters or constants alone",
                                     shape_kept=False)
        if problems:
            return self._unsupported(name_node, problems[0], shape_kept=False)
        if self._fold(name_node, key, tensors, value):
            return
        folded = next((f for f in (self.producer[t] for t in tensors) if isinstance(f, _Folded)), None)
        if folded is not None:
            if len(value.shape) != 2 or value.shape[0] != math.prod(folded.shape[:-1]):
                return self._unsupported(name_node, f"reads a channels-last map viewed as {list(folded.shape)} -> "
                                         f"{list(tensors[0].meta['val'].shape)} and gives {list(value.shape)}",
                                         shape_kept=False)
            out = tuple(folded.shape[1:-1]) + (int(value.shape[-1]),)
        elif value.shape[:1] != tensors[0].meta["val"].shape[:1]:
            before, after = list(tensors[0].meta["val"].shape), list(value.shape)
            return self._unsupported(name_node, f"views the batch dimension with others ({before} as {after}; "
                                     "archcalc keeps the batch first)", shape_kept=False)
        rule, module_rule = self._rule(node, key)
        kept = out == tuple(tensors[0].meta["val"].shape[1:])
        if rule is None:
            return self._unsupported(name_node, "archcalc has no layer type for it", shape_kept=kept)
        if weights and key not in aten_ops.READS_WEIGHTS:
            return self._unsupported(name_node, f"reads the {weights[0].kind} '{weights[0].name}' directly",
                                     shape_kept=False)
        for weight in weights:
            if weight.name in self.read:
                return self._unsupported(name_node, f"reads '{weight.name}', which {self.read[weight.name]} reads "
                                         "as well (weight sharing)", shape_kept=False)
        try:
            result = rule(OpCall(None, (), kwargs, out, part))
        except Unsupported as exc:
            return self._unsupported(name_node, str(exc), shape_kept=False)
        if isinstance(result, Alias):
            self.producer[name_node] = self.producer[tensors[result.index]]
            return
        # a layer read by its module's rules has the traced shape of the module's inner layout: not checked
        self._emit(node, name_node, result, tensors, None if module_rule else out, weights, part)
        if folded is not None:
            self.producer[name_node] = _Folded(self.producer[name_node], folded.shape[:1] + out)

    def _fold(self, name_node: fx.Node, key: str, tensors: list, value) -> bool:
        """A view of a channels-last map (N x ... x C) as (N*...) x C is the map folded (``_Folded``);
        the view of a folded map back to N x ... x C' is that map again."""
        if key not in aten_ops.FOLDING_VIEWS or len(tensors) != 1:
            return False
        source, before, after = self.producer[tensors[0]], tuple(tensors[0].meta["val"].shape), tuple(value.shape)
        if isinstance(source, _Folded):
            if after != source.shape:
                return False
            self.producer[name_node] = source.source
            return True
        if len(before) > 2 and after == (math.prod(before[:-1]), before[-1]) and after[0] != before[0]:
            self.producer[name_node] = _Folded(source, before)
            return True
        return False

    def _rule(self, node: fx.Node, key: str):
        """The op's rule, and whether it is its module's (``MODULE_OPS``: inside a module read whole)."""
        call = self._table_module(node)
        rules = aten_ops.MODULE_OPS.get(self.scope_classes.get(tuple(call[1].split("."))), {}) if call else {}
        return (rules[key], True) if key in rules else (aten_ops.ATEN_OPS.get(key), False)

    def _emit(self, node, name_node, emits, tensors, out, weights, part) -> None:
        scope, local, is_module, expect = self._name(node, name_node, part, bool(weights))
        functional = self._table_module(node) is None  # as fx has it: a module call's layers are not functional
        origin = self._origin(node)
        first = len(self.entries)
        for k, emit in enumerate(emits):
            if k == 0 or emit.inputs is not None:
                picks = emit.inputs if emit.inputs is not None else range(len(tensors))
                inputs = [self.producer[tensors[i]] for i in picks]
                inputs = [i.source if isinstance(i, _Folded) else i for i in inputs]
            else:
                inputs = [len(self.entries) - 1]
            last = k == len(emits) - 1
            self.entries.append(Entry(
                scope=scope, local=(emit.name or local) if k == 0 else f"{local}_{emit.suffix or k}", type=emit.type,
                args=emit.args,
                inputs=inputs, functional=functional, shape=out if last else None, expect=expect if k == 0 else None,
                origin=origin, module=is_module and k == 0))
        for weight in weights:
            self.read[weight.name] = ".".join((*scope, local))
        self.producer[name_node] = first + len(emits) - 1

    def _name(self, node: fx.Node, name_node: fx.Node, part=None, reads_weights: bool = False):
        """(scope, local name, whether it names a module, the module's (parameters, buffers)); a
        part of a call that returns several is named after the call (chunk0, chunk1)."""
        call = self._table_module(node)
        if call is None:
            scope = tuple(p for p in self._scope(node).split(".") if p)
            return scope, _base_name(name_node) if part is None else f"{_base_name(node)}{part}", False, None
        key, path = call
        parts = tuple(path.split("."))
        holds_parameters = self.under.get(path, (0, 0))[0] > 0
        if key in self.named_calls or (holds_parameters and not reads_weights):
            # another layer of one module call (timm's BatchNormAct2d: its act; Conv2dSame: its pad):
            # named after the child module or the op; the layer reading the weights carries the module's name
            inner = self._scope(node)
            suffix = inner[len(path) + 1:] if inner.startswith(path + ".") else _base_name(name_node)
            return parts[:-1], f"{parts[-1]}_{suffix.replace('.', '_')}", False, None
        self.named_calls.add(key)
        keys = self.calls[path]
        count = keys.index(key) + 1
        expect = self._held(path)
        self.held_by_module.add(path)
        if count < len(keys):  # an earlier call of a module called again: relu1, relu2, then relu
            return parts[:-1], f"{parts[-1]}{count}", False, expect
        return parts[:-1], parts[-1], True, expect

    def _held(self, path: str) -> tuple[int, int]:
        """(parameters, buffer elements) of the tensors under a module path."""
        params, buffers = self.under.get(path, (0, 0))
        return params, buffers

    def _outputs(self, node: fx.Node) -> list[tuple[int, str]]:
        wanted = set(self.program.user_outputs)
        result = []
        for arg in _flat(node.args):
            if not isinstance(arg, fx.Node) or (wanted and arg.name not in wanted):
                continue
            source = self.producer.get(arg)
            if isinstance(source, _Uncounted):
                source = source.before
            if isinstance(source, int) and (source, "all") not in result:
                result.append((source, "all"))
        if not result:
            raise ImportError_("the program's output is not computed by any layer archcalc counts")
        return result

    def unread(self) -> list[str]:
        """The program's tensors no layer reads, by the outermost module none of whose tensors is read."""
        missed = {name: kind_size for name, kind_size in self.program.sizes.items()
                  if name not in self.read and not any(p in self.held_by_module for p in _prefixes(name))}
        missed_under: dict[str, list[int]] = {}
        for name, (kind, size) in missed.items():
            for prefix in _prefixes(name):
                missed_under.setdefault(prefix, [0, 0])[0 if kind == "parameter" else 1] += size
        owners: dict[str, list[int]] = {}
        for name, (kind, size) in missed.items():
            owner = next((p for p in _prefixes(name) if missed_under[p] == self.under[p]), name.rpartition(".")[0])
            owners.setdefault(owner, [0, 0])[0 if kind == "parameter" else 1] += size
        return [f"{owner or 'the top level'}: forward never reads its tensors [{p + b:,} parameters and buffers "
                "not counted]" for owner, (p, b) in owners.items()]


def _prefixes(name: str):
    """The module paths above a state_dict name: 'a.b.weight' -> 'a', 'a.b'."""
    parts = name.split(".")
    return (".".join(parts[:k]) for k in range(1, len(parts)))


class _MissingType:
    pass


_Missing = _MissingType()


def _flat(values):
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from _flat(value)
        else:
            yield value


def read_program(program, name: str, partial: bool = False) -> ImportedNet:
    """The imported net of an ExportedProgram (one tensor in, fixed sizes)."""
    wrapped = Program(program)
    importer = _AtenImporter(wrapped, partial)
    outputs = importer.run()
    for message in importer.unread():
        if not partial:
            raise UnsupportedAtenOp(f"module {message}; `--partial` analyses the rest")
        importer.not_counted.append(message)
    example = next(n for n in wrapped.graph.nodes if n.op == "placeholder" and n.name in wrapped.user_inputs)
    shape = tuple(int(s) for s in example.meta["val"].shape[1:])
    return ImportedNet(name=name, input_shape=shape, entries=importer.entries, outputs=outputs,
                       scope_classes=importer.scope_classes, not_counted=importer.not_counted)
