"""torchinfo 1.8.0's "Total mult-adds" (torchinfo/layer_info.py, LayerInfo.calculate_macs, summed
over leaf modules in model_statistics.py).

torchinfo counts no operation: for each leaf module it multiplies the module's ``weight`` and
``bias`` element counts by part of the output's size. A module whose class name contains "Conv"
(Conv2d, ConvTranspose2d) charges (weight + bias) x the output's batch x H_out x W_out (the
channel axis left out); any other module charges (its weight + bias) x the output's first size,
the batch: BatchNorm its 2C per sample, Linear its parameter count. Parameter-free modules
(activations, pooling, dropout) and everything called as a function (torch.flatten, F.relu,
``x + y``, torch.cat) count 0. A module called several times is counted at every call. Only
parameters *named* ``weight`` or ``bias`` count: a layer scale's ``layer_scale`` does not. The
twin's padded convolutions (PaddedConv2d) are "Conv" modules like nn.Conv2d; its LayerNorm2d,
nn.GroupNorm and an affine nn.InstanceNorm2d charge their 2C per sample.
"""

from math import prod

from .base import Convention, LayerFacts, hooked, register_convention, zero


def weights_and_bias(facts: LayerFacts) -> int:
    """Any module but a convolution: its weight and bias elements, once per sample."""
    return facts.result.param_count


def conv_weights_and_bias(facts: LayerFacts) -> int:
    """A "Conv" module: (weight + bias) x H_out x W_out per sample."""
    return facts.result.param_count * prod(facts.output[1:])


def named_neither_weight_nor_bias(facts: LayerFacts) -> int:
    """layer_scale: calculate_macs reads only parameters named "weight" and "bias"; the twin's
    LayerScale holds one named layer_scale (as torchvision's CNBlock), so it counts 0."""
    return zero(facts)


_CONV = hooked(conv_weights_and_bias)

TORCHINFO = register_convention(Convention(
    name="torchinfo",
    tool="torchinfo 1.8.0 (layer_info.py LayerInfo.calculate_macs)",
    unit="mult-adds",
    counts="a conv's (weights + bias) x H_out x W_out, any other module's weights + bias once per sample "
           "(BatchNorm 2C, Linear its parameters); parameter-free layers 0",
    rules={"conv2d": _CONV, "conv_transpose2d": _CONV, "layer_scale": named_neither_weight_nor_bias},
    default=hooked(weights_and_bias),
))


# 1-D and 3-D convolutions (CxL, CxTxHxW): calculate_macs tests "Conv" in the class name, so
# Conv1d/Conv3d and their transposed forms count as conv2d does (every output position)
TORCHINFO.rules.update({name: _CONV for name in ("conv1d", "conv3d", "conv_transpose1d", "conv_transpose3d")})


def conv_weights_and_bias_not_gain(facts: LayerFacts) -> int:
    """scaled_std_conv2d: the twin's ScaledStdConv2d is a "Conv" class: (weight + bias) x H_out x
    W_out; its per-channel gain (named gain) is left out."""
    return (facts.result.param_count - facts.args["out_channels"]) * prod(facts.output[1:])


# scale's learnable scalar is named gain, not weight: 0 (a constant scale has no parameter);
# blurpool2d's filter is a buffer and space_to_depth holds nothing: 0, the default
TORCHINFO.rules.update({"scaled_std_conv2d": hooked(conv_weights_and_bias_not_gain),
                        "scale": named_neither_weight_nor_bias})
