"""ONNX ops that compute: convolutions, pools, normalisation, linear layers, activations."""

from __future__ import annotations

from typing import Any, Callable

from .onnx_mapping import Emit, Mapped, _axis, _map_input, _one, _pair, _real, _single_output


def _spatial_padding(op, in_hw: tuple[int, int], kernel: list[int], stride: list[int],
                     dilation: list[int]) -> int | list[int]:
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


def _window(op, x_shape, weight: tuple[int, ...] | None = None) -> dict:
    """Kernel, stride, padding, dilation of a 2-D window (a convolution's kernel is its weight's)."""
    kernel = list(op.attr("kernel_shape", weight[2:] if weight else []))
    if len(kernel) != 2:
        op.fail(f"only 2-D windows are supported, got kernel_shape {kernel}")
    if weight is not None and tuple(kernel) != tuple(weight[2:]):
        op.fail(f"kernel_shape {kernel} does not match the weight {weight}")
    stride = list(op.attr("strides", [1, 1]))
    dilation = list(op.attr("dilations", [1, 1]))
    padding = _spatial_padding(op, tuple(x_shape[2:]), kernel, stride, dilation)
    return {"kernel_size": _pair(kernel), "stride": _pair(stride), "padding": padding, "dilation": _pair(dilation)}


def conv(op) -> Mapped:
    x = _map_input(op)
    weight = op.weight_shape(1, rank=4)
    groups = op.attr("group", 1)
    if weight[1] * groups != x[1]:
        op.fail(f"weight {weight} with group {groups} does not fit {x[1]} input channels")
    window = _window(op, x, weight)
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
    window = _window(op, x, weight)
    if isinstance(window["padding"], list) and len(window["padding"]) == 4:
        op.fail(f"asymmetric pads {op.attr('pads', None)} are not supported on ConvTranspose")
    out_channels = weight[1] * groups
    has_bias = op.has_input(2) and not op.is_computed_zero(2)
    params = op.const_size(1) + (op.weight_size(2, expect=(out_channels,)) if has_bias else 0)
    args = {"in_channels": x[1], "out_channels": out_channels, **window,
            "output_padding": _pair(list(op.attr("output_padding", [0, 0]))), "groups": groups, "bias": has_bias}
    return _one("conv_transpose2d", op, args, params=params)


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
        _map_input(op)
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
