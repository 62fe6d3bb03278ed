"""Convolutions: conv2d and conv_transpose2d (the notes' "deconvolution"), and their 1-D (CxL)
and 3-D (CxTxHxW) forms: one class per kind, parameterised by the number of spatial axes
(``dims``) and registered once per number."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Sequence

from ..errors import ShapeError, SpecError
from .fieldrules import Windows
from .memrules import Kept, MemoryRule
from .padding import TF_SAME, axis_padding, axes_padding_converter, padded, padded_copy, padding_text, side_pads
from .windows import conv_window, transposed_conv_window
from .args import AXIS_LETTERS, Arg, boolean, optional, per_axis, positive_int
from .base import (
    LayerResult,
    LayerType,
    ModuleCall,
    NoChainNotation,
    Shape,
    Tensor,
    check_channels,
    conv_output_size,
    elements,
    fmt_int,
    keep_axis,
    register,
    spatial,
)


def kernel_text(kernel: tuple[int, ...]) -> str:
    return "x".join(str(k) for k in kernel)


def channels_text(channels: int, groups: int) -> str:
    return f"({channels}/{groups})" if groups > 1 else str(channels)


def empty_output_message(kind: str, size: tuple[int, ...], kernel: tuple[int, ...], padding: Any, dilation=None) -> str:
    dilation = dilation or (1,) * len(kernel)
    dil = f" (dilation {dilation[0] if len(set(dilation)) == 1 else list(dilation)})" if any(d != 1 for d in dilation) else ""
    return (
        f"output would be empty: {kind} kernel {kernel_text(kernel)}{dil} does not fit a "
        f"{kernel_text(size)} input with padding {padding_text(padding)}"
    )


def conv_args(dims: int) -> tuple[Arg, ...]:
    """A convolution's arguments over ``dims`` spatial axes (per-side and tf_same padding in 2-D)."""
    if dims == 2:
        padding = Arg("padding", axes_padding_converter(2, "same", "valid", TF_SAME), 0, ("pad", "p"),
                      "int, [h, w], [top, bottom, left, right], 'same' (PyTorch's, stride 1), 'valid' or 'tf_same' "
                      "(TensorFlow's SAME: ceil(H / stride) outputs, the odd pixel bottom/right)")
    else:
        padding = Arg("padding", axes_padding_converter(dims, "same", "valid"), 0, ("pad", "p"),
                      f"int, {AXIS_LETTERS[dims]} (both sides of each axis), 'same' (PyTorch's, stride 1) or 'valid'")
    return (
        Arg("in_channels", optional(positive_int), None, ("in",), "checked against the input when given"),
        Arg("out_channels", positive_int, aliases=("out", "filters"), help="number of filters"),
        Arg("kernel_size", per_axis(dims, 1), aliases=("kernel", "k")),
        Arg("stride", per_axis(dims, 1), 1, ("s",)),
        padding,
        Arg("dilation", per_axis(dims, 1), 1),
        Arg("groups", positive_int, 1, (), "groups=in_channels makes a depthwise conv"),
        Arg("bias", boolean, True),
    )


@register
class Conv2d(LayerType):
    dims: ClassVar[int] = 2  # spatial axes: 1 (CxL), 2 (CxHxW) or 3 (CxTxHxW)
    torch_class: ClassVar[str] = "Conv2d"
    name = "conv2d"
    aliases = ("conv",)
    family = "convolution"
    summary = "2-D convolution (torch.nn.Conv2d)."
    short_name = "conv"
    chain_positional = "kernel_out"
    title = "convolution"
    args = conv_args(2)
    shape_rule = ("H_out = floor((H + top + bottom - dilation*(kernel-1) - 1) / stride) + 1 (same for W; top = bottom = "
                  "padding when one number); tf_same: H_out = ceil(H / stride); C_out = out_channels")
    params_rule = "kernel_h x kernel_w x (in_channels/groups) x out_channels, + out_channels if bias"
    macs_rule = "kernel_h x kernel_w x (in_channels/groups) x out_channels x H_out x W_out; FLOPs = 2 x MACs"
    ops_rule = "2 x MACs, + C_out x H_out x W_out bias adds"
    rf_rule = ("size += (dilation*(kernel-1)) x stride_in; stride_out = stride_in x stride; padding += top (left) x "
               "stride_in (the before side of an asymmetric or tf_same padding)")
    backward_rule = ("one aten.convolution_backward; gradient w.r.t. the input = FLOPs (a transposed convolution of the "
                     "output gradient); w.r.t. the weights = 2 x kernel_h x kernel_w x in_channels x out_channels x "
                     "H_out x W_out = groups x FLOPs (FlopCounterMode does not divide this part by groups); the bias "
                     "gradient counts 0")

    autocast_output = "half"  # autocast runs convolutions and matrix products in half precision

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        # the gradient w.r.t. the weights reads the input, or the padded copy of it where the
        # padding is not the module's own (padding.padded_copy), which it keeps instead
        pads = side_pads(args["padding"], args["kernel_size"], args["stride"], args["dilation"], in_shapes[0][1:])
        copy = padded_copy(args["padding"], pads, in_shapes[0])
        if not copy:
            return MemoryRule(saves_input=True)
        # backward makes the padded copy's gradient, then cuts the padding off for the input's
        return MemoryRule(kept=(Kept(copy),), transient=(Kept(copy),), input_grad_scratch=copy - elements(in_shapes[0]))

    @classmethod
    def check(cls, args):
        if args["padding"] == "same" and any(s != 1 for s in args["stride"]):
            raise SpecError("padding 'same' needs stride 1 (PyTorch does not support it for strided convolutions); "
                            "'tf_same' is TensorFlow's SAME, which allows strides")

    @classmethod
    def infer(cls, args: dict[str, Any], inputs: Sequence[Shape]) -> LayerResult:
        channels, *sides = spatial(inputs[0], cls.name, cls.dims)
        check_channels(cls.name, args["in_channels"], channels)
        out, groups = args["out_channels"], args["groups"]
        if channels % groups or out % groups:
            raise ShapeError(f"groups={groups} must divide in_channels ({channels}) and out_channels ({out})")
        kernel, stride, dilation = args["kernel_size"], args["stride"], args["dilation"]
        pads = side_pads(args["padding"], kernel, stride, dilation, sides)
        sizes = [
            conv_output_size(size, k, s, pl, pr, d)
            for size, k, s, (pl, pr), d in zip(sides, kernel, stride, pads, dilation)
        ]
        if min(sizes) < 1:
            raise ShapeError(empty_output_message("conv", tuple(sides), kernel, args["padding"], dilation))
        per_group_in = channels // groups
        weight = math.prod(kernel) * per_group_in * out
        params = [Tensor("weight", weight, f"{kernel_text(kernel)}x{channels_text(channels, groups)}x{out} = {fmt_int(weight)}")]
        positions = math.prod(sizes)
        if args["bias"]:
            params.append(Tensor("bias", out, f"{out} = {fmt_int(out)}"))
        macs = weight * positions
        return LayerResult(
            output=(out, *sizes),
            params=params,
            macs=macs,
            flops=2 * macs,
            ops=2 * macs + (out * positions if args["bias"] else 0),
            backward_input_flops=2 * macs,
            backward_weight_flops=2 * macs * groups,
            rf=Windows(tuple(conv_window(k, s, pl, d) for k, s, (pl, _), d in zip(kernel, stride, pads, dilation))),
        )

    torch_defaults = dict(stride=1, padding=0, dilation=1, groups=1, bias=True)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return _with_padding(args, in_shapes, ModuleCall(cls.torch_class, (in_shapes[0][0], args["out_channels"]), dict(
            kernel_size=args["kernel_size"], stride=args["stride"], padding=args["padding"],
            dilation=args["dilation"], groups=args["groups"], bias=args["bias"])))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        pads = side_pads(args["padding"], args["kernel_size"], args["stride"], args["dilation"], in_shapes[0][1:])
        if all(k == 1 for k in args["kernel_size"]) and all(s == 1 for s in args["stride"]) and not any(sum(pads, ())):
            return ModuleCall("Identity")  # reads exactly its own position: the field is unchanged
        return _with_padding(args, in_shapes, ModuleCall(cls.torch_class, (1, 1), dict(
            kernel_size=args["kernel_size"], stride=args["stride"], padding=args["padding"], dilation=args["dilation"],
            bias=False)))

    @classmethod
    def axis_args(cls, args, axis):
        return _conv_axis_args(args, axis)


@register
class Conv1d(Conv2d):
    dims = 1
    torch_class = "Conv1d"
    name = "conv1d"
    aliases = ()
    summary = "1-D convolution over a CxL sequence (torch.nn.Conv1d)."
    short_name = ""
    chain_positional = ""
    title = "1-D convolution"
    args = conv_args(1)
    shape_rule = ("L_out = floor((L + 2*padding - dilation*(kernel-1) - 1) / stride) + 1; 'same' (stride 1) pads "
                  "dilation*(kernel-1) in all, the odd one after; C_out = out_channels")
    params_rule = "kernel x (in_channels/groups) x out_channels, + out_channels if bias"
    macs_rule = "kernel x (in_channels/groups) x out_channels x L_out; FLOPs = 2 x MACs"
    ops_rule = "2 x MACs, + C_out x L_out bias adds"
    rf_rule = "as conv2d, along L"
    backward_rule = "as conv2d: gradient w.r.t. the input = FLOPs; w.r.t. the weights = groups x FLOPs"


@register
class Conv3d(Conv2d):
    dims = 3
    torch_class = "Conv3d"
    name = "conv3d"
    aliases = ()
    summary = "3-D convolution over a CxTxHxW volume or clip (torch.nn.Conv3d)."
    short_name = ""
    chain_positional = ""
    title = "3-D convolution"
    args = conv_args(3)
    shape_rule = ("T_out, H_out, W_out each as conv2d's H_out along its axis: floor((T + 2*padding - dilation*(kernel-1) "
                  "- 1) / stride) + 1; C_out = out_channels")
    params_rule = "kernel_t x kernel_h x kernel_w x (in_channels/groups) x out_channels, + out_channels if bias"
    macs_rule = "kernel_t x kernel_h x kernel_w x (in_channels/groups) x out_channels x T_out x H_out x W_out; FLOPs = 2 x MACs"
    ops_rule = "2 x MACs, + C_out x T_out x H_out x W_out bias adds"
    rf_rule = "as conv2d, along each of T, H and W (a field prints as TxHxW, e.g. 3x7x7)"
    backward_rule = "as conv2d: gradient w.r.t. the input = FLOPs; w.r.t. the weights = groups x FLOPs"


def transposed_args(dims: int) -> tuple[Arg, ...]:
    axes = per_axis(dims, 0)
    return (
        Arg("in_channels", optional(positive_int), None, ("in",), "checked against the input when given"),
        Arg("out_channels", positive_int, aliases=("out", "filters")),
        Arg("kernel_size", per_axis(dims, 1), aliases=("kernel", "k")),
        Arg("stride", per_axis(dims, 1), 1, ("s",)),
        Arg("padding", axes, 0, ("pad", "p")),
        Arg("output_padding", axes, 0, (), "extra rows/columns on one side; must be < stride or < dilation"),
        Arg("dilation", per_axis(dims, 1), 1),
        Arg("groups", positive_int, 1),
        Arg("bias", boolean, True),
    )


@register
class ConvTranspose2d(LayerType):
    dims: ClassVar[int] = 2
    torch_class: ClassVar[str] = "ConvTranspose2d"
    name = "conv_transpose2d"
    aliases = ("deconv", "conv_transpose", "deconv2d")
    family = "convolution"
    summary = "2-D transposed convolution, the notes' 'deconvolution' (torch.nn.ConvTranspose2d)."
    shorthand = ("convt", "upconv")
    short_name = "deconv"
    chain_positional = "kernel_out"
    title = "transposed convolution"
    args = transposed_args(2)
    shape_rule = "H_out = (H - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1 (same for W)"
    params_rule = "in_channels x (out_channels/groups) x kernel_h x kernel_w, + out_channels if bias"
    macs_rule = "in_channels x (out_channels/groups) x kernel_h x kernel_w x H_in x W_in (each input pixel scatters one kernel); FLOPs = 2 x MACs"
    ops_rule = "2 x MACs, + C_out x H_out x W_out bias adds"
    backward_rule = ("one aten.convolution_backward; gradient w.r.t. the input = FLOPs (a convolution of the output "
                     "gradient); w.r.t. the weights = 2 x in_channels x out_channels x kernel_h x kernel_w x H_in x W_in "
                     "= groups x FLOPs (FlopCounterMode does not divide this part by groups); the bias gradient counts 0")
    rf_rule = "fractional: stride_out = stride_in / stride; output o reads inputs i with i*stride - padding + k*dilation = o (exact, periodic tables)"

    autocast_output = "half"  # autocast runs convolutions and matrix products in half precision

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        return MemoryRule(saves_input=True)  # the gradient w.r.t. the weights reads the input

    @classmethod
    def check(cls, args):
        for axis in range(cls.dims):
            op, s, d = args["output_padding"][axis], args["stride"][axis], args["dilation"][axis]
            if op >= s and op >= d:
                raise SpecError(f"output_padding {op} must be smaller than either stride ({s}) or dilation ({d})")

    @classmethod
    def infer(cls, args, inputs):
        channels, *sides = spatial(inputs[0], cls.name, cls.dims)
        check_channels(cls.name, args["in_channels"], channels)
        out, groups = args["out_channels"], args["groups"]
        if channels % groups or out % groups:
            raise ShapeError(f"groups={groups} must divide in_channels ({channels}) and out_channels ({out})")
        kernel, stride, padding, dilation = args["kernel_size"], args["stride"], args["padding"], args["dilation"]
        output_padding = args["output_padding"]
        sizes = [
            (size - 1) * s - 2 * p + d * (k - 1) + op + 1
            for size, k, s, p, d, op in zip(sides, kernel, stride, padding, dilation, output_padding)
        ]
        if min(sizes) < 1:
            raise ShapeError(
                f"output would be empty: transposed conv of a {kernel_text(sides)} input with kernel "
                f"{kernel_text(kernel)}, stride {list(stride)} and padding {list(padding)} gives {kernel_text(sizes)}"
            )
        weight = channels * (out // groups) * math.prod(kernel)
        params = [Tensor("weight", weight, f"{channels}x{channels_text(out, groups)}x{kernel_text(kernel)} = {fmt_int(weight)}")]
        if args["bias"]:
            params.append(Tensor("bias", out, f"{out} = {fmt_int(out)}"))
        macs = weight * math.prod(sides)
        return LayerResult(
            output=(out, *sizes),
            params=params,
            macs=macs,
            flops=2 * macs,
            ops=2 * macs + (out * math.prod(sizes) if args["bias"] else 0),
            backward_input_flops=2 * macs,
            backward_weight_flops=2 * macs * groups,
            rf=Windows(tuple(transposed_conv_window(k, s, p, d) for k, s, p, d in zip(kernel, stride, padding, dilation))),
        )

    torch_defaults = dict(stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall(cls.torch_class, (in_shapes[0][0], args["out_channels"]), dict(
            kernel_size=args["kernel_size"], stride=args["stride"], padding=args["padding"],
            output_padding=args["output_padding"], groups=args["groups"], bias=args["bias"], dilation=args["dilation"]))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        return ModuleCall(cls.torch_class, (1, 1), dict(
            kernel_size=args["kernel_size"], stride=args["stride"], padding=args["padding"],
            output_padding=args["output_padding"], bias=False, dilation=args["dilation"]))

    @classmethod
    def axis_args(cls, args, axis):
        return _conv_axis_args(args, axis)


@register
class ConvTranspose1d(NoChainNotation, ConvTranspose2d):
    dims = 1
    torch_class = "ConvTranspose1d"
    name = "conv_transpose1d"
    aliases = ("deconv1d",)
    summary = "1-D transposed convolution over a CxL sequence (torch.nn.ConvTranspose1d)."
    title = "1-D transposed convolution"
    args = transposed_args(1)
    shape_rule = "L_out = (L - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1"
    params_rule = "in_channels x (out_channels/groups) x kernel, + out_channels if bias"
    macs_rule = "in_channels x (out_channels/groups) x kernel x L_in; FLOPs = 2 x MACs"
    ops_rule = "2 x MACs, + C_out x L_out bias adds"
    backward_rule = "as conv_transpose2d: gradient w.r.t. the input = FLOPs; w.r.t. the weights = groups x FLOPs"
    rf_rule = "as conv_transpose2d, along L"


@register
class ConvTranspose3d(NoChainNotation, ConvTranspose2d):
    dims = 3
    torch_class = "ConvTranspose3d"
    name = "conv_transpose3d"
    aliases = ("deconv3d",)
    summary = "3-D transposed convolution over a CxTxHxW volume (torch.nn.ConvTranspose3d)."
    title = "3-D transposed convolution"
    args = transposed_args(3)
    shape_rule = "T_out, H_out, W_out each (in - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1"
    params_rule = "in_channels x (out_channels/groups) x kernel_t x kernel_h x kernel_w, + out_channels if bias"
    macs_rule = "in_channels x (out_channels/groups) x kernel_t x kernel_h x kernel_w x T_in x H_in x W_in; FLOPs = 2 x MACs"
    ops_rule = "2 x MACs, + C_out x T_out x H_out x W_out bias adds"
    backward_rule = "as conv_transpose2d: gradient w.r.t. the input = FLOPs; w.r.t. the weights = groups x FLOPs"
    rf_rule = "as conv_transpose2d, along each of T, H and W"


def _with_padding(args: dict[str, Any], in_shapes, call: ModuleCall) -> ModuleCall:
    """A convolution's module with its padding: PyTorch's own 'same'/'valid' and symmetric
    paddings as the module's argument, asymmetric and tf_same ones as an explicit pad first."""
    if args["padding"] in ("same", "valid"):
        return call
    pads = side_pads(args["padding"], args["kernel_size"], args["stride"], args["dilation"], in_shapes[0][1:])
    return padded(call, pads)


def _conv_axis_args(args: dict[str, Any], axis: int) -> dict[str, Any]:
    """Convolutions and pooling in the one-axis probe twin: kernel, stride, dilation, padding
    (and output_padding) kept along ``axis``, trivial along the others. Channels stay as the spec
    has them (the probe module itself has one channel): a join with a branch that keeps its
    width (a pool, the group input) still adds up."""
    args = dict(args)
    for key, trivial in (("kernel_size", 1), ("stride", 1), ("dilation", 1), ("output_padding", 0)):
        if args.get(key) is not None:
            args[key] = keep_axis(args[key], axis, trivial)
    args["padding"] = axis_padding(args["padding"], axis)
    if "in_channels" in args:
        args["in_channels"] = None
    return args
