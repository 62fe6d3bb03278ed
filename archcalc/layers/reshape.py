"""Layers that move data without learning: flatten and upsample."""

from __future__ import annotations

from ..errors import SpecError
from .windows import bilinear_upsample_window, nearest_upsample_window
from .base import WHOLE, Arg, LayerResult, LayerType, boolean, choice, elements, optional, pair, register, spatial

UNKNOWN = "unknown"


@register
class Flatten(LayerType):
    name = "flatten"
    family = "structure"
    summary = "Flattens a CxHxW map into a C*H*W vector (torch.nn.Flatten)."
    flat_output = True
    shape_rule = "C x H x W -> C*H*W"
    rf_rule = "unchanged; the next linear layer sees the whole input"

    @classmethod
    def infer(cls, args, inputs):
        shape = inputs[0]
        # A flat vector has no spatial axes left: every later field is the whole input.
        return LayerResult(output=(elements(shape),), rf=WHOLE)


@register
class Upsample(LayerType):
    name = "upsample"
    family = "structure"
    summary = "Nearest or bilinear upsampling by an integer scale factor or to a size (torch.nn.Upsample)."
    args = (
        Arg("scale_factor", optional(pair(1)), None, ("scale",), "integer factor (or [h, w])"),
        Arg("size", optional(pair(1)), None, (), "output size (int or [h, w]); instead of scale_factor"),
        Arg("mode", choice("nearest", "bilinear"), "nearest"),
        Arg("align_corners", optional(boolean), None, (), "bilinear only"),
    )
    shape_rule = "H x scale_factor (or size)"
    ops_rule = "nearest: 0; bilinear: 4 per output element (two lerps)"
    rf_rule = "fractional: stride_out = stride_in / factor; nearest reads floor(o/factor); bilinear the one or two neighbours with non-zero weight. Receptive field unknown for non-integer ratios and align_corners=true"

    @classmethod
    def check(cls, args):
        if (args["scale_factor"] is None) == (args["size"] is None):
            raise SpecError("give exactly one of scale_factor and size")
        if args["align_corners"] is not None and args["mode"] == "nearest":
            raise SpecError("align_corners only applies to mode 'bilinear'")

    @classmethod
    def infer(cls, args, inputs):
        channels, height, width = spatial(inputs[0], cls.name)
        if args["size"] is not None:
            sizes = list(args["size"])
        else:
            sizes = [height * args["scale_factor"][0], width * args["scale_factor"][1]]
        rf = []
        for size, out in zip((height, width), sizes):
            if out % size or args["align_corners"]:
                rf = UNKNOWN
                break
            factor = out // size
            rf.append(nearest_upsample_window(factor) if args["mode"] == "nearest" else bilinear_upsample_window(factor))
        ops = 0 if args["mode"] == "nearest" else 4 * channels * sizes[0] * sizes[1]
        return LayerResult(output=(channels, sizes[0], sizes[1]), ops=ops, rf=rf)
