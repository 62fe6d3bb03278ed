"""Pooling: max/avg with windows, adaptive and global pooling; max/avg/adaptive pooling also in
1-D (CxL) and 3-D (CxTxHxW): one class per kind parameterised by the number of spatial axes."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from ..errors import ShapeError, SpecError
from .windows import adaptive_pool_window, conv_window
from .args import AXIS_LETTERS, Arg, boolean, optional, per_axis, positive_int
from .base import LayerResult, LayerType, ModuleCall, conv_output_size, elements, keep_axis, register, spatial
from .conv import _conv_axis_args, empty_output_message
from .padding import TF_SAME, axes_padding_converter, padded, padded_copy, side_pads, symmetric
from .fieldrules import WHOLE, Windows
from .memrules import INT64, NEW_OUTPUT, Kept, MemoryRule


def _padding_arg(dims: int) -> Arg:
    if dims == 2:
        return Arg("padding", axes_padding_converter(2, TF_SAME), 0, ("pad", "p"),
                   "int or [h, w] (at most half the kernel), [top, bottom, left, right] or 'tf_same' (TensorFlow's SAME)")
    return Arg("padding", axes_padding_converter(dims), 0, ("pad", "p"),
               f"int or {AXIS_LETTERS[dims]} (both sides of each axis, at most half the kernel)")


_PADDING = _padding_arg(2)


def _ones(args):
    return (1,) * len(args["kernel_size"])


def _pads(args, sizes, dilation=None):
    return side_pads(args["padding"], args["kernel_size"], _stride(args), dilation or _ones(args), sizes)


def _window_pool(cls, args, inputs, dilation=None):
    channels, *sides = spatial(inputs[0], cls.name, cls.dims)
    kernel, padding = args["kernel_size"], args["padding"]
    dilation = dilation or _ones(args)
    stride = args["stride"] or kernel
    pads = _pads(args, sides, dilation)
    if symmetric(pads) is None:  # padded first, then pooled without padding (archcalc.pytorch.padded)
        sizes = [conv_output_size(size + before + after, k, s, 0, 0, d, args["ceil_mode"])
                 for size, k, s, (before, after), d in zip(sides, kernel, stride, pads, dilation)]
    else:
        sizes = [conv_output_size(size, k, s, before, after, d, args["ceil_mode"])
                 for size, k, s, (before, after), d in zip(sides, kernel, stride, pads, dilation)]
    if min(sizes) < 1:
        raise ShapeError(empty_output_message("pooling", tuple(sides), kernel, padding, dilation))
    window = math.prod(kernel)
    outputs = channels * math.prod(sizes)
    return LayerResult(
        output=(channels, *sizes),
        ops=outputs * (window - 1 if cls.takes_max else window),
        rf=Windows(tuple(conv_window(k, s, before, d) for k, s, (before, _), d in zip(kernel, stride, pads, dilation))),
    )


def _stride(args):
    return args["stride"] or args["kernel_size"]


def _check_half_kernel(args, dilation=None):
    """PyTorch's rule for the module's own (symmetric) padding; an asymmetric or tf_same padding
    is an explicit pad module before the pool, which has no such rule."""
    if isinstance(args["padding"], str) or isinstance(args["padding"][0], tuple):
        return
    for k, p, d in zip(args["kernel_size"], args["padding"], dilation or _ones(args)):
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


def _copy(args, in_shapes, dilation=None) -> int:
    return padded_copy(args["padding"], _pads(args, in_shapes[0][1:], dilation), in_shapes[0])


def _pool_args(dims: int, dilation: bool) -> tuple[Arg, ...]:
    """A window pool's arguments over ``dims`` spatial axes: max pooling takes a dilation, average
    pooling count_include_pad."""
    window = (
        Arg("kernel_size", per_axis(dims, 1), aliases=("kernel", "k")),
        Arg("stride", optional(per_axis(dims, 1)), None, ("s",), "defaults to kernel_size"),
        _padding_arg(dims),
    )
    if dilation:
        return (*window, Arg("dilation", per_axis(dims, 1), 1),
                Arg("ceil_mode", boolean, False, (), "round the output size up"))
    return (*window, Arg("ceil_mode", boolean, False),
            Arg("count_include_pad", boolean, True, (), "does not change any count"))


@register
class MaxPool2d(LayerType):
    dims: ClassVar[int] = 2  # spatial axes: 1 (CxL), 2 (CxHxW) or 3 (CxTxHxW)
    torch_class: ClassVar[str] = "MaxPool2d"
    takes_max: ClassVar[bool] = True  # one comparison fewer than the window per output
    name = "maxpool2d"
    aliases = ("maxpool", "max_pool2d")
    family = "pooling"
    summary = "Max pooling (torch.nn.MaxPool2d)."
    shorthand = ("pool", "max")
    short_name = "pool"
    chain_positional = "kernel_stride"
    title = "max pooling"
    args = _pool_args(2, dilation=True)
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
        call = ModuleCall(cls.torch_class, (args["kernel_size"],), dict(
            stride=_stride(args), padding=0, dilation=args["dilation"], ceil_mode=args["ceil_mode"]))
        return padded(call, _pads(args, in_shapes[0][1:], args["dilation"]))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        """An average pool reads the same window with positive weights; with dilation, a ones
        convolution padded on the right as far as ceil_mode reaches."""
        stride = _stride(args)
        sides = _pads(args, in_shapes[0][1:], args["dilation"])
        if all(d == 1 for d in args["dilation"]):
            return padded(ModuleCall(f"AvgPool{cls.dims}d", (args["kernel_size"],), dict(stride=stride, padding=0,
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
    dims: ClassVar[int] = 2
    torch_class: ClassVar[str] = "AvgPool2d"
    takes_max: ClassVar[bool] = False
    name = "avgpool2d"
    aliases = ("avgpool", "avg_pool2d")
    family = "pooling"
    summary = "Average pooling (torch.nn.AvgPool2d)."
    shorthand = ("avg",)
    short_name = "pool"
    chain_positional = "kernel_stride"
    title = "average pooling"
    args = _pool_args(2, dilation=False)
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
        return padded(ModuleCall(cls.torch_class, (args["kernel_size"],), dict(
            stride=_stride(args), padding=0, ceil_mode=args["ceil_mode"],
            count_include_pad=args["count_include_pad"])), _pads(args, in_shapes[0][1:]))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        return padded(ModuleCall(cls.torch_class, (args["kernel_size"],), dict(stride=_stride(args), padding=0,
                                                                           ceil_mode=args["ceil_mode"])),
                      _pads(args, in_shapes[0][1:]))

    @classmethod
    def axis_args(cls, args, axis):
        return _conv_axis_args(args, axis)


def _output_sizes(dims: int):
    """An adaptive pool's output_size over ``dims`` axes: an int, or one per axis (null keeps it)."""

    def convert(value: Any) -> tuple[Any, ...]:
        if isinstance(value, list):
            if len(value) != dims:
                what = "a pair [h, w]" if dims == 2 else AXIS_LETTERS[dims]
                raise SpecError(f"must be one integer or {what}, got {len(value)} values")
            return tuple(None if v is None else positive_int(v) for v in value)
        return (positive_int(value),) * dims

    return convert


_output_size = _output_sizes(2)


def _adaptive(cls, args, inputs):
    channels, *sides = spatial(inputs[0], cls.name, cls.dims)
    sizes = [size if want is None else want for size, want in zip(sides, args["output_size"])]
    ops = channels
    for size, out in zip(sides, sizes):
        # total bin length along the axis: the sum over bins of ceil((o+1)*in/out) - floor(o*in/out),
        # which telescopes to in + out - gcd(in, out) (exact, in constant time)
        ops *= size + out - math.gcd(size, out)
    rf = WHOLE if all(s == 1 for s in sizes) else Windows(tuple(adaptive_pool_window(size, out) for size, out in zip(sides, sizes)))
    return LayerResult(output=(channels, *sizes), ops=ops, rf=rf)


@register
class AdaptiveAvgPool2d(LayerType):
    dims: ClassVar[int] = 2
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
        return NEW_OUTPUT if all(s == 1 for s in out_shape[1:]) else MemoryRule(saves_input=True)

    @classmethod
    def infer(cls, args, inputs):
        return _adaptive(cls, args, inputs)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall(cls.torch_class, (tuple(args["output_size"]),))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):  # positive weights over the same bins
        return ModuleCall(f"AdaptiveAvgPool{cls.dims}d", (tuple(args["output_size"]),))

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


def _adaptive_args(dims: int) -> tuple[Arg, ...]:
    return (Arg("output_size", _output_sizes(dims), aliases=("size",),
                help=f"int or {AXIS_LETTERS[dims]}; null keeps that axis"),)


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
