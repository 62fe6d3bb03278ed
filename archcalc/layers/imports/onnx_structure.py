"""ONNX ops that join, split, reshape, pad, resize or pass tensors through."""

from __future__ import annotations

from typing import Any, Callable

from .onnx_mapping import (ANY_RANK, MAPS, Emit, Mapped, _activations, _axis, _ints, _map_input, _one, _pair, _real,
                           _single_output, _text_attr)


def join(type_name: str, scale_type: str | None = None) -> Callable:
    """Add / Mul / Sum of activations (shapes broadcast as archcalc's join allows); a Mul by a
    learned C x 1 x 1 constant is a per-channel scale (ConvNeXt's layer scale)."""
    def handler(op) -> Mapped:
        computed = _activations(op)
        for i in computed:
            _map_input(op, ANY_RANK, i)
        constants = [i for i in range(op.input_count()) if i not in computed]
        if not constants and len(computed) == 1:  # Sum of one tensor
            return Mapped(alias=(op.output(0), op.input(computed[0])))
        if not constants and len(computed) >= 2:
            return Mapped([Emit(type_name, {}, [op.input(i) for i in computed], op.output(0))])
        if scale_type and len(computed) == 1 and len(constants) == 1:
            shape, channels = op.shape(computed[0]), op.shape(computed[0])[1]
            scale = tuple(op.const_shape(constants[0]))
            if len(shape) == 4 and scale in ((channels, 1, 1), (1, channels, 1, 1)):
                return _one(scale_type, op, {"channels": channels}, x=computed[0], params=op.const_size(constants[0]))
        op.fail(f"{op.op_type} with a constant operand {[tuple(op.const_shape(i)) for i in constants]} is not a layer "
                f"archcalc has (only joins of computed tensors{', or a C x 1 x 1 scale' if scale_type else ''})")
    return handler


def concat(op) -> Mapped:
    computed = _activations(op)
    if len(computed) != op.input_count():
        op.fail("concatenates a constant with computed tensors")
    rank = len(_map_input(op, ANY_RANK, computed[0]))
    if len(computed) == 1:  # torch.cat([x]) (DenseNet's first layer): x itself
        return Mapped(alias=(op.output(0), op.input(0)))
    if _axis(op, op.attr("axis", None), rank) != 1:
        op.fail(f"only concatenation along the channels (axis 1) is supported, got axis {op.attr('axis', None)}")
    return Mapped([Emit("concat", {}, [op.input(i) for i in computed], op.output(0))])


def split(op) -> Mapped:
    x = _map_input(op, ANY_RANK)
    if _axis(op, op.attr("axis", 0), len(x)) != 1:
        op.fail(f"only a split of the channels (axis 1) is supported, got axis {op.attr('axis', 0)}")
    count = op.output_count()
    if op.has_input(1):
        sizes = [int(s) for s in op.value(1).reshape(-1)]
    elif op.attr("split", None) is not None:
        sizes = list(op.attr("split", None))
    else:
        part = -(-x[1] // count)
        sizes = [min(part, x[1] - part * i) for i in range(count)]
    if len(sizes) != count or sum(sizes) != x[1] or min(sizes) <= 0:
        op.fail(f"split sizes {sizes} do not divide {x[1]} channels into {count} outputs")
    layers, start = [], 0
    for index, size in enumerate(sizes):
        if op.output_used(index):
            layers.append(Emit("slice", {"start": start, "end": start + size}, [op.input(0)], op.output(index),
                               suffix=f"_{index}"))
        start += size
    return Mapped(layers)


def slice_channels(op) -> Mapped:
    """Slice of the channels (x[:, a:b], torch.chunk / split as some exports write them); a
    slice of any other axis must keep it whole."""
    x = _map_input(op, ANY_RANK)
    starts, ends = _ints(op, 1, "starts"), _ints(op, 2, "ends")
    if starts is None or ends is None or len(starts) != len(ends):
        op.fail("needs constant starts and ends")
    axes = _ints(op, 3, "axes") or list(range(len(starts)))
    steps = _ints(op, 4, "steps") or [1] * len(starts)
    bounds = (0, x[1])
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = _axis(op, axis, len(x))
        size = x[axis]
        start, end = (max(0, min(v + size if v < 0 else v, size)) for v in (start, end))
        if (start, end) == (0, size) and step == 1:
            continue
        if axis != 1 or step != 1 or start >= end:
            op.fail(f"only a slice of the channels with step 1 is supported, got axis {axis} [{start}:{end}:{step}]")
        bounds = (start, end)
    if bounds == (0, x[1]):
        return Mapped(alias=(op.output(0), op.input(0)))
    return _one("slice", op, {"start": bounds[0], "end": bounds[1]})


def flatten(op) -> Mapped:
    x = _map_input(op, ANY_RANK)
    if _axis(op, op.attr("axis", 1), len(x)) != 1:
        op.fail(f"only Flatten from axis 1 (keeping the batch) is supported, got axis {op.attr('axis', 1)}")
    return _one("flatten", op) if len(x) in MAPS else Mapped(alias=(op.output(0), op.input(0)))


def _reshaped(op, source: tuple[int, ...], target: list[int], allow_zero: bool) -> tuple[int, ...]:
    """ONNX Reshape's output shape: 0 copies the input's dimension (unless allowzero), -1 is inferred."""
    dims = [source[i] if d == 0 and not allow_zero and i < len(source) else d for i, d in enumerate(target)]
    if dims.count(-1) > 1 or any(d < -1 for d in dims):
        op.fail(f"invalid Reshape target {target}")
    total = known = 1
    for d in source:
        total *= d
    for d in dims:
        known *= d if d != -1 else 1
    if -1 in dims:
        if known == 0 or total % known:
            op.fail(f"cannot reshape {tuple(source)} to {target}")
        dims[dims.index(-1)] = total // known
    elif known != total:
        op.fail(f"cannot reshape {tuple(source)} to {target}")
    return tuple(dims)


def _shuffle_chain(op, x, out) -> Mapped | None:
    """ShuffleNet's channel shuffle as exported: Reshape to N x g x C/g x H x W, Transpose
    (0, 2, 1, 3, 4), Reshape back to N x C x H x W."""
    if len(x) != 4 or len(out) != 5 or out[0] != x[0] or out[1] * out[2] != x[1] or tuple(out[3:]) != tuple(x[2:]):
        return None
    transpose = op.sole_consumer(0)
    if transpose is None or transpose.op_type != "Transpose" or list(transpose.attr("perm", [])) != [0, 2, 1, 3, 4]:
        return None
    copies, back = [], transpose.sole_consumer(0)
    while back is not None and back.op_type == "Identity":  # the dynamo exporter's clone (a contiguous copy)
        copies.append(back)
        back = back.sole_consumer(0)
    if back is None or back.op_type != "Reshape" or not back.is_constant(1):
        return None
    final = _reshaped(back, (x[0], out[2], out[1], *x[2:]), [int(d) for d in back.value(1).reshape(-1)],
                      bool(back.attr("allowzero", 0)))
    if tuple(final) != tuple(x):
        return None
    return _one("channel_shuffle", op, {"groups": out[1]}, produces=back.output(0), covers=[transpose, *copies, back])


def reshape(op) -> Mapped:
    x = _map_input(op, ANY_RANK)
    if not op.is_constant(1):
        op.fail("the target shape is computed from data (not a constant or a Shape chain)")
    out = _reshaped(op, x, [int(d) for d in op.value(1).reshape(-1)], bool(op.attr("allowzero", 0)))
    if out[0] != x[0]:
        op.fail(f"reshapes across the batch: {x} -> {out}")
    if out == tuple(x):
        return Mapped(alias=(op.output(0), op.input(0)))
    if len(out) == 2 and len(x) in MAPS:
        return _one("flatten", op)
    if len(out) in MAPS and len(x) == 2:
        return _one("reshape", op, {"shape": list(out[1:])})
    shuffle = _shuffle_chain(op, x, out)
    if shuffle is not None:
        return shuffle
    op.fail(f"reshape {x} -> {out} is not expressible (archcalc tensors are N x C x ... maps or N x F vectors; "
            f"a channel shuffle is Reshape, Transpose (0, 2, 1, 3, 4), Reshape)")


def transpose(op) -> Mapped:
    """Transpose of a computed tensor keeping the batch first: a ``permute`` (ConvNeXt's channels
    last and back); the identity permutation is nothing. A constant's Transpose is computed at
    import (archcalc.importing.onnx_reader)."""
    x = _map_input(op, ANY_RANK)
    perm = list(op.attr("perm", list(range(len(x)))[::-1]))
    if perm == list(range(len(x))):
        return Mapped(alias=(op.output(0), op.input(0)))
    if sorted(perm) != list(range(len(x))) or perm[0] != 0:
        op.fail(f"Transpose {perm} of a {len(x)}-d tensor moves the batch dimension; archcalc keeps it first")
    return _one("permute", op, {"dims": perm})


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def pad(op) -> Mapped:
    _map_input(op, 4)
    mode = op.attr("mode", "constant")
    if mode not in _PAD_MODES:
        op.fail(f"pad mode '{mode}' is not supported")
    pads = [int(p) for p in op.value(1).reshape(-1)] if op.has_input(1) else list(op.attr("pads", []))
    axes = [_axis(op, int(a), 4) for a in op.value(3).reshape(-1)] if op.has_input(3) else list(range(4))
    full = [0] * 8
    if len(pads) != 2 * len(axes):
        op.fail(f"pads {pads} do not match {len(axes)} axes")
    for i, axis in enumerate(axes):
        full[axis], full[axis + 4] = pads[i], pads[i + len(axes)]
    if full[0] or full[1] or full[4] or full[5] or min(full) < 0:
        op.fail(f"only non-negative padding of H and W is supported, got pads {pads}")
    value = _real(op.value(2).reshape(-1)[0]) if op.has_input(2) else _real(op.attr("value", 0.0))
    args = {"padding": [full[2], full[6], full[3], full[7]], "mode": _PAD_MODES[mode]}
    if mode == "constant":
        args["value"] = value
    return _one("pad", op, args)


def resize(op) -> Mapped:
    """Resize (opset 10+) and Upsample (7-9): nearest as torch's (asymmetric, floor) or bilinear
    (half_pixel / pytorch_half_pixel = align_corners False, align_corners = True)."""
    x = _map_input(op, 4)
    mode = _text_attr(op, "mode", "nearest")
    coordinates = _text_attr(op, "coordinate_transformation_mode", "asymmetric" if op.op_type == "Upsample" else "half_pixel")
    args: dict[str, Any] = {}
    if mode == "nearest":
        if coordinates != "asymmetric" or _text_attr(op, "nearest_mode", "floor" if op.op_type == "Upsample" else "round_prefer_floor") != "floor":
            op.fail(f"nearest resize with coordinate_transformation_mode '{coordinates}' and nearest_mode "
                    f"'{_text_attr(op, 'nearest_mode', 'round_prefer_floor')}' reads other pixels than torch's nearest "
                    "(asymmetric, floor)")
        args["mode"] = "nearest"
    elif mode == "linear" and coordinates in ("half_pixel", "pytorch_half_pixel", "align_corners"):
        args.update(mode="bilinear", align_corners=coordinates == "align_corners")
    else:
        op.fail(f"resize mode '{mode}' with coordinate_transformation_mode '{coordinates}' is not supported")
    scales = op.attr("scales", None)
    scale_input = 1 if op.op_type == "Upsample" or op.opset < 11 else 2
    if scales is None and op.has_input(scale_input) and op.value(scale_input).size:
        scales = [float(s) for s in op.value(scale_input).reshape(-1)]
    if scales is not None:
        if len(scales) != 4 or scales[0] != 1 or scales[1] != 1:
            op.fail(f"only scales of H and W are supported, got {scales}")
        if all(float(s).is_integer() and s >= 1 for s in scales[2:]):
            args["scale_factor"] = _pair([int(s) for s in scales[2:]])
        else:
            args["size"] = [int(x[2] * scales[2]), int(x[3] * scales[3])]
    elif op.has_input(3):
        sizes = [int(s) for s in op.value(3).reshape(-1)]
        if len(sizes) != 4 or tuple(sizes[:2]) != tuple(x[:2]):
            op.fail(f"only sizes of H and W are supported, got {sizes}")
        args["size"] = sizes[2:]
    else:
        op.fail("has neither scales nor sizes")
    return _one("upsample", op, args)


def dropout(op) -> Mapped:
    _map_input(op, ANY_RANK)
    _single_output(op)
    ratio = _real(op.value(1).reshape(-1)[0]) if op.has_input(1) else _real(op.attr("ratio", 0.5))
    return _one("dropout", op, {"p": ratio})


def identity(op) -> Mapped:
    return Mapped(alias=(op.output(0), op.input(0)))
