"""Gates and scales of residual branches: ConvNeXt's learnable per-channel layer scale, a scale
by one number (Inception-ResNet's ``x * 0.17``, NF-Nets' alpha, beta and learnable skipinit gain)
and stochastic depth (torchvision.ops.StochasticDepth), an identity at inference."""

from __future__ import annotations

from .args import Arg, boolean, choice, number, number_in, optional, positive_int
from .base import LayerResult, LayerType, ModuleCall, Tensor, elements, register, spatial
from .fieldrules import IDENTITY
from .layout import ELEMENTWISE
from .memrules import NEW_OUTPUT, PASS_THROUGH, Kept, MemoryRule
from .norm import check_count


@register
class LayerScale(LayerType):
    name = "layer_scale"
    aliases = ("layerscale",)
    family = "gates and scales"
    summary = ("A learnable scale per channel of a CxHxW map (ConvNeXt's CNBlock: gamma of shape Cx1x1, named "
               "layer_scale, initialised to init), multiplied into the residual branch.")
    args = (
        Arg("init", number, 1e-6, ("layer_scale", "init_value"), "initial value of every scale"),
        Arg("channels", optional(positive_int), None, ("num_channels", "dim"), "checked against the input when given"),
    )
    params_rule = "C (layer_scale, shape C x 1 x 1)"
    macs_rule = "0 (FLOPs 0: FlopCounterMode counts no element-wise product)"
    ops_rule = "1 per element (a multiply)"
    backward_rule = "0: the product's gradients are element-wise (FlopCounterMode counts no mul)"
    torch_defaults = dict(init=1e-6)
    probe_passthrough = True
    autocast_output = "float32"  # a half map times the float32 scale is float32 (type promotion)

    @classmethod
    def infer(cls, args, inputs):
        channels, _, _ = spatial(inputs[0], cls.name)
        check_count(args["channels"], channels, "channels")
        return LayerResult(output=inputs[0], params=[Tensor("layer_scale", channels, f"{channels} (Cx1x1)")],
                           ops=elements(inputs[0]), rf=IDENTITY)

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        # scale * x keeps x for the scale's gradient, which backward forms at the map's size
        # (the output's gradient times x) before summing it to C x 1 x 1
        return MemoryRule(saves_input=True, backward_scratch=elements(out_shape))

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("archcalc.LayerScale", (in_shapes[0][0],), dict(init=args["init"]))

    @classmethod
    def axis_args(cls, args, axis):
        return {**args, "channels": None}


@register
class Scale(LayerType):
    name = "scale"
    family = "gates and scales"
    summary = ("The input times one number: a constant (Inception-ResNet's residual scale ``x * 0.17``, NF-Nets' "
               "alpha and beta) or, with learnable, one learnable scalar (NF-Nets' skipinit gain).")
    args = (
        Arg("factor", number, 1.0, ("value", "gamma"), "the constant, or the learnable scalar's initial value"),
        Arg("learnable", boolean, False, (), "the factor is a parameter (one element, named gain)"),
    )
    params_rule = "0; 1 (gain, a scalar) if learnable"
    macs_rule = "0 (FLOPs 0: FlopCounterMode counts no element-wise product)"
    ops_rule = "1 per element (a multiply)"
    backward_rule = "0: the product's gradients are element-wise (FlopCounterMode counts no mul)"
    torch_defaults = dict(factor=1.0)
    probe_passthrough = True

    @classmethod
    def infer(cls, args, inputs):
        params = [Tensor("gain", 1, "1 (a scalar)")] if args["learnable"] else []
        return LayerResult(output=inputs[0], params=params, ops=elements(inputs[0]), rf=IDENTITY)

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        if not args["learnable"]:
            return NEW_OUTPUT  # x * c keeps nothing: the gradient is the output's times c
        # x * gain keeps x for the gain's gradient, formed at the map's size before its sum
        return MemoryRule(saves_input=True, backward_scratch=elements(out_shape))

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("archcalc.LearnableScale" if args["learnable"] else "archcalc.Scale", (args["factor"],))


@register
class StochasticDepth(LayerType):
    name = "stochastic_depth"
    aliases = ("drop_path",)
    family = "regularisation"
    summary = ("Stochastic depth (torchvision.ops.StochasticDepth): drops a residual branch per sample ('row') or per "
               "batch in training; an identity at inference, no parameters.")
    args = (
        Arg("p", number_in(0, 1), help="drop probability, 0 to 1"),
        Arg("mode", choice("row", "batch"), "row", (), "row: per sample; batch: the whole batch"),
    )
    rf_rule = "unchanged (an identity at inference)"
    torch_defaults = dict(mode="row")
    probe_passthrough = True
    on_permuted = ELEMENTWISE

    @classmethod
    def infer(cls, args, inputs):
        return LayerResult(output=inputs[0], rf=IDENTITY)

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        if not training or args["p"] == 0:
            return PASS_THROUGH  # the input itself
        # x * noise: one scaled Bernoulli draw per sample (row) or for the batch, which backward keeps
        noise = Kept(1) if args["mode"] == "row" else Kept(1, per_sample=False)
        return MemoryRule(kept=(noise,), transient=(noise,))

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("archcalc.StochasticDepth", (args["p"],), dict(mode=args["mode"]))
