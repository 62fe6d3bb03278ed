"""Convolutions that compute their weight in forward: NF-Nets' scaled weight standardisation (timm's
ScaledStdConv2d / ScaledStdConv2dSame) and the fixed binomial blur of anti-aliased downsampling
(timm's BlurPool2d, whose filter is a buffer)."""

from __future__ import annotations

import math
from math import comb

from ..errors import ShapeError
from .args import Arg, choice, number, number_in, pair
from .base import LayerResult, LayerType, ModuleCall, Tensor, conv_output_size, fmt_int, keep_axis, register, spatial
from .conv import Conv2d, conv_args, empty_output_message
from .fieldrules import Windows
from .memrules import FLOAT32, Kept, MemoryRule
from .norm import stats_ops
from .padding import side_pads, symmetric, torch_order
from .windows import conv_window


@register
class ScaledStdConv2d(Conv2d):
    name = "scaled_std_conv2d"
    aliases = ("scaled_std_conv",)
    summary = ("2-D convolution with scaled weight standardisation (NF-Nets; timm's ScaledStdConv2d, with tf_same "
               "padding its ScaledStdConv2dSame): each filter standardised in forward to zero mean and unit variance "
               "over its fan-in, times gamma / sqrt(fan-in) and a learnable gain per output channel.")
    short_name = ""
    chain_positional = ""
    title = "scaled weight-standardised convolution"
    args = (*conv_args(2),
            Arg("gamma", number, 1.0, (), "the activation's gain the standardised weight is scaled by"),
            Arg("eps", number_in(0), 1e-6, (), "added to each filter's variance; at least 0"),
            Arg("gain_init", number, 1.0, (), "initial value of the learnable gain"))
    params_rule = Conv2d.params_rule + ", + out_channels (gain, out_channels x 1 x 1 x 1)"
    macs_rule = Conv2d.macs_rule + " (FlopCounterMode counts the convolution only, not the standardisation)"
    ops_rule = ("as conv2d, + the standardisation of the weight (W elements in out_channels filters): 5 per element, "
                "2 per filter, 1 per element for the gain, + out_channels for gain x gamma / sqrt(fan-in)")
    backward_rule = "as conv2d (the standardisation's batch_norm backward and products count 0)"

    @classmethod
    def infer(cls, args, inputs):
        result = super().infer(args, inputs)
        out, weight = args["out_channels"], result.params[0].count
        result.params.append(Tensor("gain", out, f"{out} (out_channels x 1 x 1 x 1) = {fmt_int(out)}"))
        result.ops += stats_ops(weight, out, 1) + out
        return result

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        rule = super().memory_rule(args, in_shapes, out_shape, training)
        out = args["out_channels"]
        weight = math.prod(args["kernel_size"]) * (in_shapes[0][0] // args["groups"]) * out
        # the standardised weight (the convolution's), gain x scale, and batch_norm's mean and
        # 1/std per filter: once per call, whatever the batch; without autograd the standardised
        # weight still lives while the convolution runs
        standardised = Kept(weight, per_sample=False)
        kept = (standardised, Kept(out, per_sample=False), Kept(out, FLOAT32, False), Kept(out, FLOAT32, False))
        return MemoryRule(saves_input=rule.saves_input, kept=rule.kept + kept, transient=rule.transient + (standardised,),
                          input_grad_scratch=rule.input_grad_scratch)

    torch_defaults = dict(Conv2d.torch_defaults, gamma=1.0, eps=1e-6, gain_init=1.0)

    @classmethod
    def torch_module(cls, args, in_shapes):
        padding, pads = args["padding"], None
        if padding not in ("same", "valid"):
            sides = side_pads(padding, args["kernel_size"], args["stride"], args["dilation"], in_shapes[0][1:])
            padding = symmetric(sides)
            if padding is None:  # asymmetric or tf_same: an explicit pad first
                padding, pads = 0, torch_order(sides)
        kwargs = dict(kernel_size=args["kernel_size"], stride=args["stride"], padding=padding,
                      dilation=args["dilation"], groups=args["groups"], bias=args["bias"], gamma=args["gamma"],
                      eps=args["eps"], gain_init=args["gain_init"])
        if pads is not None:
            kwargs["pads"] = pads
        return ModuleCall("archcalc.ScaledStdConv2d", (in_shapes[0][0], args["out_channels"]), kwargs)


@register
class BlurPool2d(LayerType):
    name = "blurpool2d"
    aliases = ("blur_pool2d", "blurpool")
    family = "pooling"
    summary = ("Anti-aliased downsampling (timm's BlurPool2d): the map padded (reflect by default), then each channel "
               "convolved with a fixed binomial filter (a buffer, not a parameter) at a stride.")
    title = "blur pooling"
    args = (
        Arg("filter_size", pair(2), 3, ("filt_size", "kernel_size", "kernel"),
            "the binomial filter's size (timm's filt_size), at least 2"),
        Arg("stride", pair(1), 2, ("s",)),
        Arg("pad_mode", choice("reflect", "constant", "replicate", "circular"), "reflect", (),
            "how the map is padded first, by p = ((stride - 1) + (filter_size - 1)) // 2 on both sides"),
    )
    shape_rule = ("H_out = floor((H + 2*p - filter_size) / stride) + 1, p = ((stride - 1) + (filter_size - 1)) // 2 "
                  "(same for W)")
    params_rule = ("0; buffer filt: C x 1 x filter_h x filter_w (the binomial filter per channel, not saved in the "
                   "state dict)")
    macs_rule = ("filter_h x filter_w x C x H_out x W_out (a depthwise convolution with the buffer, which "
                 "FlopCounterMode counts); FLOPs = 2 x MACs")
    ops_rule = "2 x MACs"
    rf_rule = "as a convolution with kernel filter_size, stride and padding p"
    backward_rule = ("one aten.convolution_backward for the input's gradient = FLOPs (the filter is a buffer: no weight "
                     "gradient)")
    torch_defaults = dict(filter_size=3, stride=2, pad_mode="reflect")

    @staticmethod
    def pads(args) -> tuple[int, ...]:
        return tuple(((s - 1) + (k - 1)) // 2 for k, s in zip(args["filter_size"], args["stride"]))

    @classmethod
    def infer(cls, args, inputs):
        channels, *sides = spatial(inputs[0], cls.name)
        kernel, stride, pads = args["filter_size"], args["stride"], cls.pads(args)
        if args["pad_mode"] == "reflect" and any(p >= size for p, size in zip(pads, sides)):
            raise ShapeError(f"reflect padding {max(pads)} needs more than {max(pads)} rows and columns, got "
                             f"{sides[0]}x{sides[1]}")
        sizes = [conv_output_size(size, k, st, p, p) for size, k, st, p in zip(sides, kernel, stride, pads)]
        if min(sizes) < 1:
            raise ShapeError(empty_output_message("blur", tuple(sides), kernel, list(pads)))
        macs = math.prod(kernel) * channels * math.prod(sizes)
        taps = " x ".join("/".join(str(comb(k - 1, i)) for i in range(k)) for k in kernel)
        count = channels * math.prod(kernel)
        buffers = [Tensor("filt", count, f"{channels}x1x{kernel[0]}x{kernel[1]} (binomial {taps}) = {fmt_int(count)}")]
        return LayerResult(output=(channels, *sizes), buffers=buffers, macs=macs, flops=2 * macs, ops=2 * macs,
                           backward_input_flops=2 * macs,
                           rf=Windows(tuple(conv_window(k, st, p) for k, st, p in zip(kernel, stride, pads))))

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        channels, *sides = in_shapes[0]
        copy = channels * math.prod(size + 2 * p for size, p in zip(sides, cls.pads(args)))
        # the padded copy is the convolution's input, which autograd keeps (the filter needs no
        # gradient); backward makes the padded copy's gradient, alive beside the input's, which the
        # reflection pad's backward sums into it
        return MemoryRule(kept=(Kept(copy),), transient=(Kept(copy),), input_grad_scratch=copy)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("archcalc.BlurPool2d", (in_shapes[0][0],), dict(
            filter_size=args["filter_size"], stride=args["stride"], pad_mode=args["pad_mode"]))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        # zero padding reaches the same positions: a reflected pixel lies inside the window already
        return ModuleCall("archcalc.BlurPool2d", (1,), dict(
            filter_size=args["filter_size"], stride=args["stride"], pad_mode="constant"))

    @classmethod
    def axis_args(cls, args, axis):
        return {**args, "filter_size": keep_axis(args["filter_size"], axis, 1),
                "stride": keep_axis(args["stride"], axis, 1)}
