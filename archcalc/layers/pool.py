"""Pooling: max/avg with windows, adaptive and global pooling."""

from __future__ import annotations

import math
from typing import Any

from ..errors import ShapeError, SpecError
from .windows import adaptive_pool_window, conv_window
from .args import Arg, boolean, optional, pair, positive_int
from .base import LayerResult, LayerType, ModuleCall, conv_output_size, elements, keep_axis, register, spatial
from .conv import _conv_axis_args, empty_output_message
from .padding import TF_SAME, padded, padded_copy, padding_converter, side_pads, symmetric
from .fieldrules import WHOLE, Windows
from .memrules import INT64, NEW_OUTPUT, Kept, MemoryRule


_PADDING = Arg("padding", padding_converter(TF_SAME), 0, ("pad", "p"),
               "int or [h, w] (at most half the kernel), [top, bottom, left, right] or 'tf_same' (TensorFlow's SAME)")


def _pads(args, sizes, dilation=(1, 1)):
    return side_pads(args["padding"], args["kernel_size"], _stride(args), dilation, sizes)


def _window_pool(cls, args, inputs, dilation=(1, 1)):
    channels, height, width = spatial(inputs[0], cls.name)
    kernel, padding = args["kernel_size"], args["padding"]
    stride = args["stride"] or kernel
    pads = _pads(args, (height, width), dilation)
    if symmetric(pads) is None:  # padded first, then pooled without padding (archcalc.pytorch.padded)
        sizes = [conv_output_size(size + before + after, k, s, 0, 0, d, args["ceil_mode"])
                 for size, k, s, (before, after), d in zip((height, width), kernel, stride, pads, dilation)]
    else:
        sizes = [conv_output_size(size, k, s, before, after, d, args["ceil_mode"])
                 for size, k, s, (before, after), d in zip((height, width), kernel, stride, pads, dilation)]
    if min(sizes) < 1:
        raise ShapeError(empty_output_message("pooling", (height, width), kernel, padding, dilation))
    window = kernel[0] * kernel[1]
    outputs = channels * sizes[0] * sizes[1]
    return LayerResult(
        output=(channels, sizes[0], sizes[1]),
        ops=outputs * (window - 1 if cls.name == "maxpool2d" else window),
        rf=Windows(tuple(conv_window(k, s, before, d) for k, s, (before, _), d in zip(kernel, stride, pads, dilation))),
    )


def _stride(args):
    return args["stride"] or args["kernel_size"]


def _check_half_kernel(args, dilation=(1, 1)):
    """PyTorch's rule for the module's own (symmetric) padding; an asymmetric or tf_same padding
    is an explicit pad module before the pool, which has no such rule."""
    if isinstance(args["padding"], str) or isinstance(args["padding"][0], tuple):
        return
    for k, p, d in zip(args["kernel_size"], args["padding"], dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise SpecError(f"padding {p} must be at most half the kernel size {k} (PyTorch's rule)")


def _keeps_argmax(out_shape, copy: int = 0, in_shape=()) -> MemoryRule:
    """Max pooling's backward scatters the gradient through the argmax: it keeps the input (or
    the padded copy it pooled, padding.padded_copy, whose gradient backward makes before cutting
    the padding off) and int64 indices, one per output element."""
    indices = (Kept(elements(out_shape), INT64),)
    if copy:
        return MemoryRule(kept=(Kept(copy), *indices), transient=(Kept(copy), *indices),
                          input_grad_scratch=copy - elements(in_shape))
    return MemoryRule(saves_input=True, kept=indices, transient=indices)


def _copy(args, in_shapes, dilation=(1, 1)) -> int:
    return padded_copy(args["padding"], _pads(args, in_shapes[0][1:], dilation), in_shapes[0])


@register
class MaxPool2d(LayerType):
    name = "maxpool2d"
    aliases = ("maxpool", "max_pool2d")
    family = "pooling"
    summary = "Max pooling (torch.nn.MaxPool2d)."
    shorthand = ("pool", "max")
    short_name = "pool"
    chain_positional = "kernel_stride"
    title = "max pooling"
    args = (
        Arg("kernel_size", pair(1), aliases=("kernel", "k")),
        Arg("stride", optional(pair(1)), None, ("s",), "defaults to kernel_size"),
        _PADDING,
        Arg("dilation", pair(1), 1),
        Arg("ceil_mode", boolean, False, (), "round the output size up"),
    )
    shape_rule = "as conv2d with C unchanged; ceil_mode rounds up, but the last window must start inside the input or left padding"
    ops_rule = "(kernel_h x kernel_w - 1) comparisons per output element"
    rf_rule = "as conv2d"

    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training:
                              _keeps_argmax(out_shape, _copy(args, in_shapes, args["dilation"]), in_shapes[0]))

    @classmethod
    def check(cls, args):
        # PyTorch checks max-pool padding against kernel_size // 2 whatever the dilation
        _check_half_kernel(args)

    @classmethod
    def infer(cls, args, inputs):
        return _window_pool(cls, args, inputs, args["dilation"])

    torch_defaults = dict(padding=0, dilation=1, ceil_mode=False)

    @classmethod
    def torch_module(cls, args, in_shapes):
        call = ModuleCall("MaxPool2d", (args["kernel_size"],), dict(
            stride=_stride(args), padding=0, dilation=args["dilation"], ceil_mode=args["ceil_mode"]))
        return padded(call, _pads(args, in_shapes[0][1:], args["dilation"]))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        """An average pool reads the same window with positive weights; with dilation, a ones
        convolution padded on the right as far as ceil_mode reaches."""
        stride = _stride(args)
        sides = _pads(args, in_shapes[0][1:], args["dilation"])
        if args["dilation"] == (1, 1):
            return padded(ModuleCall("AvgPool2d", (args["kernel_size"],), dict(stride=stride, padding=0,
                                                                               ceil_mode=args["ceil_mode"])), sides)
        pads = []
        for size, out, k, s, (p, after), d in zip(in_shapes[0][1:], out_shape[1:], args["kernel_size"], stride, sides,
                                                  args["dilation"]):
            pads.append((p, max(after, (out - 1) * s + d * (k - 1) + 1 - size - p)))
        return ModuleCall("archcalc.SumPool", (), dict(kernel_size=args["kernel_size"], stride=stride,
                                                       dilation=args["dilation"], pads=tuple(pads)))

    @classmethod
    def axis_args(cls, args, axis):
        return _conv_axis_args(args, axis)


@register
class AvgPool2d(LayerType):
    name = "avgpool2d"
    aliases = ("avgpool", "avg_pool2d")
    family = "pooling"
    summary = "Average pooling (torch.nn.AvgPool2d)."
    shorthand = ("avg",)
    short_name = "pool"
    chain_positional = "kernel_stride"
    title = "average pooling"
    args = (
        Arg("kernel_size", pair(1), aliases=("kernel", "k")),
        Arg("stride", optional(pair(1)), None, ("s",), "defaults to kernel_size"),
        _PADDING,
        Arg("ceil_mode", boolean, False),
        Arg("count_include_pad", boolean, True, (), "does not change any count"),
    )
    shape_rule = MaxPool2d.shape_rule
    ops_rule = "kernel_h x kernel_w ops (adds and one divide) per output element"
    rf_rule = "as conv2d"

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        copy = _copy(args, in_shapes)  # avg_pool2d_backward takes the input: the padded copy, if any
        if not copy:
            return MemoryRule(saves_input=True)
        return MemoryRule(kept=(Kept(copy),), transient=(Kept(copy),), input_grad_scratch=copy - elements(in_shapes[0]))

    @classmethod
    def check(cls, args):
        _check_half_kernel(args)

    @classmethod
    def infer(cls, args, inputs):
        return _window_pool(cls, args, inputs)

    torch_defaults = dict(padding=0, ceil_mode=False, count_include_pad=True)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return padded(ModuleCall("AvgPool2d", (args["kernel_size"],), dict(
            stride=_stride(args), padding=0, ceil_mode=args["ceil_mode"],
            count_include_pad=args["count_include_pad"])), _pads(args, in_shapes[0][1:]))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        return padded(ModuleCall("AvgPool2d", (args["kernel_size"],), dict(stride=_stride(args), padding=0,
                                                                           ceil_mode=args["ceil_mode"])),
                      _pads(args, in_shapes[0][1:]))

    @classmethod
    def axis_args(cls, args, axis):
        return _conv_axis_args(args, axis)


def _output_size(value: Any) -> tuple[Any, Any]:
    if isinstance(value, list):
        if len(value) != 2:
            raise SpecError(f"must be one integer or a pair [h, w], got {len(value)} values")
        return tuple(None if v is None else positive_int(v) for v in value)  # type: ignore[return-value]
    v = positive_int(value)
    return (v, v)


def _adaptive(cls, args, inputs):
    channels, height, width = spatial(inputs[0], cls.name)
    sizes = [size if want is None else want for size, want in zip((height, width), args["output_size"])]
    ops = channels
    for size, out in zip((height, width), sizes):
        # total bin length along the axis: the sum over bins of ceil((o+1)*in/out) - floor(o*in/out),
        # which telescopes to in + out - gcd(in, out) (exact, in constant time)
        ops *= size + out - math.gcd(size, out)
    rf = WHOLE if sizes == [1, 1] else Windows(tuple(adaptive_pool_window(size, out) for size, out in zip((height, width), sizes)))
    return LayerResult(output=(channels, sizes[0], sizes[1]), ops=ops, rf=rf)


@register
class AdaptiveAvgPool2d(LayerType):
    name = "adaptive_avgpool2d"
    aliases = ("adaptive_avg_pool2d",)
    family = "pooling"
    summary = "Adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d)."
    args = (Arg("output_size", _output_size, aliases=("size",), help="int or [h, w]; null keeps that axis"),)
    shape_rule = "C x output_size"
    ops_rule = "one op per input element of each bin"
    rf_rule = "whole input when the output is 1x1; else bin o reads [floor(o*in/out), ceil((o+1)*in/out))"
    torch_class = "AdaptiveAvgPool2d"

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        # a 1x1 output is input.mean() in ATen (keeps nothing); other sizes keep the input
        return NEW_OUTPUT if tuple(out_shape[1:]) == (1, 1) else MemoryRule(saves_input=True)

    @classmethod
    def infer(cls, args, inputs):
        return _adaptive(cls, args, inputs)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall(cls.torch_class, (tuple(args["output_size"]),))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        return ModuleCall("AdaptiveAvgPool2d", (tuple(args["output_size"]),))  # positive weights over the same bins

    @classmethod
    def axis_args(cls, args, axis):
        return {**args, "output_size": keep_axis(args["output_size"], axis, None)}

    @classmethod
    def field_grows_with_input(cls, args):
        return True


@register
class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    name = "adaptive_maxpool2d"
    aliases = ("adaptive_max_pool2d",)
    summary = "Adaptive max pooling (torch.nn.AdaptiveMaxPool2d)."
    torch_class = "AdaptiveMaxPool2d"

    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: _keeps_argmax(out_shape))


@register
class GlobalAvgPool2d(LayerType):
    name = "global_avgpool2d"
    aliases = ("global_avgpool", "gap")
    family = "pooling"
    summary = "Global average pooling to Cx1x1 (torch.nn.AdaptiveAvgPool2d(1))."
    shape_rule = "C x 1 x 1"
    ops_rule = "C x H x W"
    rf_rule = "whole input"
    torch_class = "AdaptiveAvgPool2d"

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        return NEW_OUTPUT  # input.mean() in ATen: its backward needs only the shape

    @classmethod
    def infer(cls, args, inputs):
        channels, height, width = spatial(inputs[0], cls.name)
        return LayerResult(output=(channels, 1, 1), ops=channels * height * width, rf=WHOLE)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall(cls.torch_class, (1,))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        return ModuleCall("AdaptiveAvgPool2d", (1,))


@register
class GlobalMaxPool2d(GlobalAvgPool2d):
    name = "global_maxpool2d"
    aliases = ("global_maxpool",)
    summary = "Global max pooling to Cx1x1 (torch.nn.AdaptiveMaxPool2d(1))."
    torch_class = "AdaptiveMaxPool2d"
    shorthand = ("gmp",)

    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: _keeps_argmax(out_shape))
