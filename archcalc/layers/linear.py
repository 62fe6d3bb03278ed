"""Dense (fully connected) layers."""

from __future__ import annotations

from ..errors import ShapeError
from .windows import IDENTITY_WINDOW, whole_axis_window
from .args import Arg, boolean, optional, positive_int
from .base import LayerResult, LayerType, ModuleCall, Tensor, elements, fmt_int, register
from .fieldrules import WHOLE, Windows
from .layout import LAST_AXIS
from .memrules import MemoryRule


@register
class Linear(LayerType):
    name = "linear"
    aliases = ("dense", "fc")
    family = "dense"
    summary = "Fully connected layer on the last dimension (torch.nn.Linear); after flatten that is all features."
    short_name = "fc"
    chain_positional = "features"
    title = "dense (linear) layer"
    flattens_map_first = True
    args = (
        Arg("in_features", optional(positive_int), None, ("in",), "checked against the input when given"),
        Arg("out_features", positive_int, aliases=("out", "units")),
        Arg("bias", boolean, True),
    )
    shape_rule = "last dimension in_features -> out_features"
    params_rule = "in_features x out_features, + out_features if bias"
    macs_rule = "in_features x out_features x (elements before the last dimension); FLOPs = 2 x MACs"
    ops_rule = "2 x MACs, + outputs for the bias"
    backward_rule = ("two aten.mm: gradient w.r.t. the input (output gradient x weight) = FLOPs; w.r.t. the weights "
                     "(input transposed x output gradient) = FLOPs; the bias gradient (a sum) counts 0")
    rf_rule = ("whole input on a flat vector; on a CxHxW map (acting on W): H unchanged, every output sees all of W "
               "(effective stride 0 along W); on a channels-last map (after permute) it mixes the channels: unchanged")

    on_permuted = LAST_AXIS  # on a channels-last map it mixes the channels at each position
    autocast_output = "half"  # autocast runs convolutions and matrix products in half precision

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        return MemoryRule(saves_input=True)  # the gradient w.r.t. the weights reads the input

    @classmethod
    def infer(cls, args, inputs):
        shape = inputs[0]
        features, out = shape[-1], args["out_features"]
        if args["in_features"] is not None and args["in_features"] != features:
            hint = " (flatten a feature map first?)" if len(shape) > 1 else ""
            raise ShapeError(f"in_features is {args['in_features']:,} but the input has {features:,} features{hint}")
        weight = features * out
        params = [Tensor("weight", weight, f"{features}x{out} = {fmt_int(weight)}")]
        if args["bias"]:
            params.append(Tensor("bias", out, f"{out} = {fmt_int(out)}"))
        rows = elements(shape[:-1])
        macs = weight * rows
        return LayerResult(
            output=(*shape[:-1], out),
            params=params,
            macs=macs,
            flops=2 * macs,
            ops=2 * macs + (out * rows if args["bias"] else 0),
            backward_input_flops=2 * macs,
            backward_weight_flops=2 * macs,
            # on a feature map it mixes the last (W, or L) axis only
            rf=WHOLE if len(shape) == 1 else Windows((*[IDENTITY_WINDOW] * (len(shape) - 2), whole_axis_window(shape[-1]))),
        )

    torch_defaults = dict(bias=True)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("Linear", (in_shapes[0][-1], args["out_features"]), dict(bias=args["bias"]))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        # on a map it mixes the columns: as wide as the output; on a vector one output suffices
        width = out_shape[-1] if len(probe_in[0]) >= 2 else 1
        return ModuleCall("Linear", (probe_in[0][-1], width), dict(bias=False))

    @classmethod
    def probe_shape(cls, args, out_shape, probe_in):
        return (1, *out_shape[1:]) if len(out_shape) >= 2 else (1,)

    @classmethod
    def axis_args(cls, args, axis):
        # on a map it reads the columns; with one column it is 1 -> 1
        return {**args, "in_features": None, "out_features": args["out_features"] if axis == 1 else 1}
