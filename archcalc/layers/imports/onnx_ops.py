"""ONNX op types -> archcalc layer types: one handler per op type in ``ONNX_OPS``.

A handler reads one node through the importer's view of it (``op``: attributes, which inputs are
activations or constants and their shapes, constant values, the node's sole consumer for the
patterns exporters write as several nodes) and returns the layers it becomes (``Emit``), or
refuses it with ``op.fail`` (one line naming the op and the node). The importer
(archcalc.importing.onnx_reader) never branches on a layer type: everything that says "this ONNX
op is that layer" lives here.

Shapes seen through ``op`` are the ONNX ones, batch first (N x C x H x W, or N x F); the layers'
arguments are archcalc's (no batch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Emit:
    """One archcalc layer made from a node: its type and arguments, the ONNX tensors it reads
    (activations) and the one it produces, and how many of the node's constant elements it holds
    as parameters and as (floating-point) buffers, which the importer checks against the layer."""

    type: str
    args: dict = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    produces: str = ""
    params: int = 0
    buffers: int = 0
    suffix: str = ""  # the layer's name is the node's plus this, when a node makes several layers


@dataclass
class Mapped:
    """What a node becomes: layers, or an alias (its output is its input: Identity, a Reshape
    that changes nothing); ``covers`` are later nodes the pattern includes (the Mul of x *
    Sigmoid(x)), which the importer then skips."""

    layers: list[Emit] = field(default_factory=list)
    alias: tuple[str, str] | None = None  # (output tensor, the tensor it is)
    covers: list[Any] = field(default_factory=list)


def _one(type_name: str, op, args: dict | None = None, *, x: int = 0, params: int = 0, buffers: int = 0,
         produces: str | None = None, covers: list | None = None) -> Mapped:
    return Mapped([Emit(type_name, args or {}, [op.input(x)], produces or op.output(0), params, buffers)],
                  covers=covers or [])


def _real(value) -> float:
    """An ONNX float attribute (float32) as the decimal it was written as: 0.2, not 0.2000000029."""
    return float(f"{float(value):.7g}")


def _pair(values: list[int]) -> int | list[int]:
    return values[0] if len(set(values)) == 1 else list(values)


def _map_input(op, rank: int | tuple[int, ...] = 4, x: int = 0) -> tuple[int, ...]:
    """The activation input's ONNX shape, which must have the rank(s) archcalc represents here."""
    if not op.is_activation(x):
        op.fail(f"input {x + 1} must be computed by the net, not a constant")
    shape = op.shape(x)
    ranks = rank if isinstance(rank, tuple) else (rank,)
    if len(shape) not in ranks:
        op.fail(f"needs a {' or '.join(f'{r}-d' for r in ranks)} input (N x C x H x W or N x F), "
                f"got {len(shape)}-d {shape}")
    return shape


def _axis(op, value: int, rank: int) -> int:
    axis = value + rank if value < 0 else value
    if not 0 <= axis < rank:
        op.fail(f"axis {value} is out of range for a {rank}-d tensor")
    return axis


def _spatial_padding(op, in_hw: tuple[int, int], kernel: list[int], stride: list[int], dilation: list[int],
                     out_hw: tuple[int, int] | None) -> int | list[int]:
    """ONNX pads [top, left, bottom, right] (or auto_pad) -> archcalc's padding."""
    auto = op.attr("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for size, k, s, d in zip(in_hw, kernel, stride, dilation):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, large = total // 2, total - total // 2
            pads.append((small, large) if auto == "SAME_UPPER" else (large, small))
        top, bottom, left, right = pads[0][0], pads[0][1], pads[1][0], pads[1][1]
    elif auto in ("NOTSET", "VALID"):
        pads = [0, 0, 0, 0] if auto == "VALID" else list(op.attr("pads", [0, 0, 0, 0]))
        if len(pads) != 4 or min(pads) < 0:
            op.fail(f"pads must be 4 non-negative numbers, got {pads}")
        top, left, bottom, right = pads
    else:
        op.fail(f"unknown auto_pad '{auto}'")
    if top == bottom and left == right:
        return _pair([top, left])
    return [top, bottom, left, right]


def _window(op, x_shape) -> dict:
    weight = op.const_shape(1) if op.op_type in ("Conv", "ConvTranspose") else None
    kernel = list(op.attr("kernel_shape", weight[2:] if weight else []))
    if len(kernel) != 2:
        op.fail(f"only 2-D windows are supported, got kernel_shape {kernel}")
    stride = list(op.attr("strides", [1, 1]))
    dilation = list(op.attr("dilations", [1, 1]))
    out = op.out_shape(0)
    padding = _spatial_padding(op, tuple(x_shape[2:]), kernel, stride, dilation, tuple(out[2:]) if out else None)
    return {"kernel_size": _pair(kernel), "stride": _pair(stride), "padding": padding, "dilation": _pair(dilation)}


def conv(op) -> Mapped:
    x = _map_input(op)
    weight = op.weight_shape(1, rank=4)
    groups = op.attr("group", 1)
    if weight[1] * groups != x[1]:
        op.fail(f"weight {weight} with group {groups} does not fit {x[1]} input channels")
    window = _window(op, x)
    has_bias = op.has_input(2) and not op.is_computed_zero(2)
    params = op.const_size(1) + (op.weight_size(2, expect=(weight[0],)) if has_bias else 0)
    args = {"in_channels": x[1], "out_channels": weight[0], **window, "groups": groups, "bias": has_bias}
    return _one("conv2d", op, args, params=params)


def conv_transpose(op) -> Mapped:
    x = _map_input(op)
    weight = op.weight_shape(1, rank=4)
    groups = op.attr("group", 1)
    if weight[0] != x[1]:
        op.fail(f"weight {weight} does not fit {x[1]} input channels")
    if op.attr("output_shape", None) is not None or op.attr("auto_pad", "NOTSET") != "NOTSET":
        op.fail("output_shape / auto_pad are not supported on ConvTranspose: give explicit pads")
    window = _window(op, x)
    if isinstance(window["padding"], list) and len(window["padding"]) == 4:
        op.fail(f"asymmetric pads {op.attr('pads', None)} are not supported on ConvTranspose")
    out_channels = weight[1] * groups
    has_bias = op.has_input(2) and not op.is_computed_zero(2)
    params = op.const_size(1) + (op.weight_size(2, expect=(out_channels,)) if has_bias else 0)
    args = {"in_channels": x[1], "out_channels": out_channels, **window,
            "output_padding": _pair(list(op.attr("output_padding", [0, 0]))), "groups": groups, "bias": has_bias}
    return _one("conv_transpose2d", op, args, params=params)


def _single_output(op) -> None:
    if op.output_used(1):
        op.fail("its second output (indices or mask) is used; archcalc models only the first")


def max_pool(op) -> Mapped:
    x = _map_input(op)
    _single_output(op)
    return _one("maxpool2d", op, {**_window(op, x), "ceil_mode": bool(op.attr("ceil_mode", 0))})


def average_pool(op) -> Mapped:
    x = _map_input(op)
    window = _window(op, x)
    if window.pop("dilation") != 1:
        op.fail("dilated average pooling is not supported")
    return _one("avgpool2d", op, {**window, "ceil_mode": bool(op.attr("ceil_mode", 0)),
                                  "count_include_pad": bool(op.attr("count_include_pad", 0))})


def global_pool(type_name: str) -> Callable:
    def handler(op) -> Mapped:
        _map_input(op)
        return _one(type_name, op)
    return handler


def reduce_to_global(type_name: str) -> Callable:
    """ReduceMean / ReduceMax over H and W of a map: x.mean((2, 3)), a global pool; with
    keepdims=0 (torch's default) a global pool and a flatten."""
    def handler(op) -> Mapped:
        x = _map_input(op)
        axes = op.attr("axes", None)
        if axes is None and op.has_input(1):
            axes = [int(a) for a in op.value(1).reshape(-1)]
        if axes is None or sorted(_axis(op, a, 4) for a in axes) != [2, 3]:
            op.fail(f"only a reduction over the spatial axes [2, 3] of a map is supported (a global pool), got axes {axes}")
        if op.attr("keepdims", 1):
            return _one(type_name, op)
        pooled = op.output(0) + "#pooled"
        return Mapped([Emit(type_name, {}, [op.input(0)], pooled, suffix="_pool"),
                       Emit("flatten", {}, [pooled], op.output(0))])
    return handler


def batch_norm(op) -> Mapped:
    x = _map_input(op, (2, 4))
    if op.attr("training_mode", 0) or op.output_used(1) or op.output_used(2):
        op.fail("training-mode BatchNormalization (running statistics as outputs) is not supported")
    channels = x[1]
    params = op.weight_size(1, expect=(channels,)) + op.weight_size(2, expect=(channels,))
    buffers = op.weight_size(3, expect=(channels,)) + op.weight_size(4, expect=(channels,))
    args = {"num_features": channels, "eps": _real(op.attr("epsilon", 1e-5)),
            # ONNX's momentum weighs the running value, torch's the new one
            "momentum": _real(1.0 - _real(op.attr("momentum", 0.9)))}
    return _one("batchnorm2d" if len(x) == 4 else "batchnorm1d", op, args, params=params, buffers=buffers)


def lrn(op) -> Mapped:
    _map_input(op)
    return _one("local_response_norm", op, {"size": op.attr("size", None), "alpha": _real(op.attr("alpha", 1e-4)),
                                            "beta": _real(op.attr("beta", 0.75)), "k": _real(op.attr("bias", 1.0))})


def activation(type_name: str, **attributes: tuple[str, Any]) -> Callable:
    """An element-wise activation; ``attributes`` maps the layer's argument to (ONNX attribute,
    ONNX default)."""
    def handler(op) -> Mapped:
        _map_input(op, (2, 4))
        args = {arg: op.attr(attr, default) for arg, (attr, default) in attributes.items()}
        return _one(type_name, op, {k: _real(v) if isinstance(v, float) else v for k, v in args.items()})
    return handler


def gated(plain: str, fused: str, *, alpha: float | None = None, beta: float | None = None) -> Callable:
    """Sigmoid (HardSigmoid): x * Sigmoid(x), the way SiLU (Hardswish) is exported, is one
    ``fused`` layer when the gate's only reader is that Mul; otherwise the plain activation."""
    def handler(op) -> Mapped:
        _map_input(op, (2, 4))
        exact = alpha is None or (abs(op.attr("alpha", 0.2) - alpha) < 1e-6 and abs(op.attr("beta", 0.5) - beta) < 1e-6)
        mul = op.sole_consumer(0)
        if exact and mul is not None and mul.op_type == "Mul" and sorted(mul.inputs()) == sorted([op.input(0), op.output(0)]):
            return _one(fused, op, produces=mul.output(0), covers=[mul])
        return _one(plain, op)
    return handler


def clip(op) -> Mapped:
    _map_input(op, (2, 4))
    low = op.attr("min", None)
    high = op.attr("max", None)
    if op.has_input(1):
        low = float(op.value(1).reshape(-1)[0])
    if op.has_input(2):
        high = float(op.value(2).reshape(-1)[0])
    if low == 0 and high == 6:
        return _one("relu6", op)
    if low == 0 and high is None:
        return _one("relu", op)
    op.fail(f"Clip to [{low}, {high}] is not an activation archcalc has (only [0, 6], relu6, and [0, inf), relu)")


def softmax(op) -> Mapped:
    x = _map_input(op, (2, 4))
    axis = _axis(op, op.attr("axis", -1), len(x))
    if axis == 0:
        op.fail("softmax over the batch axis is not supported")
    return _one("softmax", op, {"dim": axis - 1})


def _activations(op) -> list[int]:
    return [i for i in range(op.input_count()) if op.is_activation(i)]


def join(type_name: str, scale_type: str | None = None) -> Callable:
    """Add / Mul / Sum of activations (shapes broadcast as archcalc's join allows); a Mul by a
    learned C x 1 x 1 constant is a per-channel scale (ConvNeXt's layer scale)."""
    def handler(op) -> Mapped:
        computed = _activations(op)
        for i in computed:
            _map_input(op, (2, 4), i)
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
    rank = len(_map_input(op, (2, 4), computed[0]))
    if len(computed) == 1:  # torch.cat([x]) (DenseNet's first layer): x itself
        return Mapped(alias=(op.output(0), op.input(0)))
    if _axis(op, op.attr("axis", None), rank) != 1:
        op.fail(f"only concatenation along the channels (axis 1) is supported, got axis {op.attr('axis', None)}")
    return Mapped([Emit("concat", {}, [op.input(i) for i in computed], op.output(0))])


def split(op) -> Mapped:
    x = _map_input(op, (2, 4))
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


def _ints(op, index: int, attribute: str) -> list[int] | None:
    if op.has_input(index):
        return [int(v) for v in op.value(index).reshape(-1)]
    value = op.attr(attribute, None)
    return None if value is None else list(value)


def slice_channels(op) -> Mapped:
    """Slice of the channels (x[:, a:b], torch.chunk / split as some exports write them); a
    slice of any other axis must keep it whole."""
    x = _map_input(op, (2, 4))
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
    x = _map_input(op, (2, 4))
    if _axis(op, op.attr("axis", 1), len(x)) != 1:
        op.fail(f"only Flatten from axis 1 (keeping the batch) is supported, got axis {op.attr('axis', 1)}")
    return _one("flatten", op) if len(x) == 4 else Mapped(alias=(op.output(0), op.input(0)))


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
    back = transpose.sole_consumer(0)
    if back is None or back.op_type != "Reshape" or back.input(0) != transpose.output(0) or not back.is_constant(1):
        return None
    final = _reshaped(back, (x[0], out[2], out[1], *x[2:]), [int(d) for d in back.value(1).reshape(-1)],
                      bool(back.attr("allowzero", 0)))
    if tuple(final) != tuple(x):
        return None
    return _one("channel_shuffle", op, {"groups": out[1]}, produces=back.output(0), covers=[transpose, back])


def reshape(op) -> Mapped:
    x = _map_input(op, (2, 4))
    if not op.is_constant(1):
        op.fail("the target shape is computed from data (not a constant or a Shape chain)")
    out = _reshaped(op, x, [int(d) for d in op.value(1).reshape(-1)], bool(op.attr("allowzero", 0)))
    if out[0] != x[0]:
        op.fail(f"reshapes across the batch: {x} -> {out}")
    if out == tuple(x):
        return Mapped(alias=(op.output(0), op.input(0)))
    if len(out) == 2 and len(x) == 4:
        return _one("flatten", op)
    if len(out) == 4 and len(x) == 2:
        return _one("reshape", op, {"shape": list(out[1:])})
    shuffle = _shuffle_chain(op, x, out)
    if shuffle is not None:
        return shuffle
    op.fail(f"reshape {x} -> {out} is not expressible (archcalc tensors are N x C x H x W maps or N x F vectors; "
            f"a channel shuffle is Reshape, Transpose (0, 2, 1, 3, 4), Reshape)")


def transpose(op) -> Mapped:
    x = _map_input(op, (2, 4))
    perm = list(op.attr("perm", list(range(len(x)))[::-1]))
    if perm == list(range(len(x))):
        return Mapped(alias=(op.output(0), op.input(0)))
    op.fail(f"Transpose {perm} is not expressible (channels-last tensors are not represented)")


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def pad(op) -> Mapped:
    x = _map_input(op)
    mode = op.attr("mode", "constant")
    if isinstance(mode, bytes):
        mode = mode.decode()
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


def _text_attr(op, name: str, default: str) -> str:
    value = op.attr(name, default)
    return value.decode() if isinstance(value, bytes) else value


def resize(op) -> Mapped:
    """Resize (opset 10+) and Upsample (7-9): nearest as torch's (asymmetric, floor) or bilinear
    (half_pixel / pytorch_half_pixel = align_corners False, align_corners = True)."""
    x = _map_input(op)
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
    _map_input(op, (2, 4))
    _single_output(op)
    ratio = _real(op.value(1).reshape(-1)[0]) if op.has_input(1) else _real(op.attr("ratio", 0.5))
    return _one("dropout", op, {"p": ratio})


def identity(op) -> Mapped:
    return Mapped(alias=(op.output(0), op.input(0)))


def linear(op) -> Mapped:
    """Gemm: y = x W^T + b as torch's Linear exports it (transB=1), or x W + b."""
    x = _map_input(op, 2)
    if op.attr("transA", 0) or op.attr("alpha", 1.0) != 1.0 or op.attr("beta", 1.0) != 1.0:
        op.fail("only Gemm with transA=0, alpha=1 and beta=1 (a linear layer) is supported")
    weight = op.weight_shape(1, rank=2)
    in_features, out_features = (weight[1], weight[0]) if op.attr("transB", 0) else (weight[0], weight[1])
    if in_features != x[1]:
        op.fail(f"weight {weight} does not fit {x[1]} input features")
    has_bias = op.has_input(2) and not op.is_computed_zero(2)
    params = op.const_size(1) + (op.weight_size(2, expect=(out_features,), also=((1, out_features),)) if has_bias else 0)
    return _one("linear", op, {"in_features": in_features, "out_features": out_features, "bias": has_bias}, params=params)


def matmul(op) -> Mapped:
    """MatMul by a constant K x N matrix, and the Add of a constant N-vector after it, as one
    linear layer (how torch exports a Linear on some paths)."""
    x = _map_input(op, 2)
    weight = op.weight_shape(1, rank=2)
    if weight[0] != x[1]:
        op.fail(f"weight {weight} does not fit {x[1]} input features")
    add = op.sole_consumer(0)
    covers, params, produces = [], op.const_size(1), op.output(0)
    if add is not None and add.op_type == "Add" and add.input_count() == 2:
        other = 1 if add.input(0) == op.output(0) else 0
        if add.is_constant(other) and tuple(add.const_shape(other)) in ((weight[1],), (1, weight[1])):
            covers, params, produces = [add], params + add.const_size(other), add.output(0)
    return _one("linear", op, {"in_features": weight[0], "out_features": weight[1], "bias": bool(covers)},
                params=params, produces=produces, covers=covers)


ONNX_OPS: dict[str, Callable] = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "Gemm": linear,
    "MatMul": matmul,
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "GlobalAveragePool": global_pool("global_avgpool2d"),
    "GlobalMaxPool": global_pool("global_maxpool2d"),
    "ReduceMean": reduce_to_global("global_avgpool2d"),
    "ReduceMax": reduce_to_global("global_maxpool2d"),
    "BatchNormalization": batch_norm,
    "LRN": lrn,
    "Relu": activation("relu"),
    "Tanh": activation("tanh"),
    "LeakyRelu": activation("leaky_relu", negative_slope=("alpha", 0.01)),
    "Elu": activation("elu", alpha=("alpha", 1.0)),
    "Gelu": activation("gelu", approximate=("approximate", "none")),
    "HardSwish": activation("hardswish"),
    "Sigmoid": gated("sigmoid", "silu"),
    "HardSigmoid": gated("hardsigmoid", "hardswish", alpha=1 / 6, beta=0.5),
    "Clip": clip,
    "Softmax": softmax,
    "Add": join("add"),
    "Sum": join("add"),
    "Mul": join("mul", "layer_scale"),
    "Concat": concat,
    "Split": split,
    "Slice": slice_channels,
    "Flatten": flatten,
    "Reshape": reshape,
    "Transpose": transpose,
    "Pad": pad,
    "Resize": resize,
    "Upsample": resize,
    "Dropout": dropout,
    "Identity": identity,
}
