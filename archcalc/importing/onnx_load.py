"""Reading an ONNX file as untrusted input: a bounded read, protobuf parsing, the graph's
references, external data confined to the model's directory, onnx's checker, and shapes from
onnx.shape_inference with the input shape fixed. Every failure is one SpecError line naming the
file (and the node where there is one). The ``onnx`` package is imported here, lazily."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SpecError, UsageError, clip

# protobuf cannot parse a message of 2 GiB or more; a bigger model keeps its weights in external
# data files, of which only the tensors' shapes are read
MAX_MODEL_BYTES = (1 << 31) - 1
MAX_NODES = 100_000  # the spec's own limit on layers
# a constant whose value the import reads (a shape, pads, scales) or computes (a Shape chain)
MAX_VALUE_ELEMENTS = 1 << 16
MAX_EXTERNAL_VALUE_BYTES = 1 << 24


def require_onnx():
    try:
        import onnx
    except ImportError:
        raise UsageError("reading an ONNX file needs the onnx package: pip install 'archcalc[onnx]'") from None
    return onnx


@dataclass
class LoadedModel:
    """A checked model with its shapes: ``shapes`` maps each tensor with a fully known shape to
    it (batch first); ``input_name`` is the net's one input."""

    file: str
    directory: Path
    model: Any
    shapes: dict[str, tuple[int, ...]]
    input_name: str
    input_shape: tuple[int, ...]
    opset: int
    # initializers held by shape only: large ones (their data dropped), and external ones (the
    # tensor kept, whose data a small value is read from when the import needs it)
    weights: dict[str, tuple[tuple[int, ...], Any]]


def _read_bytes(path: str) -> bytes:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SpecError(f"cannot read the model: {exc.strerror or exc}", file=path) from None
    if not stat.S_ISREG(info.st_mode):
        raise SpecError("the model must be a regular file", file=path)
    if info.st_size > MAX_MODEL_BYTES:
        raise SpecError(f"the model is {info.st_size:,} bytes; at most {MAX_MODEL_BYTES:,} (larger models keep "
                        "their weights in external data files)", file=path)
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_MODEL_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"cannot read the model: {exc.strerror or exc}", file=path) from None


def _external_location(tensor, directory: Path, file: str) -> Path:
    """The file an external tensor's data is in, which must lie inside the model's directory."""
    entries = {entry.key: entry.value for entry in tensor.external_data}
    location = entries.get("location", "")
    candidate = Path(location)
    resolved = (directory / candidate).resolve()
    if not location or candidate.is_absolute() or ".." in candidate.parts or not resolved.is_relative_to(directory):
        raise SpecError(f"tensor '{clip(tensor.name)}' keeps its data in '{clip(location)}', outside the model's "
                        "directory; archcalc reads external data only beside the model", file=file)
    return resolved


def _tensors(graph):
    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t


def _check_references(graph, file: str) -> None:
    """Every node input is produced before it: by the graph's inputs, an initializer or an
    earlier node (onnx's checker says the same in a paragraph)."""
    available = {value.name for value in graph.input} | {tensor.name for tensor in graph.initializer} | {""}
    for index, node in enumerate(graph.node):
        for name in node.input:
            if name not in available:
                raise SpecError(f"node '{clip(node.name or f'#{index}')}' ({clip(node.op_type)}) reads '{clip(name)}', "
                                "which no initializer, input or earlier node provides (a missing initializer?)",
                                file=file)
        available.update(node.output)
    for value in graph.output:
        if value.name not in available:
            raise SpecError(f"the graph's output '{clip(value.name)}' is produced by no node", file=file)


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return clip(lines[0] if lines else type(exc).__name__, 300)


def parse_model(path: str):
    onnx = require_onnx()
    from google.protobuf.message import DecodeError

    data = _read_bytes(path)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise SpecError(f"not an ONNX model (the file does not parse: {_first_line(exc)}; truncated?)", file=path) from None
    if not model.ir_version or not model.HasField("graph") or not model.graph.node:
        raise SpecError("not an ONNX model (no IR version or no graph nodes)", file=path)
    if len(model.graph.node) > MAX_NODES:
        raise SpecError(f"the graph has {len(model.graph.node):,} nodes; at most {MAX_NODES:,}", file=path)
    return model


def load_model(path: str | os.PathLike, input_shape: tuple[int, ...] | None = None) -> LoadedModel:
    onnx = require_onnx()
    file = str(path)
    model = parse_model(file)
    directory = Path(file).resolve().parent
    graph = model.graph
    _check_references(graph, file)
    for tensor in _tensors(graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            _external_location(tensor, directory, file)
    weights = _shapes_only(model, onnx)
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx.checker.ValidationError and the C++ checker's errors
        raise SpecError(f"invalid ONNX model: {_first_line(exc)}", file=file) from None
    input_name, shape = _fix_input(graph, input_shape, weights, file)
    # shapes recorded at export time would contradict the ones a new input shape gives
    del graph.value_info[:]
    if input_shape is not None:
        for value in graph.output:
            value.type.tensor_type.ClearField("shape")
    try:
        inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except Exception as exc:  # onnx.shape_inference.InferenceError
        raise SpecError(f"ONNX shape inference fails: {_first_line(exc)}", file=file) from None
    opset = max((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), default=1)
    return LoadedModel(file, directory, model, _known_shapes(inferred.graph), input_name, shape, opset, weights)


def _shapes_only(model, onnx) -> dict[str, tuple[tuple[int, ...], Any]]:
    """Large and external initializers become typed graph inputs, their data dropped: only their
    shapes matter (parameter counts), and the checker and shape inference then copy kilobytes,
    not the weights (VGG-11: 22 s -> under 1 s)."""
    graph = model.graph
    kept, weights = [], {}
    listed = {value.name for value in graph.input}
    for tensor in graph.initializer:
        count = 1
        for dim in tensor.dims:
            count *= dim
        if count <= MAX_VALUE_ELEMENTS and tensor.data_location != onnx.TensorProto.EXTERNAL:
            kept.append(tensor)
            continue
        external = None
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            external = onnx.TensorProto()
            external.CopyFrom(tensor)
        weights[tensor.name] = (tuple(tensor.dims), external)
        if tensor.name not in listed:
            graph.input.append(onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, list(tensor.dims)))
    if weights:
        del graph.initializer[:]
        graph.initializer.extend(kept)
    return weights


def _dims(value) -> list[int | None]:
    if not value.type.HasField("tensor_type") or not value.type.tensor_type.HasField("shape"):
        return []
    return [dim.dim_value if dim.HasField("dim_value") else None for dim in value.type.tensor_type.shape.dim]


def _known_shapes(graph) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for value in (*graph.input, *graph.value_info, *graph.output):
        dims = _dims(value)
        if value.type.HasField("tensor_type") and value.type.tensor_type.HasField("shape") and None not in dims:
            shapes[value.name] = tuple(dims)
    return shapes


def _fix_input(graph, input_shape, weights, file: str) -> tuple[str, tuple[int, ...]]:
    """The net's one input (an old exporter also lists initializers as inputs), its shape made
    static: ``input_shape`` (without the batch) replaces the model's; a free batch becomes 1."""
    initializers = {tensor.name for tensor in graph.initializer} | set(weights)
    inputs = [value for value in graph.input if value.name not in initializers]
    if len(inputs) != 1:
        raise SpecError(f"the model has {len(inputs)} inputs ({', '.join(clip(v.name) for v in inputs[:5])}); "
                        "archcalc imports nets with one input", file=file)
    value = inputs[0]
    dims = _dims(value)
    if len(dims) not in (2, 3, 4, 5):
        raise SpecError(f"input '{clip(value.name)}' is {len(dims)}-d; archcalc takes N x F vectors and N x C x L, "
                        "N x C x H x W or N x C x T x H x W maps", file=file)
    if input_shape is not None:
        if len(input_shape) != len(dims) - 1:
            raise UsageError(f"the input shape {'x'.join(map(str, input_shape))} does not fit the model's "
                             f"{len(dims)}-d input '{clip(value.name)}'")
        dims = [dims[0], *input_shape]
    elif None in dims[1:]:
        written = "x".join("?" if d is None else str(d) for d in dims)
        raise SpecError(f"input '{clip(value.name)}' has a dynamic shape ({written}, batch first): give the input "
                        "shape (--input CxHxW)", file=file)
    dims[0] = dims[0] or 1
    shape = value.type.tensor_type.shape
    for dim, size in zip(shape.dim, dims):
        dim.Clear()
        dim.dim_value = size
    return value.name, tuple(dims)


def tensor_value(tensor, loaded: LoadedModel):
    """An initializer's or Constant's value as a numpy array (bounded; external data only from
    inside the model's directory)."""
    onnx = require_onnx()
    from onnx import numpy_helper

    count = 1
    for dim in tensor.dims:
        count *= dim
    if count > MAX_VALUE_ELEMENTS:
        raise SpecError(f"tensor '{clip(tensor.name)}' has {count:,} elements; archcalc reads the values of at most "
                        f"{MAX_VALUE_ELEMENTS:,}", file=loaded.file)
    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        location = _external_location(tensor, loaded.directory, loaded.file)
        entries = {entry.key: entry.value for entry in tensor.external_data}
        try:
            offset = int(entries.get("offset", "0") or 0)
            # without a length onnx reads the file to its end: bound what that would be
            length = int(entries["length"]) if entries.get("length") else location.stat().st_size - offset
        except (ValueError, OSError):
            length = -1
        if not location.is_file() or not 0 <= length <= MAX_EXTERNAL_VALUE_BYTES:
            raise SpecError(f"tensor '{clip(tensor.name)}': its external data is missing, unreadable or over "
                            f"{MAX_EXTERNAL_VALUE_BYTES:,} bytes", file=loaded.file)
        copy = onnx.TensorProto()
        copy.CopyFrom(tensor)
        try:
            from onnx.external_data_helper import load_external_data_for_tensor

            load_external_data_for_tensor(copy, str(loaded.directory))
        except Exception as exc:
            raise SpecError(f"tensor '{clip(tensor.name)}': cannot read its external data: {_first_line(exc)}",
                            file=loaded.file) from None
        tensor = copy
    try:
        return numpy_helper.to_array(tensor)
    except Exception as exc:
        raise SpecError(f"tensor '{clip(tensor.name)}' cannot be read: {_first_line(exc)}", file=loaded.file) from None
