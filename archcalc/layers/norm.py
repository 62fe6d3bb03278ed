"""Normalisation: batch norm (parameters plus running-statistics buffers), local response norm, and the
norms that use per-sample statistics at inference: layer norm (over channels, or a vector), group norm,
instance norm."""

from __future__ import annotations

from ..errors import ShapeError
from .args import Arg, boolean, choice, number, number_in, optional, positive_int
from .base import LayerResult, LayerType, ModuleCall, Tensor, elements, register, spatial
from .fieldrules import IDENTITY
from .layout import LAST_AXIS, REFUSES
from .memrules import FLOAT32, NEW_OUTPUT, Kept, MemoryRule


def _batchnorm(cls, args, shape, channels):
    if args["num_features"] is not None and args["num_features"] != channels:
        raise ShapeError(f"num_features is {args['num_features']:,} but the input has {channels:,} channels")
    params, buffers = [], []
    if args["affine"]:
        params = [Tensor("weight", channels, f"{channels} (scale)"), Tensor("bias", channels, f"{channels} (shift)")]
    if args["track_running_stats"]:
        buffers = [
            Tensor("running_mean", channels, f"{channels}"),
            Tensor("running_var", channels, f"{channels}"),
            Tensor("num_batches_tracked", 1, "1"),
        ]
    return LayerResult(output=shape, params=params, buffers=buffers, ops=2 * elements(shape), rf=IDENTITY)


_BN_ARGS = (
    Arg("num_features", optional(positive_int), None, ("channels",), "checked against the input when given"),
    Arg("eps", number_in(0), 1e-5, (), "added to the variance; at least 0"),
    Arg("momentum", optional(number), 0.1),
    Arg("affine", boolean, True, (), "learnable scale and shift"),
    Arg("track_running_stats", boolean, True, (), "running mean/var buffers"),
)


class _BatchNorm(LayerType):
    """What batch norms share on the PyTorch side."""

    torch_class: str
    torch_defaults = dict(eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)
    probe_passthrough = True

    integer_buffers = ("num_batches_tracked",)

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        if not training:
            return NEW_OUTPUT  # running statistics: nothing kept
        channels = in_shapes[0][0]  # backward reads the input and the batch's mean and 1/std (float32, per channel)
        return MemoryRule(saves_input=True, kept=(Kept(channels, FLOAT32, False), Kept(channels, FLOAT32, False)))

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall(cls.torch_class, (in_shapes[0][0],), dict(
            eps=args["eps"], momentum=args["momentum"], affine=args["affine"], track_running_stats=args["track_running_stats"]))

    @classmethod
    def axis_args(cls, args, axis):
        return {**args, "num_features": None}


@register
class BatchNorm2d(_BatchNorm):
    name = "batchnorm2d"
    aliases = ("bn", "batchnorm", "batch_norm2d")
    family = "normalisation"
    summary = "Batch normalisation over channels of a feature map (torch.nn.BatchNorm2d)."
    torch_class = "BatchNorm2d"
    args = _BN_ARGS
    params_rule = "2 x C (scale and shift) if affine; buffers 2 x C + 1 (running mean, var, num_batches_tracked)"
    ops_rule = "2 per element (inference: one scale, one shift)"

    @classmethod
    def infer(cls, args, inputs):
        channels, _, _ = spatial(inputs[0], cls.name)
        return _batchnorm(cls, args, inputs[0], channels)


@register
class BatchNorm1d(_BatchNorm):
    name = "batchnorm1d"
    aliases = ("batch_norm1d",)
    family = "normalisation"
    summary = "Batch normalisation of a flat feature vector or over the channels of a CxL sequence (torch.nn.BatchNorm1d)."
    torch_class = "BatchNorm1d"
    args = _BN_ARGS
    params_rule = "2 x C (scale and shift; C = the features of a vector) if affine; buffers 2 x C + 1"
    ops_rule = BatchNorm2d.ops_rule

    @classmethod
    def infer(cls, args, inputs):
        shape = inputs[0]
        if len(shape) > 2:
            norm = {3: "batchnorm2d", 4: "batchnorm3d"}[len(shape)]
            raise ShapeError(f"batchnorm1d needs a flat vector or a CxL sequence; use {norm} on a {len(shape)}-d feature map")
        return _batchnorm(cls, args, shape, shape[0])


@register
class BatchNorm3d(_BatchNorm):
    name = "batchnorm3d"
    aliases = ("batch_norm3d",)
    family = "normalisation"
    summary = "Batch normalisation over the channels of a CxTxHxW volume (torch.nn.BatchNorm3d)."
    torch_class = "BatchNorm3d"
    args = _BN_ARGS
    params_rule = BatchNorm2d.params_rule
    ops_rule = BatchNorm2d.ops_rule

    @classmethod
    def infer(cls, args, inputs):
        channels, *_ = spatial(inputs[0], cls.name, 3)
        return _batchnorm(cls, args, inputs[0], channels)


@register
class LocalResponseNorm(LayerType):
    name = "local_response_norm"
    aliases = ("lrn",)
    family = "normalisation"
    summary = "Local response normalisation across channels, as in AlexNet (torch.nn.LocalResponseNorm)."
    args = (
        Arg("size", positive_int, help="number of neighbouring channels"),
        Arg("alpha", number, 1e-4),
        Arg("beta", number, 0.75),
        Arg("k", number, 1.0),
    )
    ops_rule = "(size + 3) per element: squares summed over size channels, scale, power, divide"

    @classmethod
    def infer(cls, args, inputs):
        spatial(inputs[0], cls.name)
        return LayerResult(output=inputs[0], ops=(args["size"] + 3) * elements(inputs[0]), rf=IDENTITY)

    torch_defaults = dict(alpha=1e-4, beta=0.75, k=1.0)
    probe_passthrough = True

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        # torch composes it of ten ops: the squares padded by size - 1 channels, pooled, scaled,
        # shifted, raised to beta, the input divided by that. Backward keeps the input, the
        # padded squares, the shifted sum and its power. Without autograd the scaled and the
        # shifted sum beside the pooled one are the most alive at once (or the padded squares).
        channels, height, width = in_shapes[0]
        padded, out = (channels + args["size"] - 1) * height * width, elements(out_shape)
        if not training:
            return MemoryRule(scratch=max(padded, 2 * out))
        return MemoryRule(saves_input=True, kept=(Kept(padded), Kept(out), Kept(out)), scratch=out,
                          backward_scratch=3 * out)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("LocalResponseNorm", (args["size"],), dict(alpha=args["alpha"], beta=args["beta"], k=args["k"]))


# --------------------------------------------------------------------------- per-sample statistics
# Layer, group and instance norm compute a mean and variance per sample at inference too.
STATS_OPS_RULE = ("5 per element (sum for the mean, subtract it, square, sum for the variance, scale by 1/std) + 2 per "
                  "normalised group (add eps, rsqrt), + 1 per element for each of the learnable scale and shift")
STATS_RF_RULE = ("unchanged: the data path is per position; the statistics (a mean and variance over each normalised "
                 "group) are left out of the field, as batch norm's batch statistics are")


def stats_ops(count: int, groups: int, affine: int) -> int:
    """All ops of normalising ``count`` elements in ``groups`` groups by their own statistics,
    then ``affine`` learnable element-wise terms (0, 1: a scale, 2: a scale and a shift)."""
    return 5 * count + 2 * groups + affine * count


def affine_tensors(channels: int, weight: bool, bias: bool = True) -> list[Tensor]:
    params = [Tensor("weight", channels, f"{channels} (scale)")] if weight else []
    return params + ([Tensor("bias", channels, f"{channels} (shift)")] if weight and bias else [])


def check_count(given, actual: int, what: str, of: str = "channels") -> None:
    if given is not None and given != actual:
        raise ShapeError(f"{what} is {given:,} but the input has {actual:,} {of}")


_EPS = Arg("eps", number_in(0), 1e-5, (), "added to the variance; at least 0")


@register
class LayerNorm(LayerType):
    name = "layernorm"
    aliases = ("layer_norm", "layernorm2d")
    family = "normalisation"
    summary = ("Layer normalisation over the channels at each position of a CxHxW map (torchvision's LayerNorm2d, as in "
               "ConvNeXt) or over the features of a flat vector (torch.nn.LayerNorm); with over: last, over the last "
               "dimension of any tensor, as torch.nn.LayerNorm(C) on ConvNeXt's channels-last HxWxC map.")
    title = "layer normalisation"
    args = (
        Arg("num_channels", optional(positive_int), None, ("normalized_shape", "channels", "num_features"),
            "C of a map, features of a vector; checked against the input when given"),
        _EPS,
        Arg("elementwise_affine", boolean, True, ("affine",), "learnable weight (and bias), C each"),
        Arg("bias", boolean, True, (), "the learnable shift (with elementwise_affine)"),
        Arg("over", choice("channels", "last"), "channels", (), "channels: dimension 0 (LayerNorm2d on a map); last: "
            "the last dimension (torch.nn.LayerNorm; the channels of a channels-last map)"),
    )
    params_rule = ("2 x C (weight and bias, named as torch names them) if elementwise_affine; C without bias; C = the "
                   "normalised dimension")
    ops_rule = STATS_OPS_RULE + "; a group is one position's C channels (a vector's features; with over: last, one line " \
                                "along the last dimension)"
    rf_rule = ("unchanged on a map (each position is normalised over its own channels; over the last dimension of a "
               "channels-first map the statistics are left out of the field, as group norm's)")
    torch_defaults = dict(eps=1e-5, elementwise_affine=True, bias=True)
    probe_passthrough = True

    @classmethod
    def infer(cls, args, inputs):
        shape = inputs[0]
        if args["over"] == "last":
            channels = shape[-1]
            check_count(args["num_channels"], channels, "num_channels", "elements in the last dimension")
        else:
            if len(shape) not in (1, 3):
                raise ShapeError(f"layernorm needs a CxHxW map or a flat vector, got {len(shape)} dimensions "
                                 f"(over: last normalises the last dimension of any tensor)")
            channels = shape[0]
            check_count(args["num_channels"], channels, "num_channels", "channels" if len(shape) == 3 else "features")
        count = elements(shape)
        params = affine_tensors(channels, args["elementwise_affine"], args["bias"])
        return LayerResult(output=shape, params=params, ops=stats_ops(count, count // channels, len(params)), rf=IDENTITY)

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        # native_layer_norm returns a mean and 1/std per normalised group (a position of a map,
        # a vector) beside the output; backward keeps the input and both. A map is normalised
        # through permuted views (LayerNorm2d): no copy.
        stats = (Kept(2 * elements(in_shapes[0]) // in_shapes[0][cls._normalised(args)]),)
        return MemoryRule(saves_input=True, kept=stats, transient=stats)

    @classmethod
    def _normalised(cls, args) -> int:
        """The dimension normalised: 0 (channels, a vector's features) or -1 (the last)."""
        return -1 if args["over"] == "last" else 0

    @classmethod
    def permuted_use(cls, args):
        return LAST_AXIS if args["over"] == "last" else REFUSES

    @classmethod
    def torch_module(cls, args, in_shapes):
        kwargs = dict(eps=args["eps"], elementwise_affine=args["elementwise_affine"], bias=args["bias"])
        channels_of_map = len(in_shapes[0]) == 3 and args["over"] == "channels"
        return ModuleCall("archcalc.LayerNorm2d" if channels_of_map else "LayerNorm",
                          (in_shapes[0][cls._normalised(args)],), kwargs)

    @classmethod
    def axis_args(cls, args, axis):
        return {**args, "num_channels": None}


@register
class GroupNorm(LayerType):
    name = "groupnorm"
    aliases = ("group_norm",)
    family = "normalisation"
    summary = "Group normalisation: the channels in num_groups groups, each normalised over its channels and positions (torch.nn.GroupNorm)."
    title = "group normalisation"
    args = (
        Arg("num_groups", positive_int, aliases=("groups",), help="C must be divisible by it"),
        Arg("num_channels", optional(positive_int), None, ("channels",), "checked against the input when given"),
        _EPS,
        Arg("affine", boolean, True, (), "learnable weight and bias, C each"),
    )
    params_rule = "2 x C (weight and bias) if affine"
    ops_rule = STATS_OPS_RULE + "; a group is C/num_groups channels at every position"
    rf_rule = STATS_RF_RULE
    torch_defaults = dict(eps=1e-5, affine=True)
    probe_passthrough = True

    @classmethod
    def infer(cls, args, inputs):
        shape = inputs[0]
        if len(shape) not in (1, 3):
            raise ShapeError(f"groupnorm needs a CxHxW map or a flat vector, got {len(shape)} dimensions")
        channels, groups = shape[0], args["num_groups"]
        check_count(args["num_channels"], channels, "num_channels")
        if channels % groups:
            raise ShapeError(f"{channels:,} channels cannot be split into num_groups {groups:,} (not divisible)")
        params = affine_tensors(channels, args["affine"])
        return LayerResult(output=shape, params=params, ops=stats_ops(elements(shape), groups, len(params)), rf=IDENTITY)

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        # native_group_norm returns a mean and 1/std per sample and group; backward keeps them and
        # the input, and reads a dense gradient of the output
        stats = (Kept(2 * args["num_groups"]),)
        return MemoryRule(saves_input=True, kept=stats, transient=stats, dense_grad=True)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("GroupNorm", (args["num_groups"], in_shapes[0][0]), dict(eps=args["eps"], affine=args["affine"]))

    @classmethod
    def axis_args(cls, args, axis):
        return {**args, "num_channels": None}


@register
class InstanceNorm2d(LayerType):
    name = "instancenorm2d"
    aliases = ("instance_norm2d", "instancenorm")
    family = "normalisation"
    summary = ("Instance normalisation: each channel of each sample normalised over its positions (torch.nn.InstanceNorm2d; "
               "torch's defaults: no affine, no running statistics).")
    title = "instance normalisation"
    args = (
        Arg("num_features", optional(positive_int), None, ("channels",), "checked against the input when given"),
        _EPS,
        Arg("momentum", optional(number), 0.1),
        Arg("affine", boolean, False, (), "learnable weight and bias, C each"),
        Arg("track_running_stats", boolean, False, (), "running mean/var buffers, used at inference"),
    )
    params_rule = "2 x C (weight and bias) if affine; buffers 2 x C + 1 (running mean, var, num_batches_tracked) if track_running_stats"
    ops_rule = STATS_OPS_RULE + "; a group is one channel's H x W positions. With track_running_stats: 2 per element (as batch norm)"
    rf_rule = STATS_RF_RULE
    torch_defaults = dict(eps=1e-5, momentum=0.1, affine=False, track_running_stats=False)
    probe_passthrough = True

    @classmethod
    def infer(cls, args, inputs):
        channels, height, width = spatial(inputs[0], cls.name)
        check_count(args["num_features"], channels, "num_features")
        count = elements(inputs[0])
        buffers = []
        if args["track_running_stats"]:
            buffers = [Tensor("running_mean", channels, f"{channels}"), Tensor("running_var", channels, f"{channels}"),
                       Tensor("num_batches_tracked", 1, "1")]
        params = affine_tensors(channels, args["affine"])
        ops = 2 * count if buffers else stats_ops(count, channels, len(params))
        return LayerResult(output=inputs[0], params=params, buffers=buffers, ops=ops, rf=IDENTITY)

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        # torch runs batch norm on the input viewed as 1 x (N*C) x H x W, with the weight, bias and
        # running statistics repeated per sample (N*C each). Batch statistics (training, or no
        # running statistics): it returns a float32 mean and 1/std per sample and channel, and
        # backward keeps those, the input, the repeated weight and the repeated running
        # statistics; the repeated bias dies at once. Its backward makes the per-sample weight
        # and bias gradients before summing them. Running statistics at inference: the four
        # repeats while it runs, nothing returned beside the output.
        channels = in_shapes[0][0]
        affine, running = args["affine"], args["track_running_stats"]
        if not training and running:
            return MemoryRule(scratch=channels * (2 * affine + 2))
        stats = Kept(2 * channels, FLOAT32)
        repeats = ((Kept(channels),) if affine else ()) + ((Kept(2 * channels),) if running else ())
        return MemoryRule(saves_input=True, kept=(stats, *repeats), transient=(stats, *repeats),
                          scratch=channels if affine else 0, backward_scratch=2 * channels if affine else 0)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("InstanceNorm2d", (in_shapes[0][0],), dict(
            eps=args["eps"], momentum=args["momentum"], affine=args["affine"], track_running_stats=args["track_running_stats"]))

    @classmethod
    def axis_args(cls, args, axis):
        return {**args, "num_features": None}
