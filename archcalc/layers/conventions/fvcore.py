"""fvcore 0.1.5.post20221221's FlopCountAnalysis(model, input).total(), read from
fvcore/nn/flop_count.py (_DEFAULT_SUPPORTED_OPS: which aten op gets which handle) and
fvcore/nn/jit_handles.py (the handles), with the model in eval mode.

fvcore traces the model with torch.jit, so it sees functional calls as well as modules, and
counts one "flop" per multiply-add of the ops it has a handle for; every other op (max and
average pooling, ReLU, adds, cat, dropout, flatten, softmax, the element-wise ops local response
normalisation decomposes into) counts 0, most with an "unsupported operator" warning. The trace
keeps only what the output depends on: a layer on a branch the output does not use counts 0.
Layer, group and instance norm share one handle (5 per element with a weight, 4 without); a
convolution or pooling the twin pads first (F.pad: aten::constant_pad_nd, unsupported) counts
as the module would.
"""

from dataclasses import dataclass, field
from math import prod

from .base import Convention, LayerFacts, Rule, patched, register_convention, traced, zero


def conv(facts: LayerFacts) -> int:
    """conv_flop_jit (aten::_convolution): weight elements x H_out x W_out; no bias. PyTorch's
    padding='same' (always a string to nn.Conv2d) traces to aten::_convolution_mode, which has no
    handle: 0. 'valid' is counted as padding=0, as torchvision writes it (inception_v3); a model
    written with the string 'valid', archcalc's twin among them, counts 0 there."""
    if facts.args["padding"] == "same":
        return 0
    return facts.result.params[0].count * prod(facts.output[1:])


def conv_transpose(facts: LayerFacts) -> int:
    """conv_flop_jit, transposed: weight elements x H_in x W_in; no bias."""
    return facts.result.params[0].count * prod(facts.inputs[0][1:])


def linear(facts: LayerFacts) -> int:
    """linear_flop_jit (aten::linear): input elements x out_features; no bias."""
    return facts.input_numel * facts.output[-1]


def batch_norm(facts: LayerFacts) -> int:
    """batchnorm_flop_jit in eval mode: input elements x 2 with affine, x 1 without (training
    mode would count 5 and 4)."""
    return facts.input_numel * (2 if facts.args["affine"] else 1)


def norm(affine_arg: str):
    def rule(facts: LayerFacts) -> int:
        return facts.input_numel * (5 if facts.args[affine_arg] else 4)
    rule.__doc__ = (f"norm_flop_counter (aten::layer_norm, group_norm, instance_norm): input elements x 5 with a "
                    f"weight ({affine_arg}), x 4 without, in eval mode too")
    return rule


def adaptive_avg_pool(facts: LayerFacts) -> int:
    """elementwise_flop_counter(1, 0) (aten::adaptive_avg_pool2d): one per input element."""
    return facts.input_numel


def upsample(facts: LayerFacts) -> int:
    """elementwise_flop_counter(0, 1) nearest, (0, 4) bilinear: per output element."""
    return facts.output_numel * (1 if facts.args["mode"] == "nearest" else 4)


@dataclass(frozen=True)
class FvcoreConvention(Convention):
    """Counts for the batch as traced, plus work on the weights, which the trace does once
    whatever the batch (``per_call``)."""

    per_call: dict[str, Rule] = field(default_factory=dict)

    def reported(self, facts: LayerFacts, batch: int) -> int:
        return self.scale(self.count(facts), batch) + int(self.per_call.get(facts.type_name, zero)(facts))


FVCORE = register_convention(FvcoreConvention(
    name="fvcore",
    tool="fvcore 0.1.5.post20221221 (nn/flop_count.py _DEFAULT_SUPPORTED_OPS, nn/jit_handles.py)",
    unit="flops",
    counts="one per multiply-add of convs and Linear (no bias), BatchNorm 2 per element (eval), layer/group/instance "
           "norm 5 (4 without weight), adaptive avg pooling 1 per input element, upsampling; other pooling, "
           "activations and joins 0",
    rules={
        "conv2d": traced(conv), "conv_transpose2d": traced(conv_transpose), "linear": traced(linear),
        "batchnorm2d": traced(batch_norm), "batchnorm1d": traced(batch_norm),
        # x.mean([2, 3]) (functional: tensor_method) traces to aten::mean, which has no handle
        "adaptive_avgpool2d": traced(adaptive_avg_pool), "global_avgpool2d": traced(patched(adaptive_avg_pool)),
        "upsample": traced(upsample),
        "layernorm": traced(norm("elementwise_affine")), "groupnorm": traced(norm("affine")),
        "instancenorm2d": traced(norm("affine")),
        # pad (aten::constant_pad_nd, reflection_pad2d, ...), layer_scale's mul, slice,
        # channel_shuffle, reshape: ops without a handle, 0; stochastic_depth is not in the trace
    },
))


# 1-D and 3-D types (CxL, CxTxHxW): Conv1d/3d and their transposed forms trace to
# aten::_convolution (conv_flop_jit: any number of axes), BatchNorm3d to aten::batch_norm;
# aten::adaptive_avg_pool1d / 3d have no handle (only the 2-D one): 0, as max/avg pooling
FVCORE.rules.update({
    "conv1d": traced(conv), "conv3d": traced(conv),
    "conv_transpose1d": traced(conv_transpose), "conv_transpose3d": traced(conv_transpose),
    "batchnorm3d": traced(batch_norm),
})


def matmul(facts: LayerFacts) -> int:
    """matmul_flop_jit (aten::matmul, the twin's ``a @ b``): a's elements x b's last size, one
    multiply-add each (the inputs broadcast to one batch; archcalc's MACs)."""
    return facts.input_numel * facts.inputs[1][-1]


# timm's attention units (issue 10): matmul has a handle; stack_maps (aten::stack) and channel_sum
# (aten::sum) have none: 0, the default
FVCORE.rules["matmul"] = traced(matmul)


def weight_standardisation(facts: LayerFacts) -> int:
    """scaled_std_conv2d's F.batch_norm of its weight in training mode (norm_flop_counter with a
    weight): 5 per weight element, once per call."""
    return 5 * facts.result.params[0].count


def blur(facts: LayerFacts) -> int:
    """blurpool2d's F.conv2d with the filter buffer (conv_flop_jit): filter elements x H_out x
    W_out, its MACs; the reflection pad has no handle."""
    return facts.result.macs


# scaled_std_conv2d: its convolution as conv2d's, plus the weight's standardisation per call;
# scale (aten::mul) and space_to_depth (view, permute): no handle, 0
FVCORE.rules.update({"scaled_std_conv2d": traced(conv), "blurpool2d": traced(blur)})
FVCORE.per_call.update({"scaled_std_conv2d": traced(weight_standardisation)})
