"""thop 0.1.1.post2209072238 (pytorch-OpCounter): ``thop.profile``'s total, read from
thop/profile.py (register_hooks: which module class gets which hook) and thop/vision/basic_hooks.py
with calc_func.py (the hooks).

thop hooks leaf modules by exact class and adds each call's count to the module's ``total_ops``
(a float64): a class without a hook, and everything called as a function (F.relu,
F.avg_pool2d, torch.flatten, ``x + y``, torch.cat), counts 0. Its counts are for the whole batch
the model ran, and one hook (adaptive average pooling) rounds that whole count down, so these
rules count ``LayerFacts.batch`` samples (``whole_batch``). The lookup is by exact class
(``type(m) in register_hooks``): the twin's subclasses (PaddedConv2d, PaddedAvgPool2d for an
asymmetric or 'tf_same' padding; LayerNorm2d for a layernorm on a map) get no hook and count 0.
nn.LayerNorm and nn.InstanceNorm2d share BatchNorm's count_normalization; nn.GroupNorm has none.
"""

from math import prod

from .base import Convention, LayerFacts, hooked, register_convention
from .tally import exact_class, is_layernorm2d


def conv(facts: LayerFacts) -> int:
    """count_convNd: output elements x (input channels / groups) x kh x kw; no bias. A transposed
    conv is counted the same way, with the input's channels."""
    kernel = facts.args["kernel_size"]
    per_output = facts.inputs[0][0] // facts.args["groups"] * kernel[0] * kernel[1]
    return facts.batch * facts.output_numel * per_output


def normalization(facts: LayerFacts) -> int:
    """count_normalization (BatchNorm, InstanceNorm2d): 2 x input elements, doubled again when affine."""
    return facts.batch * 2 * facts.input_numel * (2 if facts.args["affine"] else 1)


def layer_norm(facts: LayerFacts) -> int:
    """count_normalization on nn.LayerNorm (a vector): 2 x input elements, doubled when
    elementwise_affine. The twin's LayerNorm2d (a map) is a subclass thop's exact-class lookup
    does not find: 0."""
    return 0 if is_layernorm2d(facts) else facts.batch * 2 * facts.input_numel * (2 if facts.args["elementwise_affine"] else 1)


def linear(facts: LayerFacts) -> int:
    """count_linear: in_features x output elements; no bias."""
    return facts.batch * facts.inputs[0][-1] * facts.output_numel


def softmax(facts: LayerFacts) -> int:
    """count_softmax: (exp n, add n - 1, div n) per softmax of n features."""
    features = facts.inputs[0][facts.args["dim"]]
    return facts.batch * (facts.input_numel // features) * (3 * features - 1)


def avgpool(facts: LayerFacts) -> int:
    """count_avgpool: one op per output element."""
    return facts.batch * facts.output_numel


def adaptive_avgpool(facts: LayerFacts) -> int:
    """count_adap_avgpool: int((prod(input size / output size, a float per axis) + 1) x output
    elements of the whole batch)."""
    kernel = prod(i / o for i, o in zip(facts.inputs[0][1:], facts.output[1:]))
    return int((kernel + 1) * (facts.batch * facts.output_numel))


_UPSAMPLE_OPS = {"nearest": 1, "linear": 5, "bilinear": 11, "bicubic": 224 + 35}


def upsample(facts: LayerFacts) -> int:
    """count_upsample: output elements x 1 (nearest), 11 (bilinear)."""
    return facts.batch * facts.output_numel * _UPSAMPLE_OPS.get(facts.args["mode"], 0)


THOP = register_convention(Convention(
    name="thop",
    tool="thop 0.1.1.post2209072238 (profile.py register_hooks, vision/basic_hooks.py)",
    unit="MACs",
    counts="a conv's and a Linear's multiplies (no bias), BatchNorm 4 per element, avg pooling one per output "
           "(adaptive: kernel + 1), upsampling, softmax; ReLU, max pooling, joins and functional calls 0",
    rules={
        "conv2d": hooked(exact_class(conv)), "conv_transpose2d": hooked(conv),
        "batchnorm2d": hooked(normalization), "batchnorm1d": hooked(normalization),
        "linear": hooked(linear), "softmax": hooked(softmax),
        "avgpool2d": hooked(exact_class(avgpool)),
        "instancenorm2d": hooked(normalization), "layernorm": hooked(layer_norm),
        # groupnorm, layer_scale, the pads (ZeroPad2d's zero_ops too), slice, channel_shuffle,
        # reshape, stochastic_depth: 0, the default
        "adaptive_avgpool2d": hooked(adaptive_avgpool), "global_avgpool2d": hooked(adaptive_avgpool),
        "upsample": hooked(upsample),
    },
    whole_batch=True,
))


# ---- 1-D and 3-D types (CxL, CxTxHxW): register_hooks maps nn.Conv1d/3d and nn.ConvTranspose1d/3d
# to count_convNd, nn.BatchNorm3d to count_normalization, nn.AvgPool1d/3d to count_avgpool,
# nn.AdaptiveAvgPool1d/3d to count_adap_avgpool (their 2-D siblings' hooks; max pooling zero_ops)

def conv_nd(facts: LayerFacts) -> int:
    """count_convNd: output elements x (input channels / groups) x the kernel's taps; no bias."""
    per_output = facts.inputs[0][0] // facts.args["groups"] * prod(facts.args["kernel_size"])
    return facts.batch * facts.output_numel * per_output


THOP.rules.update({
    "conv1d": hooked(exact_class(conv_nd)), "conv3d": hooked(exact_class(conv_nd)),
    "conv_transpose1d": hooked(conv_nd), "conv_transpose3d": hooked(conv_nd),
    "batchnorm3d": hooked(normalization),
    "avgpool1d": hooked(exact_class(avgpool)), "avgpool3d": hooked(exact_class(avgpool)),
    "adaptive_avgpool1d": hooked(adaptive_avgpool), "adaptive_avgpool3d": hooked(adaptive_avgpool),
})
