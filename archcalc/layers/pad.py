"""The `pad` layer: explicit padding of a map (constant, reflect, replicate, circular)."""

from __future__ import annotations

from ..errors import ShapeError, SpecError
from .args import Arg, choice, number
from .base import LayerResult, LayerType, ModuleCall, elements, register, spatial
from .fieldrules import Windows
from .memrules import NEW_OUTPUT, MemoryRule
from .padding import axis_padding, padding_converter, side_pads, torch_order
from .windows import conv_window

_MODES = ("constant", "reflect", "replicate", "circular")
_MODULES = {"reflect": "ReflectionPad2d", "replicate": "ReplicationPad2d", "circular": "CircularPad2d"}


@register
class Pad(LayerType):
    name = "pad"
    aliases = ("pad2d", "zero_pad2d")
    family = "padding"
    summary = "Explicit padding of a map (torch.nn.ZeroPad2d, ConstantPad2d, ReflectionPad2d, ReplicationPad2d, CircularPad2d)."
    title = "padding"
    args = (
        Arg("padding", padding_converter(), aliases=("pad", "p"), help="int, [h, w] or [top, bottom, left, right]"),
        Arg("mode", choice(*_MODES), "constant"),
        Arg("value", number, 0.0, (), "the fill of mode constant"),
    )
    shape_rule = "H_out = top + H + bottom, W_out = left + W + right; C unchanged"
    rf_rule = ("padding += top (left) x stride_in: output o reads input o - top; reflect, replicate and circular border "
               "outputs copy interior pixels, which the uniform field extends over virtually as it does over zeros")

    @classmethod
    def check(cls, args):
        if args["mode"] != "constant" and args["value"] != 0:
            raise SpecError(f"value is the fill of mode 'constant'; mode '{args['mode']}' takes none")

    @classmethod
    def infer(cls, args, inputs):
        channels, height, width = spatial(inputs[0], cls.name)
        pads = side_pads(args["padding"], (1, 1), (1, 1), (1, 1), (height, width))
        if args["mode"] in ("reflect", "circular"):
            for (before, after), size in zip(pads, (height, width)):
                limit = size - 1 if args["mode"] == "reflect" else size
                if max(before, after) > limit:
                    raise ShapeError(f"{args['mode']} padding of {max(before, after):,} needs an input side of at "
                                     f"least {max(before, after) + (args['mode'] == 'reflect'):,} (PyTorch's rule), "
                                     f"got {height}x{width}")
        out = (channels, height + sum(pads[0]), width + sum(pads[1]))
        return LayerResult(output=out, rf=Windows(tuple(conv_window(1, 1, before) for before, _ in pads)))

    torch_defaults: dict = {}

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        # reflection and replication pads' backward reads the input; a constant pad's keeps nothing
        if args["mode"] in ("reflect", "replicate"):
            return MemoryRule(saves_input=True)
        pads = side_pads(args["padding"], (1, 1), (1, 1), (1, 1), in_shapes[0][1:])
        if args["mode"] == "circular" and any(side for axis in pads for side in axis):
            # torch copies the input into a new map, then each wrapped border from the map itself
            # (in-place copies of slices). Backward of each border copy clones the gradient, makes
            # the border's gradient at the map's size (slice_backward) and sums the two: three
            # maps at once, where the model holds the output's gradient and the input's
            return MemoryRule(backward_scratch=2 * elements(out_shape) - elements(in_shapes[0]), dense_grad=True)
        return NEW_OUTPUT

    @classmethod
    def torch_module(cls, args, in_shapes):
        pads = torch_order(side_pads(args["padding"], (1, 1), (1, 1), (1, 1), in_shapes[0][1:]))
        if args["mode"] != "constant":
            return ModuleCall(_MODULES[args["mode"]], (pads,))
        return ModuleCall("ZeroPad2d", (pads,)) if args["value"] == 0 else ModuleCall("ConstantPad2d", (pads, args["value"]))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        # zeros: the uniform field the rule states (a reflection would route gradients to mirrored pixels)
        return ModuleCall("ZeroPad2d", (torch_order(side_pads(args["padding"], (1, 1), (1, 1), (1, 1), in_shapes[0][1:])),))

    @classmethod
    def axis_args(cls, args, axis):
        return {**args, "padding": axis_padding(args["padding"], axis)}
