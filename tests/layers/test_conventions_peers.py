"""The torchinfo, fvcore and thop conventions' rules on small specs, worked by hand from each
tool's source (the tools themselves run in tests/pytorch/test_convention_*.py)."""

import pytest

from archcalc import analyze_text
from archcalc.figures.conventions import convention_counts, resolve_conventions
from archcalc.layers.conventions import CONVENTIONS, Convention, LayerFacts, hooked, zero

SPEC = """input: 3x8x8
layers:
  - {name: conv, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {name: bn, type: batchnorm2d}
  - {name: relu, type: relu, functional: RELU_FUNCTIONAL}
  - {name: pool, type: avgpool2d, kernel_size: 2}
  - {name: gap, type: global_avgpool2d, functional: GAP_FUNCTIONAL}
  - {name: flatten, type: flatten, functional: true}
  - {name: fc, type: linear, out_features: 10}
"""


def counts(name, batch=1, functional=False, spec=SPEC):
    text = spec.replace("RELU_FUNCTIONAL", "false").replace("GAP_FUNCTIONAL", str(functional).lower())
    return convention_counts(analyze_text(text, batch=batch), resolve_conventions(name))[0]


def test_torchinfo_weights_and_bias_times_output_size():
    c = counts("torchinfo")
    assert c.layers["conv"] == (8 * 3 * 3 * 3 + 8) * 8 * 8  # (weights + bias) x H_out x W_out
    assert c.layers["bn"] == 2 * 8  # 2C per sample
    assert c.layers["fc"] == 8 * 10 + 10  # a Linear's parameters
    assert c.layers["relu"] == c.layers["pool"] == c.layers["gap"] == 0
    assert counts("torchinfo", batch=3).total == 3 * c.total


def test_fvcore_one_per_mac_no_bias_and_its_own_handles():
    c = counts("fvcore")
    assert c.layers["conv"] == 8 * 3 * 3 * 3 * 8 * 8
    assert c.layers["bn"] == 2 * 8 * 8 * 8  # eval: 2 per element with affine
    assert c.layers["pool"] == 0  # aten::avg_pool2d has no handle
    assert c.layers["gap"] == 8 * 4 * 4  # adaptive_avg_pool2d: one per input element
    assert c.layers["fc"] == 8 * 10
    # a trace sees functional calls too
    assert counts("fvcore", functional=True).layers["gap"] == 8 * 4 * 4


def test_thop_hooks_modules_only():
    c = counts("thop")
    assert c.layers["conv"] == 8 * 8 * 8 * 3 * 3 * 3  # output elements x Cin/groups x k x k, no bias
    assert c.layers["bn"] == 4 * 8 * 8 * 8  # 2 per element, doubled when affine
    assert c.layers["pool"] == 8 * 4 * 4  # one per output element
    assert c.layers["gap"] == (16 + 1) * 8  # (kernel + 1) per output element
    assert c.layers["fc"] == 8 * 10
    assert counts("thop", functional=True).layers["gap"] == 0  # F.adaptive_avg_pool2d: no module, no hook


def test_thop_rounds_adaptive_pooling_over_the_whole_batch():
    spec = "input: 20x13x13\nlayers:\n  - {name: pool, type: adaptive_avgpool2d, output_size: 6}\n"
    for batch in (1, 2, 3, 7):
        count = counts("thop", batch=batch, spec=spec).layers["pool"]
        assert count == int(((13 / 6) * (13 / 6) + 1) * (batch * 20 * 6 * 6))


def test_the_one_liners_say_what_each_counts():
    for name in ("torchinfo", "fvcore", "thop"):
        convention = CONVENTIONS[name]
        assert convention.counts and convention.unit and convention.tool.startswith(name)


def test_hooked_rules_skip_functional_layers():
    facts = LayerFacts(layer=type("T", (), {"name": "t"}), args={}, inputs=((1,),), output=(1,), result=None,
                       functional=True)
    assert hooked(lambda f: 5)(facts) == 0
    assert hooked(lambda f: 5)(LayerFacts(facts.layer, {}, ((1,),), (1,), None)) == 5


def test_whole_batch_counts_are_not_scaled_again():
    convention = Convention("x", "x", "x", "x", default=zero, whole_batch=True)
    assert convention.scale(10, 4) == 10
    assert Convention("y", "y", "y", "y").scale(10, 4) == 40


@pytest.mark.parametrize("names", ["all", "torchinfo,thop", "fvcore"])
def test_resolve(names):
    chosen = [c.name for c in resolve_conventions(names)]
    assert chosen == (list(CONVENTIONS) if names == "all" else names.split(","))


# The layer types added with the vocabulary and the padding forms: 4x8x8 -> reflect pad 1 (4x10x10)
# -> conv 3x3 stride 2 'tf_same' (pads 0/1 per axis: the twin's PaddedConv2d; 4x5x5) -> avg pool 2
# stride 1 padded [0, 1, 0, 1] (PaddedAvgPool2d, reads 4x6x6) -> norms and the rest on 4x5x5 -> half
# the channels (2x5x5) -> flatten (50) -> layernorm without bias -> reshape
NEW_TYPES = """input: 4x8x8
layers:
  - {name: pad, type: pad, padding: 1, mode: reflect}
  - {name: conv_tf, type: conv2d, out_channels: 4, kernel_size: 3, stride: 2, padding: tf_same}
  - {name: avg_asym, type: avgpool2d, kernel_size: 2, stride: 1, padding: [0, 1, 0, 1]}
  - {name: ln, type: layernorm}
  - {name: gn, type: groupnorm, num_groups: 2}
  - {name: inorm, type: instancenorm2d, affine: true}
  - {name: scale, type: layer_scale}
  - {name: drop_path, type: stochastic_depth, p: 0.2}
  - {name: shuffle, type: channel_shuffle, groups: 2}
  - {name: part, type: slice, chunks: 2, index: 1}
  - {name: flatten, type: flatten}
  - {name: ln_vec, type: layernorm, bias: false}
  - {name: unflat, type: reshape, shape: [2, 5, 5]}
"""


def new_type_counts(name, batch=1):
    layers = convention_counts(analyze_text(NEW_TYPES, batch=batch), resolve_conventions(name))[0].layers
    return {row: count for row, count in layers.items() if count}


def test_torchinfo_on_the_new_types():
    # a PaddedConv2d is a "Conv" class; norms charge 2C; layer_scale's parameter is not named weight
    assert new_type_counts("torchinfo") == {"conv_tf": (144 + 4) * 25, "ln": 8, "gn": 8, "inorm": 8, "ln_vec": 50}


def test_fvcore_on_the_new_types():
    # norm_flop_counter: 5 per element with a weight; aten pads, mul, slices have no handle
    assert new_type_counts("fvcore") == {"conv_tf": 144 * 25, "ln": 500, "gn": 500, "inorm": 500, "ln_vec": 250}


def test_thop_on_the_new_types():
    # exact classes: PaddedConv2d, PaddedAvgPool2d, LayerNorm2d have no hook, nn.GroupNorm none;
    # count_normalization doubles for affine / elementwise_affine
    assert new_type_counts("thop") == {"inorm": 4 * 100, "ln_vec": 4 * 50}
    assert new_type_counts("thop", batch=3) == {"inorm": 3 * 4 * 100, "ln_vec": 3 * 4 * 50}
