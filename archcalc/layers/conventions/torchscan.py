"""torchscan 0.2.0: ``crawl_module`` (and ``summary``, which prints it).

Its number is the module-formula FLOPs (``report['totals']['module_flops']``, the first figure
``summary`` prints, "Module-formula forward FLOPs"): ``torchscan.modules.module_flops`` applied in
a forward hook to every leaf module call, once per call (a module called three times is three
layers of the report), in eval mode, for the whole batch as run. It also reports MACs and DMAs
per layer, and operator FLOPs from a dispatch mode; those are not this convention.
``module_flops`` (torchscan/modules/flops.py) dispatches on the module class; a class it does
not know warns "Module type not supported" and counts 0, which makes the total "partial" with
``value`` None: its number is then ``known_value``, what ``summary`` prints as "known". A
functional call (F.relu, torch.flatten, torch.cat, ``+``) is no module and is not seen at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

from .base import Convention, LayerFacts, Rule, hooked, register_convention, zero
from .tally import adaptive_kernel, has_bias, in_channels, is_affine, linear_in_features, linear_rows, norm_numel_rows


def conv(facts: LayerFacts) -> int:
    """flops_convnd: per output element 2 * (k_h*k_w * in/groups) - 1 terms, plus 1 for a bias."""
    terms = facts.args["kernel_size"][0] * facts.args["kernel_size"][1] * (in_channels(facts) // facts.args["groups"])
    return facts.output_numel * (2 * terms - 1 + int(has_bias(facts)))


def linear(facts: LayerFacts) -> int:
    """flops_linear: out * rows * (2 * in - 1), plus out * rows for a bias."""
    outputs = facts.args["out_features"] * linear_rows(facts)
    return outputs * (2 * linear_in_features(facts) - 1) + (outputs if has_bias(facts) else 0)


def batchnorm(facts: LayerFacts) -> int:
    """flops_bn in eval mode, per sample: subtract the mean and divide (2 per element), scale and
    shift when affine (2 more); the 2 per channel for eps + var and its square root are per
    call (TorchscanConvention.per_call)."""
    return facts.input_numel * (4 if is_affine(facts) else 2)


def elementwise(ops: int) -> Rule:
    def rule(facts: LayerFacts) -> int:
        return ops * facts.input_numel
    rule.__doc__ = f"{ops} per input element"
    return rule


def pool_kernel(facts: LayerFacts) -> int:
    """The kernel as flops_maxpool / flops_avgpool read it: math.prod of a tuple, but an int kernel
    (every torchvision pool: nn.MaxPool2d(3, 2)) is taken as is, k rather than k*k. archcalc keeps
    kernels as pairs: a square kernel is taken to be an int, as torchvision writes it."""
    kh, kw = facts.args["kernel_size"]
    return kh if kh == kw else kh * kw


def maxpool(facts: LayerFacts) -> int:
    """flops_maxpool: output elements * (kernel - 1)."""
    return facts.output_numel * (pool_kernel(facts) - 1)


def avgpool(facts: LayerFacts) -> int:
    """flops_avgpool: output elements * (kernel - 1 + 2 spatial axes)."""
    return facts.output_numel * (pool_kernel(facts) - 1 + 2)


def adaptive_max(facts: LayerFacts) -> int:
    """flops_adaptive_maxpool: output elements * (prod(approximate kernel) - 1)."""
    kh, kw = adaptive_kernel(facts)
    return facts.output_numel * (kh * kw - 1)


def adaptive_avg(facts: LayerFacts) -> int:
    """flops_adaptive_avgpool: output elements * (prod(approximate kernel) - 1 + 2)."""
    kh, kw = adaptive_kernel(facts)
    return facts.output_numel * (kh * kw - 1 + 2)


def layernorm(facts: LayerFacts) -> int:
    """flops_layernorm (isinstance nn.LayerNorm: the twin's LayerNorm2d too, which hooks see with
    the NCHW input and normalized_shape (C,)): 6 per element, 2 per row of C (numel // C), one
    per element for a weight and one for a bias."""
    weight = bool(facts.args["elementwise_affine"])
    bias = weight and bool(facts.args["bias"])
    return facts.input_numel * (6 + int(weight) + int(bias)) + 2 * norm_numel_rows(facts)[1]


def dropout(facts: LayerFacts) -> int:
    """flops_dropout: one random number per element when p > 0, counted in eval mode too."""
    return facts.input_numel if facts.args["p"] > 0 else 0


def batchnorm_per_call(facts: LayerFacts) -> int:
    """flops_bn: num_features * 2, once per call whatever the batch."""
    return 2 * facts.output[0]


def conv_transpose_per_call(facts: LayerFacts) -> int:
    """flops_convtransposend: 8 * len(kernel_size) for the padding arithmetic, once per call."""
    return 8 * 2


RULES: dict[str, Rule] = {
    "conv2d": conv,
    # flops_convtransposend = 8 * len(kernel_size) + flops_convnd on the transposed module
    "conv_transpose2d": conv,
    "linear": linear,
    "batchnorm1d": batchnorm, "batchnorm2d": batchnorm,
    "relu": elementwise(1), "relu6": elementwise(2), "leaky_relu": elementwise(4), "elu": elementwise(6),
    "tanh": elementwise(6), "sigmoid": elementwise(4),
    "maxpool2d": maxpool, "avgpool2d": avgpool,
    "adaptive_maxpool2d": adaptive_max, "global_maxpool2d": adaptive_max,
    "adaptive_avgpool2d": adaptive_avg, "global_avgpool2d": adaptive_avg,
    "dropout": dropout,
    "layernorm": layernorm,
    # identity and flatten: 0 by name; gelu, silu, hardswish, hardsigmoid, softmax,
    # local_response_norm, upsample, groupnorm, instancenorm2d (not a _BatchNorm), the pads,
    # layer_scale, slice, channel_shuffle, reshape (nn.Unflatten), stochastic_depth: "Module type
    # not supported", 0; joins are not modules. The twin's PaddedConv2d / PaddedMaxPool2d /
    # PaddedAvgPool2d are isinstance of their base class: counted from their output as it is
}

PER_CALL: dict[str, Rule] = {"batchnorm1d": batchnorm_per_call, "batchnorm2d": batchnorm_per_call,
                             "conv_transpose2d": conv_transpose_per_call}


@dataclass(frozen=True)
class TorchscanConvention(Convention):
    """Counts for the whole batch as run, plus a few constants counted once per module call."""

    per_call: dict[str, Rule] = field(default_factory=dict)

    def call_count(self, facts: LayerFacts) -> int:
        """The part counted once per call, whatever the batch."""
        return 0 if facts.functional else int(self.per_call.get(facts.type_name, zero)(facts))

    def reported(self, facts: LayerFacts, batch: int) -> int:
        return self.scale(self.count(facts), batch) + self.call_count(facts)


TORCHSCAN = register_convention(TorchscanConvention(
    name="torchscan",
    tool="torchscan 0.2.0 (torchscan/crawler.py crawl_module, totals['module_flops']; torchscan/modules/flops.py)",
    unit="FLOPs",
    counts="module-formula FLOPs: 2k-1 per dot product of k terms (+1 bias) in convs and linears, 4 per BatchNorm "
           "element (+2 per channel per call), 1 per ReLU element, pooling comparisons and sums, dropout's random "
           "numbers; functional calls (F.relu, +, torch.cat) are not seen",
    rules={name: hooked(rule) for name, rule in RULES.items()},
    per_call=PER_CALL,
))


# ---- 1-D and 3-D types (CxL, CxTxHxW): module_flops dispatches on _ConvNd, _ConvTransposeNd,
# _BatchNorm, _MaxPoolNd, _AvgPoolNd and the adaptive bases, so they count as their 2-D siblings,
# with the kernel's taps over every axis

def conv_nd(facts: LayerFacts) -> int:
    """flops_convnd: per output element, 2 x taps x in/groups - 1, + 1 for a bias."""
    taps = prod(facts.args["kernel_size"]) * (in_channels(facts) // facts.args["groups"])
    return facts.output_numel * (2 * taps - 1 + int(has_bias(facts)))


def maxpool_nd(facts: LayerFacts) -> int:
    """flops_maxpool: (taps - 1) per output; the twin's kernel is a tuple, whose product torchscan
    takes (the 2-D rule's int-kernel reading is torchvision's way of writing a 2-D pool)."""
    return facts.output_numel * (prod(facts.args["kernel_size"]) - 1)


def avgpool_nd(facts: LayerFacts) -> int:
    """flops_avgpool: (taps - 1 + the input's ndim - 2) per output: + 1 for CxL, + 3 for CxTxHxW."""
    return facts.output_numel * (prod(facts.args["kernel_size"]) - 1 + len(facts.inputs[0]) - 1)


def adaptive_max_nd(facts: LayerFacts) -> int:
    return facts.output_numel * (prod(adaptive_kernel(facts)) - 1)


def adaptive_avg_nd(facts: LayerFacts) -> int:
    """flops_adaptive_avgpool: (taps - 1 + one per spatial axis) per output."""
    return facts.output_numel * (prod(adaptive_kernel(facts)) - 1 + len(facts.inputs[0]) - 1)


def conv_transpose_nd_per_call(facts: LayerFacts) -> int:
    """flops_convtransposend: 8 * len(kernel_size) for the padding arithmetic, once per call."""
    return 8 * len(facts.args["kernel_size"])


RULES_ND: dict[str, Rule] = {
    "conv1d": conv_nd, "conv3d": conv_nd, "conv_transpose1d": conv_nd, "conv_transpose3d": conv_nd,
    "batchnorm3d": batchnorm,
    "maxpool1d": maxpool_nd, "maxpool3d": maxpool_nd, "avgpool1d": avgpool_nd, "avgpool3d": avgpool_nd,
    "adaptive_maxpool1d": adaptive_max_nd, "adaptive_maxpool3d": adaptive_max_nd,
    "adaptive_avgpool1d": adaptive_avg_nd, "adaptive_avgpool3d": adaptive_avg_nd,
}
RULES.update(RULES_ND)
TORCHSCAN.rules.update({name: hooked(rule) for name, rule in RULES_ND.items()})
PER_CALL.update({"batchnorm3d": batchnorm_per_call, "conv_transpose1d": conv_transpose_nd_per_call,
                 "conv_transpose3d": conv_transpose_nd_per_call})


# the twin's ScaledStdConv2d is an nn.Conv2d (a _ConvNd): flops_convnd from its output, the
# weight's standardisation unseen; BlurPool2d, Scale, LearnableScale and SpaceToDepth are
# "Module type not supported": 0
RULES["scaled_std_conv2d"] = conv
TORCHSCAN.rules["scaled_std_conv2d"] = hooked(conv)
