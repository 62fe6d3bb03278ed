"""calflops 0.3.2: ``calculate_flops(model, input_shape=...)`` for a torch model.

It reports FLOPs, MACs and parameters; its headline number (first of the three it returns,
"fwd FLOPs") is the FLOPs, which this convention reproduces. calflops counts almost nothing
through module hooks (only RNNs, ``MODULE_HOOK_MAPPING``): it patches ``torch.nn.functional``
and some tensor methods (calflops/pytorch_ops.py ``_patch_functionals``,
``_patch_tensor_methods``) and charges each patched call to the innermost module running
(a pre-hook opens a frame per module call, the post-hook adds the frame to ``module.__flops__``).
So a module counts what its forward calls (nn.Conv2d -> F.conv2d, nn.BatchNorm2d ->
F.batch_norm, nn.MaxPool2d -> F.max_pool2d), and a functional call in a parent's forward (F.relu
in googlenet's BasicConv2d) counts for the parent. Not patched: F.hardtanh (so nn.ReLU6 counts
0), F.dropout, F.hardswish/hardsigmoid, torch.sigmoid/tanh, torch.cat, torch.flatten, F.pad and
the ``+``/``*``/``+=`` operators (torch.add / Tensor.add and mul are patched). The whole batch as
run. F.layer_norm, F.group_norm and F.instance_norm are patched (5 per element with a weight, 4
without); the twin's padded convs and pools call F.conv2d / F.max_pool2d / F.avg_pool2d on the
padded input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import Convention, LayerFacts, Rule, patched, register_convention, zero
from .tally import has_bias, in_channels, in_positions, is_affine, kernel_area, out_positions, padded_input_numel


def calflops_conv_positions(facts: LayerFacts) -> int:
    """_conv_flops_compute's own output size: (in + 2*pad - (d*(k-1) + 1)) // stride + 1 per axis,
    with 'same' taken as d*(k-1)//2 on both sides (one short of PyTorch's for an even kernel). Any
    other padding gives PyTorch's own output: the module's symmetric padding, or the twin's
    PaddedConv2d (asymmetric or 'tf_same') calling F.conv2d on the padded input with padding 0."""
    if facts.args["padding"] != "same":
        return out_positions(facts)
    positions = 1
    dilation, stride = facts.args["dilation"], facts.args["stride"]
    for axis, size in enumerate(facts.inputs[0][1:]):
        k, d = facts.args["kernel_size"][axis], dilation[axis]
        pad = d * (k - 1) // 2
        positions *= (size + 2 * pad - (d * (k - 1) + 1)) // stride[axis] + 1
    return positions


def conv(facts: LayerFacts) -> int:
    """_conv_flops_compute: 2 * MACs (k_h*k_w * in_channels * out/groups per position) plus
    out_channels per position for a bias."""
    out = facts.args["out_channels"]
    positions = calflops_conv_positions(facts)
    macs = kernel_area(facts) * in_channels(facts) * (out // facts.args["groups"]) * positions
    return 2 * macs + (out * positions if has_bias(facts) else 0)


def conv_transpose(facts: LayerFacts) -> int:
    """_conv_trans_flops_compute: out_channels is weight.shape[1] (out/groups), divided by groups
    again; 2 * k_h*k_w * in * that per *input* position, plus a bias over output positions taken
    from the plain-conv formula (with padding, not output_padding), as its source has it."""
    groups = facts.args["groups"]
    weight_out = facts.args["out_channels"] // groups
    macs = kernel_area(facts) * in_channels(facts) * (weight_out // groups) * in_positions(facts)
    if not has_bias(facts):
        return 2 * macs
    positions = 1
    for axis, size in enumerate(facts.inputs[0][1:]):
        k, d = facts.args["kernel_size"][axis], facts.args["dilation"][axis]
        positions *= (size + 2 * facts.args["padding"][axis] - (d * (k - 1) + 1)) // facts.args["stride"][axis] + 1
    return 2 * macs + weight_out * positions


def linear(facts: LayerFacts) -> int:
    """_linear_flops_compute: 2 * input elements * out_features; the bias is not counted."""
    return 2 * facts.input_numel * facts.args["out_features"]


def numel(facts: LayerFacts) -> int:
    """The input's elements (activations, every pooling, softmax)."""
    return facts.input_numel


def pool(facts: LayerFacts) -> int:
    """_pool_flops_compute on F.max_pool2d / F.avg_pool2d: the elements it receives, the input
    after the twin's F.pad for a padded pool (F.pad is not patched)."""
    return padded_input_numel(facts)


def norm(affine_arg: str) -> Rule:
    def rule(facts: LayerFacts) -> int:
        return facts.input_numel * (5 if facts.args[affine_arg] else 4)
    rule.__doc__ = (f"_layer_norm / _group_norm / _instance_norm_flops_compute: the input's elements x 5 with a "
                    f"weight ({affine_arg}), x 4 without")
    return rule


def batchnorm(facts: LayerFacts) -> int:
    """_batch_norm_flops_compute in eval mode: the input's elements, twice when affine."""
    return facts.input_numel * (2 if is_affine(facts) else 1)


def lrn(facts: LayerFacts) -> int:
    """F.local_response_norm (torch 2.13): input.mul(input), avg_pool3d over the channel-padded
    squares ((C + size - 1) x H x W), .mul(alpha), .add(k): all patched."""
    return 3 * facts.input_numel + (in_channels(facts) + facts.args["size"] - 1) * in_positions(facts)


def upsample(facts: LayerFacts) -> int:
    """_upsample_flops_compute with a scale factor: the input's elements (its product with the
    factor is computed and dropped). With a size it is prod(size) once per call (per_call)."""
    return facts.input_numel if facts.args["size"] is None else 0


def upsample_per_call(facts: LayerFacts) -> int:
    size = facts.args["size"]
    return size[0] * size[1] if size is not None else 0


RULES: dict[str, Rule] = {
    "conv2d": conv, "conv_transpose2d": conv_transpose, "linear": linear,
    "batchnorm1d": batchnorm, "batchnorm2d": batchnorm, "local_response_norm": lrn,
    "layernorm": norm("elementwise_affine"), "groupnorm": norm("affine"), "instancenorm2d": norm("affine"),
    **{name: numel for name in ("relu", "leaky_relu", "elu", "gelu", "silu", "softmax",
                                "adaptive_avgpool2d", "adaptive_maxpool2d", "global_avgpool2d", "global_maxpool2d")},
    "maxpool2d": pool, "avgpool2d": pool,
    # x.mean([2, 3]) (shufflenet_v2, mnasnet: functional: tensor_method) is not patched
    "global_avgpool2d": patched(numel),
    # F.relu6 is patched but nn.ReLU6 calls F.hardtanh: only a functional relu6 counts
    "relu6": lambda facts: facts.input_numel if facts.functional else 0,
    "upsample": upsample,
    # add and mul: the + and * operators of the reference nets are not patched: 0, the default;
    # so is layer_scale's ``layer_scale * x``. pad (F.pad is not patched), slice, channel_shuffle,
    # reshape, stochastic_depth: 0
}


@dataclass(frozen=True)
class CalflopsConvention(Convention):
    """Counts for the whole batch as run, plus constants counted once per call."""

    per_call: dict[str, Rule] = field(default_factory=dict)

    def reported(self, facts: LayerFacts, batch: int) -> int:
        return self.scale(self.count(facts), batch) + int(self.per_call.get(facts.type_name, zero)(facts))


CALFLOPS = register_convention(CalflopsConvention(
    name="calflops",
    tool="calflops 0.3.2 (calflops/flops_counter.py calculate_flops, its FLOPs; calflops/pytorch_ops.py)",
    unit="FLOPs",
    counts="2 FLOPs per MAC of convs and linears (+ conv biases, not linear ones), 1 per BatchNorm element "
           "(2 if affine), 1 per element into ReLU and pooling, through patched functionals (ReLU6, dropout, "
           "+ and torch.cat count 0); the whole batch",
    rules=RULES,
    per_call={"upsample": upsample_per_call},
))


# 1-D and 3-D types (CxL, CxTxHxW): F.conv1d/3d, F.conv_transpose1d/3d, F.batch_norm and every
# 1-D/3-D pooling functional are patched with their 2-D sibling's formula
RULES.update({
    "conv1d": conv, "conv3d": conv, "conv_transpose1d": conv_transpose, "conv_transpose3d": conv_transpose,
    "batchnorm3d": batchnorm,
    **{f"{kind}{dims}d": numel for dims in (1, 3) for kind in ("adaptive_avgpool", "adaptive_maxpool")},
    **{f"{kind}{dims}d": pool for dims in (1, 3) for kind in ("maxpool", "avgpool")},
})


def weight_standardisation(facts: LayerFacts) -> int:
    """scaled_std_conv2d's F.batch_norm of its weight in training mode with a weight (patched,
    _batch_norm_flops_compute): 5 per weight element, once per call whatever the batch."""
    return 5 * facts.result.params[0].count


# scaled_std_conv2d: its F.conv2d as conv2d's; blurpool2d: F.conv2d with the filter buffer, 2 per
# MAC (no bias; F.pad is not patched); scale's * and space_to_depth's view/permute: 0
RULES.update({"scaled_std_conv2d": conv, "blurpool2d": lambda facts: 2 * facts.result.macs})
CALFLOPS.per_call.update({"scaled_std_conv2d": weight_standardisation})
