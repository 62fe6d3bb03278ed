"""Nodes whose inputs are all known before the net runs, computed at import time: exports wrap a
Reshape's target or a Pad's pads in Constant, Shape, Gather, Unsqueeze, Concat, Cast chains. Each
op here is numpy over small integer tensors (every result is bounded); the values feed the mapped
layers' arguments and are never layers themselves. Keyed by ONNX op type."""

from __future__ import annotations

from typing import Any, Callable

from ..errors import SpecError
from .onnx_load import MAX_VALUE_ELEMENTS


def attribute(node, name: str, default: Any = None) -> Any:
    from onnx import helper

    for entry in node.attribute:
        if entry.name == name:
            value = helper.get_attribute_value(entry)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _axes(node, values: list, index: int) -> list[int] | None:
    if len(values) > index and values[index] is not None:
        return [int(a) for a in values[index].reshape(-1)]
    axes = attribute(node, "axes")
    return list(axes) if axes is not None else None


def _constant(node, values, read_tensor):
    import numpy as np

    for name, kind in (("value", "tensor"), ("value_int", np.int64), ("value_ints", np.int64),
                       ("value_float", np.float32), ("value_floats", np.float32)):
        for entry in node.attribute:
            if entry.name == name:
                if kind == "tensor":
                    return [read_tensor(entry.t)]
                return [np.array(attribute(node, name), dtype=kind)]
    raise ValueError("a Constant with no supported value (value, value_int(s), value_float(s))")


def _slice(node, values, read_tensor):
    import numpy as np

    data = values[0]
    if len(values) > 1:
        starts, ends = (values[1].reshape(-1).tolist(), values[2].reshape(-1).tolist())
        axes = values[3].reshape(-1).tolist() if len(values) > 3 and values[3] is not None else list(range(len(starts)))
        steps = values[4].reshape(-1).tolist() if len(values) > 4 and values[4] is not None else [1] * len(starts)
    else:
        starts, ends = list(attribute(node, "starts")), list(attribute(node, "ends"))
        axes, steps = list(attribute(node, "axes", range(len(starts)))), [1] * len(starts)
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        index[int(axis)] = slice(int(start), int(end), int(step))
    return [np.asarray(data[tuple(index)])]


def _binary(function: Callable) -> Callable:
    def compute(node, values, read_tensor):
        import numpy as np

        _bounded(np.broadcast_shapes(values[0].shape, values[1].shape))
        return [function(values[0], values[1])]
    return compute


def _bounded(shape) -> None:
    count = 1
    for dim in shape:
        count *= int(dim)
    if count > MAX_VALUE_ELEMENTS:
        raise ValueError(f"a result of {count:,} elements")


def _div(a, b):
    import numpy as np

    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
        return (np.trunc(a / b)).astype(a.dtype)  # ONNX integer division truncates
    return a / b


def _cast(node, values, read_tensor):
    from onnx import helper

    return [values[0].astype(helper.tensor_dtype_to_np_dtype(attribute(node, "to")))]


def _constant_of_shape(node, values, read_tensor):
    import numpy as np

    shape = [int(d) for d in values[0].reshape(-1)]
    count = int(np.prod(shape)) if shape else 1
    if count > MAX_VALUE_ELEMENTS or min(shape, default=0) < 0:
        raise ValueError(f"ConstantOfShape {shape} is too large")
    fill = attribute(node, "value")
    fill_value = read_tensor(fill).reshape(-1)[0] if fill is not None else np.float32(0)
    return [np.full(shape, fill_value)]


def _unsqueeze(node, values, read_tensor):
    import numpy as np

    result = values[0]
    axes = _axes(node, values, 1)
    rank = result.ndim + len(axes)
    for axis in sorted(a + rank if a < 0 else a for a in axes):
        result = np.expand_dims(result, axis)
    return [result]


def _squeeze(node, values, read_tensor):
    import numpy as np

    axes = _axes(node, values, 1)
    return [np.squeeze(values[0], axis=tuple(axes) if axes is not None else None)]


def _reshape(node, values, read_tensor):
    target = [int(d) for d in values[1].reshape(-1)]
    target = [values[0].shape[i] if d == 0 else d for i, d in enumerate(target)]
    return [values[0].reshape(target)]


def _range(node, values, read_tensor):
    import numpy as np

    start, limit, delta = (v.reshape(-1)[0] for v in values[:3])
    if delta == 0 or abs((limit - start) / delta) > MAX_VALUE_ELEMENTS:
        raise ValueError("Range is empty-stepped or too long")
    return [np.arange(start, limit, delta)]


def _gather(node, values, read_tensor):
    import numpy as np

    data, indices = values[0], values[1]
    axis = attribute(node, "axis", 0)
    _bounded((indices.size, data.size // max(data.shape[axis], 1)))
    return [np.take(data, indices, axis=axis)]


def _concat(node, values, read_tensor):
    import numpy as np

    return [np.concatenate([v.reshape(1) if v.ndim == 0 else v for v in values], axis=attribute(node, "axis", 0))]


def _expand(node, values, read_tensor):
    import numpy as np

    shape = np.broadcast_shapes(values[0].shape, tuple(int(d) for d in values[1].reshape(-1)))
    _bounded(shape)
    return [np.broadcast_to(values[0], shape).copy()]


def _elementwise(name: str) -> Callable:
    def compute(node, values, read_tensor):
        import numpy as np

        return [getattr(np, name)(values[0])]
    return compute


FOLDED_OPS: dict[str, Callable] = {
    "Constant": _constant,
    "Identity": lambda node, values, read_tensor: [values[0]],
    "Cast": _cast,
    "CastLike": lambda node, values, read_tensor: [values[0] if values[1] is None else values[0].astype(values[1].dtype)],
    "Expand": _expand,
    "Gather": _gather,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "Slice": _slice,
    "Add": _binary(lambda a, b: a + b),
    "Sub": _binary(lambda a, b: a - b),
    "Mul": _binary(lambda a, b: a * b),
    "Div": _binary(_div),
    "Neg": _elementwise("negative"),
    "Floor": _elementwise("floor"),
    "Ceil": _elementwise("ceil"),
    "Sqrt": _elementwise("sqrt"),
    "ConstantOfShape": _constant_of_shape,
    "Reshape": _reshape,
    "Range": _range,
}

# ops computed when only their first inputs are known: CastLike(constant, x) takes only x's type
# (the dynamo exporter casts scalars like activations), and the value is what the import reads
LEADING_CONSTANTS = {"CastLike": 1}


def fold(node, values: list, read_tensor: Callable, file: str, label: str) -> list:
    """The outputs of ``node`` computed from its constant inputs (None for an absent optional
    input); each result bounded to MAX_VALUE_ELEMENTS."""
    try:
        results = FOLDED_OPS[node.op_type](node, values, read_tensor)
    except SpecError:
        raise
    except Exception as exc:  # numpy's errors on malformed constants: one line, not a traceback
        raise SpecError(f"node {label}: cannot compute it from its constant inputs ({type(exc).__name__}: "
                        f"{str(exc)[:200]})", file=file) from None
    for result in results:
        if result.size > MAX_VALUE_ELEMENTS:
            raise SpecError(f"node {label}: a constant of {result.size:,} elements; at most {MAX_VALUE_ELEMENTS:,}",
                            file=file)
    return results
