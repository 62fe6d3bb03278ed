"""Layers that move data without learning: flatten and upsample."""

from __future__ import annotations

from ..errors import SpecError
from .windows import bilinear_upsample_window, nearest_upsample_window
from .args import Arg, boolean, choice, optional, pair
from .base import LayerResult, LayerType, ModuleCall, elements, keep_axis, register, spatial
from .fieldrules import WHOLE, Unknown, Windows
from .memrules import PASS_THROUGH


@register
class Flatten(LayerType):
    name = "flatten"
    family = "structure"
    summary = "Flattens a CxHxW map into a C*H*W vector (torch.nn.Flatten)."
    flat_output = True
    shape_rule = "C x H x W -> C*H*W"
    rf_rule = "unchanged; the next linear layer sees the whole input"
    # a view of the (contiguous) input; backward reshapes the gradient, again a view
    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: PASS_THROUGH)

    @classmethod
    def infer(cls, args, inputs):
        shape = inputs[0]
        # A flat vector has no spatial axes left: every later field is the whole input.
        return LayerResult(output=(elements(shape),), rf=WHOLE)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("Flatten")

    @classmethod
    def probe_shape(cls, args, out_shape, probe_in):
        return (elements(probe_in[0]),)


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
        ops = 0 if args["mode"] == "nearest" else 4 * channels * sizes[0] * sizes[1]
        return LayerResult(output=(channels, sizes[0], sizes[1]), ops=ops, rf=cls._field_rule(args, (height, width), sizes))

    @classmethod
    def _field_rule(cls, args, sizes_in, sizes_out):
        windows = []
        for size, out in zip(sizes_in, sizes_out):
            if out % size or args["align_corners"]:
                return Unknown("non-integer scale or align_corners")
            factor = out // size
            windows.append(nearest_upsample_window(factor) if args["mode"] == "nearest" else bilinear_upsample_window(factor))
        return Windows(tuple(windows))

    @classmethod
    def torch_module(cls, args, in_shapes):
        kwargs = {"mode": args["mode"]}
        if args["size"] is not None:
            kwargs["size"] = tuple(args["size"])
        else:
            kwargs["scale_factor"] = tuple(float(f) for f in args["scale_factor"])
        if args["align_corners"] is not None:
            kwargs["align_corners"] = args["align_corners"]
        return ModuleCall("Upsample", (), kwargs)

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        if args["mode"] == "bilinear":  # torch's own weights, float noise snapped to zero
            return ModuleCall("archcalc.SnappedBilinear", (), dict(
                in_size=tuple(in_shapes[0][1:]), out_size=tuple(out_shape[1:]), align_corners=bool(args["align_corners"])))
        return cls.torch_module(args, in_shapes)

    @classmethod
    def axis_args(cls, args, axis):
        key = "size" if args["size"] is not None else "scale_factor"
        return {**args, key: keep_axis(args[key], axis, 1)}

    @classmethod
    def field_grows_with_input(cls, args):
        return args["size"] is not None
