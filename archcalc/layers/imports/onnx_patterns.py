"""ONNX patterns that exporters spread over several nodes and archcalc reads as one layer or a
few: GELU written with Erf (x * 0.5 * (1 + erf(x / sqrt 2)), in any association of the product),
and a split written as a sequence (SplitToSequence read by SequenceAt, the dynamo exporter's
torch.chunk / torch.split without its optimiser)."""

from __future__ import annotations

import math

from .onnx_mapping import ANY_RANK, Emit, Mapped, _axis, _map_input

_SQRT2 = math.sqrt(2.0)


def _scalar(op, index: int) -> float | None:
    """Input ``index`` as a number when it is a constant holding one value (any shape of size 1)."""
    if not op.is_constant(index) or op.const_size(index) != 1:
        return None
    return float(op.value(index).reshape(-1)[0])


def _close(value: float | None, target: float) -> bool:
    # the constants are float32 (or float64) renderings of sqrt 2, 1/sqrt 2, 1 and 0.5
    return value is not None and abs(value - target) <= 1e-6 * abs(target)


def _times(op, x: str | None = None) -> tuple[str, float] | None:
    """(the computed operand, the constant factor) of a binary Mul or Div of a computed tensor
    (``x`` when given) by a scalar constant (a Div as a Mul by the reciprocal); None otherwise."""
    if op.op_type not in ("Mul", "Div") or op.input_count() != 2:
        return None
    for tensor, constant in ((0, 1), (1, 0)) if op.op_type == "Mul" else ((0, 1),):
        value = _scalar(op, constant)
        # ``x``: a tensor inside the pattern, not yet computed when the pattern is read
        if value and (op.is_activation(tensor) if x is None else op.input(tensor) == x):
            return op.input(tensor), value if op.op_type == "Mul" else 1 / value
    return None


def _erf_of(op) -> tuple[str, object, object] | None:
    """(x, the Erf, ``op``) when ``op`` is x / sqrt 2 (or x * 1/sqrt 2) read only by an Erf."""
    scaled = _times(op)
    erf = op.sole_consumer(0)
    if scaled is None or not _close(scaled[1], 1 / _SQRT2) or erf is None or erf.op_type != "Erf":
        return None
    return scaled[0], erf, op


def _erf_gelu(op) -> Mapped | None:
    """GELU as TorchScript, the dynamo exporter and plain code write it: Erf(x / sqrt 2) + 1 times
    x and 0.5 in any order (Mul(Mul(x, a), 0.5), Mul(x, Mul(0.5, a)), Mul(Mul(x, 0.5), a)). ``op``
    is the pattern's first node in the graph: the scaling x / sqrt 2, or a Mul(x, 0.5) before it.
    The intermediate tensors must have no other reader."""
    x = _times(op)[0]
    readers = op.readers(x)
    halves = {reader.output(0): reader for reader in readers if _close((_times(reader, x) or (x, 0))[1], 0.5)}
    for found in filter(None, map(_erf_of, readers)):
        erf = found[1]
        add = erf.sole_consumer(0)
        if add is None or add.op_type != "Add" or add.input_count() != 2 or not any(
                _close(_scalar(add, i), 1.0) for i in (0, 1)):
            continue
        nodes, has_x, has_half, current = [erf, add], False, False, add
        while not (has_x and has_half):
            mul = current.sole_consumer(0)
            if mul is None or mul.op_type != "Mul" or mul.input_count() != 2:
                break
            other = mul.input(1) if mul.input(0) == current.output(0) else mul.input(0)
            factor = _times(mul, current.output(0))
            half = halves.get(other)
            if other == x and not has_x:
                has_x = True
            elif factor is not None and _close(factor[1], 0.5) and not has_half:
                has_half = True
            elif half is not None and not (has_x or has_half) and half.sole_consumer(0) is not None and \
                    half.sole_consumer(0).node is mul.node:  # Mul(Mul(x, 0.5), a)
                has_x = has_half = True
                nodes.append(half)
            else:
                break
            nodes.append(mul)
            current = mul
        nodes.append(found[2])
        if has_x and has_half and any(view.node is op.node for view in nodes):
            return Mapped([Emit("gelu", {"approximate": "none"}, [x], current.output(0))],
                          covers=[view for view in nodes if view.node is not op.node])
    return None


def scaled(op) -> Mapped | None:
    """Mul or Div of a computed tensor by a constant: the first node of an Erf-written GELU, or
    None (the caller's own reading, or its refusal, applies)."""
    return _erf_gelu(op) if _times(op) is not None else None


def divide(op) -> Mapped:
    """Div of a computed tensor: only as x / sqrt 2 inside an Erf-written GELU."""
    _map_input(op, ANY_RANK)
    mapped = scaled(op)
    if mapped is None:
        op.fail("Div of a computed tensor is not a layer archcalc has (only as x / sqrt 2 inside GELU's "
                "x * 0.5 * (1 + erf(x / sqrt 2)), which is one gelu layer)")
    return mapped


def split_to_sequence(op) -> Mapped:
    """SplitToSequence along the channels, each piece read by a SequenceAt of a constant position:
    one ``slice`` per SequenceAt (covered). A split size as a scalar cuts pieces of that size (the
    last smaller); as a vector, those sizes; none, pieces of one channel (keepdims=1 only)."""
    x = _map_input(op, ANY_RANK)
    if _axis(op, op.attr("axis", 0), len(x)) != 1:
        op.fail(f"only a split of the channels (axis 1) is supported, got axis {op.attr('axis', 0)}")
    channels = x[1]
    if op.has_input(1):
        value = op.value(1)
        if value.ndim == 0:
            size = int(value.reshape(-1)[0])
            if size <= 0:
                op.fail(f"split size {size} must be positive")
            sizes = [min(size, channels - start) for start in range(0, channels, size)]
        else:
            sizes = [int(s) for s in value.reshape(-1)]
    elif op.attr("keepdims", 1):
        sizes = [1] * channels
    else:
        op.fail("a split into single channels with keepdims=0 drops the channel axis, which archcalc cannot represent")
    if not sizes or sum(sizes) != channels or min(sizes) <= 0:
        op.fail(f"split sizes {sizes} do not divide {channels} channels")
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    layers, covers = [], []
    for reader in op.readers_of_output(0):
        if reader.op_type != "SequenceAt" or not reader.is_constant(1):
            op.fail(f"its sequence is read by {reader.op_type}; archcalc reads a split sequence only through "
                    "SequenceAt at a constant position")
        position = int(reader.value(1).reshape(-1)[0])
        if not -len(sizes) <= position < len(sizes):
            reader.fail(f"position {position} is outside the sequence of {len(sizes)} pieces")
        position %= len(sizes)
        layers.append(Emit("slice", {"start": starts[position], "end": starts[position] + sizes[position]},
                           [op.input(0)], reader.output(0), suffix=f"_{position}"))
        covers.append(reader)
    return Mapped(layers, covers=covers)
