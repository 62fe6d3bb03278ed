"""ptflops 0.7.5: ``get_model_complexity_info`` with its two backends.

``ptflops`` is the default backend (``backend=FLOPS_BACKEND.PYTORCH`` in flops_counter.py):
forward hooks on the module types of ``MODULES_MAPPING`` (ptflops/pytorch_ops.py), each count
summed over the batch and divided by the batch size (``compute_average_flops_cost``), so the
module part is one sample's. With ``count_functional`` on (the default), pytorch_engine.py also
patches ``torch.nn.functional`` (``patch_functional``: relu, prelu, elu, relu6, gelu, silu, every
pooling, softmax, upsample/interpolate; not linear, conv, batch_norm, hardtanh, leaky_relu) and
the tensor ops ``patch_tensor_ops`` lists (matmul, mm, bmm, addmm, baddbmm, mul, add, as
``torch.X`` and ``Tensor.X``, not the ``+``/``*``/``+=`` operators). Those counts are added to
the total *after* the division, for the whole batch, and appear in no per-layer line. The
patch sits under the modules too: ``nn.ReLU``, ``nn.ELU``, ``nn.GELU`` and every pooling
module call the patched functional, so they count twice (hook + functional); ``nn.ReLU6``
calls ``F.hardtanh`` and ``nn.LeakyReLU`` ``F.leaky_relu``, which are not patched.

``ptflops-aten`` is ``backend='aten'`` (aten_engine.py, aten_ops.py): a dispatch mode counting
``aten.mm``, ``matmul``, ``addmm``, ``bmm``, ``convolution`` and ``_convolution`` (MACs, plus one
per output element for a bias), for the whole batch as run; per module only for the model's
direct children.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import Convention, LayerFacts, Rule, hooked, patched, register_convention, zero
from .tally import (conv_weight_numel, exact_class, has_bias, in_channels, in_positions, is_affine, is_layernorm2d,
                    kernel_area, linear_in_features, linear_rows, out_positions, padded_input_numel)

TOOL = "ptflops 0.7.5"


# ---- the default (pytorch) backend: module hooks, ptflops/pytorch_ops.py MODULES_MAPPING

def hook_conv(facts: LayerFacts) -> int:
    """conv_flops_counter_hook: k_h*k_w * in_channels * out/groups per output position, plus one
    per output element for the bias."""
    per_position = kernel_area(facts) * in_channels(facts) * (facts.args["out_channels"] // facts.args["groups"])
    return per_position * out_positions(facts) + (facts.output_numel if has_bias(facts) else 0)


def hook_conv_transpose(facts: LayerFacts) -> int:
    """The same hook with transpose=True: per *input* position."""
    per_position = kernel_area(facts) * in_channels(facts) * (facts.args["out_channels"] // facts.args["groups"])
    return per_position * in_positions(facts) + (facts.output_numel if has_bias(facts) else 0)


def hook_linear(facts: LayerFacts) -> int:
    """linear_flops_counter_hook: (in * out + out for a bias) per row."""
    out = facts.args["out_features"]
    return (linear_in_features(facts) * out + (out if has_bias(facts) else 0)) * linear_rows(facts)


def hook_batchnorm(facts: LayerFacts) -> int:
    """bn_flops_counter_hook: the input's elements, twice when affine."""
    return facts.input_numel * (2 if is_affine(facts) else 1)


def hook_norm(facts: LayerFacts) -> int:
    """bn_flops_counter_hook on nn.GroupNorm and nn.InstanceNorm2d: the input's elements, twice
    when affine."""
    return facts.input_numel * (2 if facts.args["affine"] else 1)


def hook_layernorm(facts: LayerFacts) -> int:
    """bn_flops_counter_hook on nn.LayerNorm (a vector): the input's elements once, as nn.LayerNorm
    has no ``affine`` attribute (elementwise_affine is not read). The twin's LayerNorm2d (a map) is
    a subclass, not in MODULES_MAPPING (looked up by exact type): 0."""
    return 0 if is_layernorm2d(facts) else facts.input_numel


def hook_output(facts: LayerFacts) -> int:
    """relu_flops_counter_hook (ReLU, PReLU, ELU, LeakyReLU, ReLU6, GELU): the output's elements."""
    return facts.output_numel


def hook_input(facts: LayerFacts) -> int:
    """pool_flops_counter_hook (every pooling module): the input's elements."""
    return facts.input_numel


_POOLS = ("maxpool2d", "avgpool2d", "adaptive_avgpool2d", "adaptive_maxpool2d", "global_avgpool2d", "global_maxpool2d")

HOOKS: dict[str, Rule] = {
    "conv_transpose2d": hook_conv_transpose, "linear": hook_linear,
    "batchnorm1d": hook_batchnorm, "batchnorm2d": hook_batchnorm,
    "groupnorm": hook_norm, "instancenorm2d": hook_norm, "layernorm": hook_layernorm,
    **{name: hook_output for name in ("relu", "relu6", "leaky_relu", "elu", "gelu")},
    **{name: hook_input for name in _POOLS},
    # MODULES_MAPPING[type(module)]: the twin's PaddedConv2d / PaddedMaxPool2d / PaddedAvgPool2d
    # (asymmetric or 'tf_same' padding) are subclasses, not in it
    **{name: exact_class(rule) for name, rule in
       (("conv2d", hook_conv), ("maxpool2d", hook_input), ("avgpool2d", hook_input))},
    # no pad, layer_scale, slice, channel_shuffle, reshape or stochastic_depth hook: 0
    # upsample_flops_counter_hook counts output[0], the first sample's elements, once per call:
    # handled in PtflopsConvention.reported
}


# ---- the patched functionals (pytorch_engine.patch_functional), whole batch

def functional_numel(facts: LayerFacts) -> int:
    """_numel_functional_flops_hook: the input's elements."""
    return facts.input_numel


def functional_pool(facts: LayerFacts) -> int:
    """_numel_functional_flops_hook on F.max_pool2d / F.avg_pool2d: the elements they receive,
    the input after the twin's F.pad for a padded pool (F.pad itself is not patched)."""
    return padded_input_numel(facts)


def functional_lrn(facts: LayerFacts) -> int:
    """F.local_response_norm (torch 2.13) runs input.mul(input), avg_pool3d over the channel-padded
    squares ((C + size - 1) x H x W), div.mul(alpha) and .add(k): three tensor ops of the input's
    size and one pooling, all patched."""
    channels, positions = in_channels(facts), in_positions(facts)
    return 3 * facts.input_numel + (channels + facts.args["size"] - 1) * positions


def functional_interpolate(facts: LayerFacts) -> int:
    """_interpolate_functional_flops_hook: prod(size) * N * C, or the input's elements times the
    scale factors' product; both the output's elements for integer factors."""
    return facts.output_numel


# A module's own forward calls the patched functional too (nn.ReLU -> F.relu, nn.MaxPool2d ->
# F.max_pool2d, ...), so these count for modules and functional calls alike.
PATCHED: dict[str, Rule] = {
    **{name: functional_numel for name in ("relu", "elu", "gelu", "silu", "softmax", *_POOLS)},
    # F.relu6 is patched, but nn.ReLU6 calls F.hardtanh: only a functional relu6 counts
    "relu6": lambda facts: facts.input_numel if facts.functional else 0,
    "maxpool2d": functional_pool, "avgpool2d": functional_pool,
    "local_response_norm": functional_lrn,
    "upsample": functional_interpolate,
    # x.mean([2, 3]) (shufflenet_v2, mnasnet: functional: tensor_method) is not patched
    "global_avgpool2d": patched(functional_numel),
    # add and mul: torch.add / Tensor.add are patched, the + and += operators the reference nets
    # use are not (resnet's out += identity, mobilenet_v2's x + conv(x)): 0, the default
}


@dataclass(frozen=True)
class PtflopsConvention(Convention):
    """The pytorch backend's two parts: module hooks divided by the batch (``rules``, one
    sample's count) and the patched functionals added for the whole batch (``patched``)."""

    patched: dict[str, Rule] = field(default_factory=dict)

    def functional_count(self, facts: LayerFacts) -> int:
        """One sample's count from the patched functionals (ptflops adds it for the whole batch)."""
        return int(self.patched.get(facts.type_name, zero)(facts))

    def reported(self, facts: LayerFacts, batch: int) -> int:
        hooks = self.scale(self.count(facts), batch)
        if facts.type_name == "upsample" and not facts.functional:
            hooks += facts.output_numel // batch  # the first sample's output, divided by the batch
        return hooks + batch * self.functional_count(facts)


PTFLOPS = register_convention(PtflopsConvention(
    name="ptflops",
    tool=f"{TOOL}, default backend 'pytorch' (ptflops/pytorch_engine.py, pytorch_ops.py)",
    unit="MACs",
    counts="MACs of convs and linears with their bias adds, plus one op per element of BatchNorm (two if affine), "
           "ReLU/ELU/GELU outputs and pooling inputs; per sample; patched functionals (F.relu, pooling, ...) are "
           "added for the whole batch, so ReLU and pooling modules count twice",
    rules={name: hooked(rule) for name, rule in HOOKS.items()},
    per_sample=True,
    patched=PATCHED,
))


# ---- the aten backend: ptflops/aten_ops.py ATEN_OPS_MAPPING

def aten_convolution(facts: LayerFacts) -> int:
    """conv_flop: weight elements * output positions (input positions when transposed), plus one
    per output element for a bias."""
    positions = in_positions(facts) if facts.type_name == "conv_transpose2d" else out_positions(facts)
    return conv_weight_numel(facts) * positions + (facts.output_numel if has_bias(facts) else 0)


def aten_linear(facts: LayerFacts) -> int:
    """addmm_flop (a bias) or matmul_flop via aten.mm (none): rows * in * out (+ rows * out)."""
    out = facts.args["out_features"]
    return linear_rows(facts) * (linear_in_features(facts) * out + (out if has_bias(facts) else 0))


PTFLOPS_ATEN = register_convention(Convention(
    name="ptflops-aten",
    tool=f"{TOOL}, backend 'aten' (ptflops/aten_engine.py, aten_ops.py)",
    unit="MACs",
    counts="MACs of aten.convolution, mm, addmm and bmm, plus their bias adds; nothing else "
           "(no normalisation, activations or pooling); the whole batch",
    rules={"conv2d": aten_convolution, "conv_transpose2d": aten_convolution, "linear": aten_linear},
))


# ---- 1-D and 3-D types (CxL, CxTxHxW): MODULES_MAPPING gives Conv1d/3d, ConvTranspose1d/3d,
# BatchNorm3d and every 1-D/3-D pool their 2-D sibling's hook, and F.max_pool1d/3d,
# F.avg_pool1d/3d and the adaptive ones are patched as the 2-D functionals are

_POOLS_ND = tuple(f"{kind}{dims}d" for dims in (1, 3) for kind in ("maxpool", "avgpool", "adaptive_avgpool",
                                                                  "adaptive_maxpool"))
HOOKS_ND: dict[str, Rule] = {
    "conv1d": exact_class(hook_conv), "conv3d": exact_class(hook_conv),
    "conv_transpose1d": hook_conv_transpose, "conv_transpose3d": hook_conv_transpose,
    "batchnorm3d": hook_batchnorm,
    **{name: hook_input for name in _POOLS_ND},
    **{f"{kind}{dims}d": exact_class(hook_input) for dims in (1, 3) for kind in ("maxpool", "avgpool")},
}
PTFLOPS.rules.update({name: hooked(rule) for name, rule in HOOKS_ND.items()})
PATCHED.update({name: functional_numel for name in _POOLS_ND})
PATCHED.update({f"{kind}{dims}d": functional_pool for dims in (1, 3) for kind in ("maxpool", "avgpool")})


def aten_transposed_convolution(facts: LayerFacts) -> int:
    """conv_flop with transposed=True: weight elements * input positions, plus one per output
    element for a bias."""
    return conv_weight_numel(facts) * in_positions(facts) + (facts.output_numel if has_bias(facts) else 0)


PTFLOPS_ATEN.rules.update({"conv1d": aten_convolution, "conv3d": aten_convolution,
                           "conv_transpose1d": aten_transposed_convolution,
                           "conv_transpose3d": aten_transposed_convolution})


def aten_matmul(facts: LayerFacts) -> int:
    """bmm_flop (the twin's ``a @ b`` reaches the dispatch mode as aten.bmm): batch x m x k x n,
    archcalc's MACs. The default backend patches torch.matmul and Tensor.matmul, not the ``@``
    operator, so it counts 0 there; stack_maps and channel_sum count 0 in both."""
    return facts.result.macs


PTFLOPS_ATEN.rules["matmul"] = aten_matmul


# scaled_std_conv2d's and blurpool2d's twins are archcalc's own classes (no hook) calling
# F.batch_norm, F.pad and F.conv2d (not patched): 0 in the pytorch backend. The aten backend
# counts their aten.convolution: the standardised weight's (with its bias) and the blur filter's
PTFLOPS_ATEN.rules.update({"scaled_std_conv2d": aten_convolution, "blurpool2d": lambda facts: facts.result.macs})
