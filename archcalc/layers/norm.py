"""Normalisation: batch norm (parameters plus running-statistics buffers) and local response norm."""

from __future__ import annotations

from ..errors import ShapeError
from .args import Arg, boolean, number, number_in, optional, positive_int
from .base import LayerResult, LayerType, ModuleCall, Tensor, elements, register, spatial
from .fieldrules import IDENTITY
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
    summary = "Batch normalisation of a flat feature vector (torch.nn.BatchNorm1d)."
    torch_class = "BatchNorm1d"
    args = _BN_ARGS
    params_rule = BatchNorm2d.params_rule
    ops_rule = BatchNorm2d.ops_rule

    @classmethod
    def infer(cls, args, inputs):
        shape = inputs[0]
        if len(shape) != 1:
            raise ShapeError(f"batchnorm1d needs a flat vector; use batchnorm2d on a {len(shape)}-d feature map")
        return _batchnorm(cls, args, shape, shape[0])


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
