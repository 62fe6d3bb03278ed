"""ONNX ops that compute: convolutions, pools, normalisation, linear layers, activations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .onnx_mapping import ANY_RANK, Emit, Mapped, _axis, _by_rank, _map_input, _one, _pair, _real, _single_output


def _spatial_padding(op, sides: tuple[int, ...], kernel: list[int], stride: list[int],
                     dilation: list[int]) -> int | list[int]:
    """ONNX pads [x1_begin, x2_begin, ..., x1_end, x2_end, ...] (or auto_pad) -> archcalc's padding:
    per side in 2-D ([top, bottom, left, right] when asymmetric), both sides of each axis alike in
    1-D and 3-D."""
    dims = len(sides)
    auto = op.attr("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for size, k, s, d in zip(sides, kernel, stride, dilation):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, large = total // 2, total - total // 2
            begins.append(small if auto == "SAME_UPPER" else large)
            ends.append(large if auto == "SAME_UPPER" else small)
    elif auto in ("NOTSET", "VALID"):
        pads = [0] * (2 * dims) if auto == "VALID" else list(op.attr("pads", [0] * (2 * dims)))
        if len(pads) != 2 * dims or min(pads) < 0:
            op.fail(f"pads must be {2 * dims} non-negative numbers, got {pads}")
        begins, ends = pads[:dims], pads[dims:]
    else:
        op.fail(f"unknown auto_pad '{auto}'")
    if begins == ends:
        return _pair(begins)
    if dims != 2:
        op.fail(f"asymmetric pads {begins + ends} are not supported on a {dims}-D window (archcalc pads both sides "
                "of an axis alike there)")
    return [begins[0], ends[0], begins[1], ends[1]]


def _window(op, x_shape, weight: tuple[int, ...] | None = None) -> dict:
    """Kernel, stride, padding, dilation of a window over the map's spatial axes (a
    convolution's kernel is its weight's)."""
    dims = len(x_shape) - 2
    kernel = list(op.attr("kernel_shape", weight[2:] if weight else []))
    if len(kernel) != dims:
        op.fail(f"kernel_shape {kernel} does not have one size per spatial axis of the {len(x_shape)}-d input")
    if weight is not None and tuple(kernel) != tuple(weight[2:]):
        op.fail(f"kernel_shape {kernel} does not match the weight {weight}")
    stride = list(op.attr("strides", [1] * dims))
    dilation = list(op.attr("dilations", [1] * dims))
    if len(stride) != dims or len(dilation) != dims:
        op.fail(f"strides {stride} and dilations {dilation} need one value per spatial axis ({dims})")
    padding = _spatial_padding(op, tuple(x_shape[2:]), kernel, stride, dilation)
    return {"kernel_size": _pair(kernel), "stride": _pair(stride), "padding": padding, "dilation": _pair(dilation)}


def conv(op) -> Mapped:
    x = _map_input(op)
    weight = op.weight_shape(1, rank=len(x))
    groups = op.attr("group", 1)
    if weight[1] * groups != x[1]:
        op.fail(f"weight {weight} with group {groups} does not fit {x[1]} input channels")
    window = _window(op, x, weight)
    has_bias = op.has_input(2) and not op.is_computed_zero(2)
    params = op.const_size(1) + (op.weight_size(2, expect=(weight[0],)) if has_bias else 0)
    args = {"in_channels": x[1], "out_channels": weight[0], **window, "groups": groups, "bias": has_bias}
    return _one(_by_rank(x, ("conv1d", "conv2d", "conv3d")), op, args, params=params)


def conv_transpose(op) -> Mapped:
    x = _map_input(op)
    weight = op.weight_shape(1, rank=len(x))
    groups = op.attr("group", 1)
    if weight[0] != x[1]:
        op.fail(f"weight {weight} does not fit {x[1]} input channels")
    if op.attr("output_shape", None) is not None or op.attr("auto_pad", "NOTSET") != "NOTSET":
        op.fail("output_shape / auto_pad are not supported on ConvTranspose: give explicit pads")
    window = _window(op, x, weight)
    if isinstance(window["padding"], list) and len(window["padding"]) == 4:
        op.fail(f"asymmetric pads {op.attr('pads', None)} are not supported on ConvTranspose")
    out_channels = weight[1] * groups
    has_bias = op.has_input(2) and not op.is_computed_zero(2)
    params = op.const_size(1) + (op.weight_size(2, expect=(out_channels,)) if has_bias else 0)
    args = {"in_channels": x[1], "out_channels": out_channels, **window,
            "output_padding": _pair(list(op.attr("output_padding", [0] * (len(x) - 2)))), "groups": groups,
            "bias": has_bias}
    return _one(_by_rank(x, ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")), op, args, params=params)


def max_pool(op) -> Mapped:
    x = _map_input(op)
    _single_output(op)
    return _one(_by_rank(x, ("maxpool1d", "maxpool2d", "maxpool3d")), op,
                {**_window(op, x), "ceil_mode": bool(op.attr("ceil_mode", 0))})


def average_pool(op) -> Mapped:
    x = _map_input(op)
    window = _window(op, x)
    if window.pop("dilation") != 1:
        op.fail("dilated average pooling is not supported")
    return _one(_by_rank(x, ("avgpool1d", "avgpool2d", "avgpool3d")), op,
                {**window, "ceil_mode": bool(op.attr("ceil_mode", 0)),
                 "count_include_pad": bool(op.attr("count_include_pad", 0))})


@dataclass(frozen=True)
class GlobalPool:
    """A pool over every spatial axis: the layer for the map's rank (``types``, 1-D to 3-D) with
    its arguments (``args``: an adaptive pool's output_size 1 where archcalc has no global one)."""

    types: tuple[str, str, str]
    args: tuple[dict, dict, dict]

    def emit(self, op, x: tuple[int, ...], produces: str, suffix: str = "") -> Emit:
        rank = len(x) - 3
        return Emit(self.types[rank], dict(self.args[rank]), [op.input(0)], produces, suffix=suffix)

    def __call__(self, op) -> Mapped:
        return Mapped([self.emit(op, _map_input(op), op.output(0))])


GLOBAL_AVERAGE = GlobalPool(("adaptive_avgpool1d", "global_avgpool2d", "adaptive_avgpool3d"),
                           ({"output_size": 1}, {}, {"output_size": 1}))
GLOBAL_MAX = GlobalPool(("adaptive_maxpool1d", "global_maxpool2d", "adaptive_maxpool3d"),
                        ({"output_size": 1}, {}, {"output_size": 1}))


def reduce_to_global(pool: GlobalPool) -> Callable:
    """ReduceMean / ReduceMax over every spatial axis of a map: x.mean((2, 3)), a global pool;
    with keepdims=0 (torch's default) a global pool and a flatten."""
    def handler(op) -> Mapped:
        x = _map_input(op)
        axes = op.attr("axes", None)
        if axes is None and op.has_input(1):
            axes = [int(a) for a in op.value(1).reshape(-1)]
        spatial_axes = list(range(2, len(x)))
        if axes is None or sorted(_axis(op, a, len(x)) for a in axes) != spatial_axes:
            op.fail(f"only a reduction over the spatial axes {spatial_axes} of a map is supported (a global pool), "
                    f"got axes {axes}")
        if op.attr("keepdims", 1):
            return Mapped([pool.emit(op, x, produces=op.output(0))])
        pooled = op.output(0) + "#pooled"
        return Mapped([pool.emit(op, x, produces=pooled, suffix="_pool"), Emit("flatten", {}, [pooled], op.output(0))])
    return handler


def batch_norm(op) -> Mapped:
    x = _map_input(op, ANY_RANK)
    if op.attr("training_mode", 0) or op.output_used(1) or op.output_used(2):
        op.fail("training-mode BatchNormalization (running statistics as outputs) is not supported")
    channels = x[1]
    params = op.weight_size(1, expect=(channels,)) + op.weight_size(2, expect=(channels,))
    buffers = op.weight_size(3, expect=(channels,)) + op.weight_size(4, expect=(channels,))
    args = {"num_features": channels, "eps": _real(op.attr("epsilon", 1e-5)),
            # ONNX's momentum weighs the running value, torch's the new one
            "momentum": _real(1.0 - _real(op.attr("momentum", 0.9)))}
    # N x F and N x C x L are both torch's BatchNorm1d
    return _one(_by_rank(x, ("batchnorm1d", "batchnorm2d", "batchnorm3d")) if len(x) > 2 else "batchnorm1d", op, args,
                params=params, buffers=buffers)


def lrn(op) -> Mapped:
    _map_input(op, 4)
    return _one("local_response_norm", op, {"size": op.attr("size", None), "alpha": _real(op.attr("alpha", 1e-4)),
                                            "beta": _real(op.attr("beta", 0.75)), "k": _real(op.attr("bias", 1.0))})


def activation(type_name: str, **attributes: tuple[str, Any]) -> Callable:
    """An element-wise activation; ``attributes`` maps the layer's argument to (ONNX attribute,
    ONNX default)."""
    def handler(op) -> Mapped:
        _map_input(op, ANY_RANK)
        args = {arg: op.attr(attr, default) for arg, (attr, default) in attributes.items()}
        return _one(type_name, op, {k: _real(v) if isinstance(v, float) else v for k, v in args.items()})
    return handler


def gated(plain: str, fused: str, *, alpha: float | None = None, beta: float | None = None) -> Callable:
    """Sigmoid (HardSigmoid): x * Sigmoid(x), the way SiLU (Hardswish) is exported, is one
    ``fused`` layer when the gate's only reader is that Mul; otherwise the plain activation."""
    def handler(op) -> Mapped:
        _map_input(op, ANY_RANK)
        exact = alpha is None or (abs(op.attr("alpha", 0.2) - alpha) < 1e-6 and abs(op.attr("beta", 0.5) - beta) < 1e-6)
        mul = op.sole_consumer(0)
        if exact and mul is not None and mul.op_type == "Mul" and sorted(mul.inputs()) == sorted([op.input(0), op.output(0)]):
            return _one(fused, op, produces=mul.output(0), covers=[mul])
        return _one(plain, op)
    return handler


def clip(op) -> Mapped:
    _map_input(op, ANY_RANK)
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
    x = _map_input(op, ANY_RANK)
    axis = _axis(op, op.attr("axis", -1), len(x))
    if axis == 0:
        op.fail("softmax over the batch axis is not supported")
    return _one("softmax", op, {"dim": axis - 1})


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
    linear layer over the last dimension (torch's Linear as some paths export it; on a
    channels-last map, ConvNeXt's pointwise layers)."""
    x = _map_input(op, ANY_RANK)
    weight = op.weight_shape(1, rank=2)
    if weight[0] != x[-1]:
        op.fail(f"weight {weight} does not fit the last dimension of the input {x}")
    add = op.sole_consumer(0)
    covers, params, produces = [], op.const_size(1), op.output(0)
    if add is not None and add.op_type == "Add" and add.input_count() == 2:
        other = 1 if add.input(0) == op.output(0) else 0
        if add.is_constant(other) and tuple(add.const_shape(other)) in ((weight[1],), (1, weight[1])):
            covers, params, produces = [add], params + add.const_size(other), add.output(0)
    return _one("linear", op, {"in_features": weight[0], "out_features": weight[1], "bias": bool(covers)},
                params=params, produces=produces, covers=covers)


def layer_norm(op) -> Mapped:
    """LayerNormalization over the last dimension (torch's LayerNorm(C): a vector's features, or
    the channels of a channels-last map); the mean and 1/std outputs unused."""
    x = _map_input(op, ANY_RANK)
    if _axis(op, op.attr("axis", -1), len(x)) != len(x) - 1:
        op.fail(f"only a normalisation over the last dimension is supported, got axis {op.attr('axis', -1)} of a "
                f"{len(x)}-d tensor")
    if op.output_used(1) or op.output_used(2):
        op.fail("its mean or inverse standard deviation output is used; archcalc models only the first")
    features = x[-1]
    has_bias = op.has_input(2) and not op.is_computed_zero(2)
    params = op.weight_size(1, expect=(features,)) + (op.weight_size(2, expect=(features,)) if has_bias else 0)
    args = {"num_channels": features, "eps": _real(op.attr("epsilon", 1e-5)), "bias": has_bias}
    if len(x) > 2:
        args["over"] = "last"
    return _one("layernorm", op, args, params=params)
