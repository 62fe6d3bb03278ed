"""Issue 9, the layer vocabulary of modern nets: normalisations with per-sample statistics,
gates and scales, channel plumbing. Shapes, parameters (named as PyTorch names them), counts
and receptive fields against hand-computed values (tests/pytorch/test_verify.py proves the same
against PyTorch)."""

import re

import pytest
from conftest import row

from archcalc.errors import ArchcalcError


def one(spec, input_shape, layer):
    return row(spec(f"input: {input_shape}\nlayers: [{{name: x, {layer}}}]"), "x")


def tensors(r):
    return {t.name: t.count for t in r.param_tensors}, {t.name: t.count for t in r.buffer_tensors}


# --------------------------------------------------------------------------- normalisation
def test_layernorm_over_the_channels_of_a_map(spec):
    r = one(spec, "96x14x14", "type: layernorm, eps: 1.0e-6")
    assert r.output == (96, 14, 14) and tensors(r) == ({"weight": 96, "bias": 96}, {})
    assert r.flops == r.macs == 0  # FlopCounterMode counts no op of a layer norm
    # 5 per element, 2 per position (each position's 96 channels are one group), 2 per element affine
    assert r.ops == 7 * 96 * 196 + 2 * 196
    assert r.rf.kind == "field" and r.rf.axes[0].size == 1 and r.backward_flops == 0


def test_layernorm_over_a_vector_and_without_affine(spec):
    r = one(spec, "[768]", "type: layernorm, normalized_shape: 768, bias: false")
    assert r.output == (768,) and tensors(r) == ({"weight": 768}, {}) and r.ops == 6 * 768 + 2  # a scale, no shift
    bare = one(spec, "[10]", "type: layernorm, elementwise_affine: false")
    assert bare.params == 0 and bare.ops == 5 * 10 + 2


def test_groupnorm(spec):
    r = one(spec, "32x8x8", "type: groupnorm, num_groups: 8")
    assert r.output == (32, 8, 8) and tensors(r) == ({"weight": 32, "bias": 32}, {})
    assert r.ops == 7 * 32 * 64 + 2 * 8 and r.flops == 0 and r.rf.axes[1].size == 1
    assert one(spec, "[12]", "type: groupnorm, groups: 3, affine: false").params == 0


def test_groupnorm_checks_the_channels(spec):
    with pytest.raises(ArchcalcError, match="cannot be split into num_groups 5"):
        one(spec, "32x8x8", "type: groupnorm, num_groups: 5")
    with pytest.raises(ArchcalcError, match="num_channels is 16 but the input has 32 channels"):
        one(spec, "32x8x8", "type: groupnorm, num_groups: 4, num_channels: 16")


def test_instancenorm_defaults_are_torchs(spec):
    r = one(spec, "16x10x10", "type: instancenorm2d")
    assert tensors(r) == ({}, {}) and r.ops == 5 * 1600 + 2 * 16
    tracked = one(spec, "16x10x10", "type: instancenorm2d, affine: true, track_running_stats: true")
    assert tensors(tracked) == ({"weight": 16, "bias": 16}, {"running_mean": 16, "running_var": 16, "num_batches_tracked": 1})
    assert tracked.ops == 2 * 1600  # running statistics at inference: one scale, one shift
    with pytest.raises(ArchcalcError, match="needs a CxHxW feature map"):
        one(spec, "[16]", "type: instancenorm2d")


# --------------------------------------------------------------------------- gates and scales
def test_layer_scale_is_c_parameters_named_as_torchvision(spec):
    r = one(spec, "96x56x56", "type: layer_scale, init: 1.0e-6")
    assert r.output == (96, 56, 56) and tensors(r) == ({"layer_scale": 96}, {})
    assert r.flops == 0 and r.ops == 96 * 56 * 56 and r.rf.axes[0].size == 1 and r.backward_flops == 0
    with pytest.raises(ArchcalcError, match="channels is 64 but the input has 96"):
        one(spec, "96x56x56", "type: layer_scale, channels: 64")
    with pytest.raises(ArchcalcError, match="needs a CxHxW feature map"):
        one(spec, "[96]", "type: layer_scale")


def test_stochastic_depth_is_an_identity_at_inference(spec):
    r = one(spec, "24x7x7", "type: stochastic_depth, p: 0.1, mode: batch")
    assert r.output == (24, 7, 7) and r.params == r.ops == r.flops == 0 and r.rf.axes[0].size == 1
    with pytest.raises(ArchcalcError, match="argument 'mode'"):
        one(spec, "24x7x7", "type: stochastic_depth, p: 0.1, mode: 'col'")
    with pytest.raises(ArchcalcError, match="needs argument 'p'"):
        one(spec, "24x7x7", "type: stochastic_depth")


@pytest.mark.parametrize("gate", ["sigmoid", "hardsigmoid"])
def test_squeeze_excitation_product_sees_the_whole_input(spec, gate):
    """The gate comes from a global pool, so every position of the product reads the whole input
    (Merge with a broadcast input), however small the map's own field is."""
    report = spec(f"""
        input: 16x20x20
        layers:
          - {{name: conv, type: conv2d, out_channels: 16, kernel_size: 3, padding: 1}}
          - name: se
            layers:
              - {{name: pool, type: global_avgpool2d}}
              - {{name: fc1, type: conv2d, out_channels: 4, kernel_size: 1}}
              - relu
              - {{name: fc2, type: conv2d, out_channels: 16, kernel_size: 1}}
              - {{name: gate, type: {gate}}}
          - {{name: scale, type: mul, inputs: [conv, se]}}
          - {{name: gamma, type: layer_scale}}
          - {{name: drop, type: stochastic_depth, p: 0.2}}
        """)
    assert row(report, "conv").rf.axes[0].size == 3
    assert row(report, "se.gate").rf.kind == "whole"
    assert row(report, "scale").output == (16, 20, 20)
    assert row(report, "scale").rf.kind == row(report, "gamma").rf.kind == row(report, "drop").rf.kind == "whole"


# --------------------------------------------------------------------------- channel plumbing
def test_shufflenet_chunk_is_two_slices_of_one_input(spec):
    report = spec("""
        input: 116x28x28
        layers:
          - {name: left, type: slice, chunks: 2, index: 0}
          - {name: right, type: slice, chunks: 2, index: 1, inputs: input}
          - {name: conv, type: conv2d, out_channels: 58, kernel_size: 3, padding: 1}
          - {name: cat, type: concat, inputs: [left, conv]}
          - {name: mix, type: channel_shuffle, groups: 2}
        """)
    left, right, mix = row(report, "left"), row(report, "right"), row(report, "mix")
    assert left.output == right.output == (58, 28, 28)
    assert left.params == left.flops == left.ops == 0 and left.rf.axes[0].size == 1
    assert mix.output == (116, 28, 28) and mix.params == mix.flops == mix.ops == 0
    assert mix.rf.axes[0].size == 3  # the union of the identity and the 3x3 path


def test_slice_by_start_and_end_and_torch_chunk_sizes(spec):
    assert one(spec, "10x4x4", "type: slice, start: 2, end: 5").output == (3, 4, 4)
    assert one(spec, "10x4x4", "type: slice, start: 7").output == (3, 4, 4)
    assert one(spec, "[10]", "type: slice, end: 4").output == (4,)
    # torch.chunk: ceil(10 / 4) = 3 per part, the last keeps the rest; only 4 parts exist
    assert [one(spec, "10x4x4", f"type: slice, chunks: 4, index: {i}").output[0] for i in range(4)] == [3, 3, 3, 1]
    with pytest.raises(ArchcalcError, match="chunk index 3 is out of range"):
        one(spec, "5x4x4", "type: slice, chunks: 4, index: 3")  # chunks of 2: only 3 parts
    with pytest.raises(ArchcalcError, match=r"slice \[2, 12\) does not fit in 10 channels"):
        one(spec, "10x4x4", "type: slice, start: 2, end: 12")
    with pytest.raises(ArchcalcError, match="either start/end or chunks/index"):
        one(spec, "10x4x4", "type: slice, start: 2, chunks: 2, index: 0")
    with pytest.raises(ArchcalcError, match="must be below end"):
        one(spec, "10x4x4", "type: slice, start: 5, end: 5")


def test_channel_shuffle_checks_the_groups(spec):
    with pytest.raises(ArchcalcError, match="cannot be shuffled in 3 groups"):
        one(spec, "8x4x4", "type: channel_shuffle, groups: 3")


def test_reshape_a_vector_to_a_map(spec):
    r = one(spec, "[1470]", "type: reshape, shape: [30, 7, 7]")
    assert r.output == (30, 7, 7) and r.params == r.flops == r.ops == 0 and r.rf.kind == "whole"
    assert one(spec, "[12]", "type: unflatten, shape: 12").output == (12,)
    with pytest.raises(ArchcalcError, match="cannot reshape 1,470 features to 30x7x8"):
        one(spec, "[1470]", "type: reshape, shape: [30, 7, 8]")
    with pytest.raises(ArchcalcError, match="reshape needs a flat vector, got a 3x4x4 map"):
        one(spec, "3x4x4", "type: reshape, shape: [48]")
    with pytest.raises(ArchcalcError, match=r"must be \[C, H, W\], \[C, L\], \[C, T, H, W\] or \[features\]"):
        one(spec, "[12]", "type: reshape, shape: [3, 1, 2, 1, 2]")
    assert one(spec, "[12]", "type: reshape, shape: [3, 4]").output == (3, 4)  # a CxL sequence


# --------------------------------------------------------------------------- permuted tensors
CNBLOCK = """
name: cnblock
input: 96x14x10
layers:
  - {name: dw, type: conv2d, out_channels: 96, kernel_size: 7, padding: 3, groups: 96}
  - {name: last, type: permute, dims: [0, 2, 3, 1]}
  - {name: norm, type: layernorm, eps: 1.0e-6, over: last}
  - {name: up, type: linear, out_features: 384}
  - {name: act, type: gelu}
  - {name: down, type: linear, out_features: 96}
  - {name: first, type: permute, dims: [0, 3, 1, 2]}
  - {name: gamma, type: layer_scale}
"""


def test_a_permuted_block_keeps_torch_shapes_and_every_field():
    from archcalc import analyze_text

    report = analyze_text(CNBLOCK)
    rows = {r.name: r for r in report.rows}
    assert rows["last"].output == (14, 10, 96) and rows["last"].layout == (0, 1, None)
    assert rows["up"].output == (14, 10, 384) and rows["up"].params == 96 * 384 + 384
    assert rows["up"].flops == 2 * 14 * 10 * 96 * 384
    assert rows["norm"].params == 192 and rows["norm"].ops == 5 * 14 * 10 * 96 + 2 * 14 * 10 + 2 * 14 * 10 * 96
    assert rows["first"].output == (96, 14, 10) and rows["first"].layout == (None, 0, 1)
    # the linears mix the channels at each position: the 7x7 field of the depthwise conv is kept
    assert all(rows[n].rf.axes[0].size == 7 and rows[n].rf.axes[1].size == 7 for n in ("up", "down", "gamma"))


def test_a_layer_norm_over_the_last_dimension_of_a_map_normalises_its_rows():
    from archcalc import analyze_text

    report = analyze_text("name: w\ninput: 4x6x5\nlayers:\n  - {type: layernorm, over: last}\n")
    row = report.rows[0]
    assert row.params == 2 * 5 and row.ops == 5 * 120 + 2 * 24 + 2 * 120


@pytest.mark.parametrize("layer, message", [
    ("{type: conv2d, out_channels: 4, kernel_size: 3}", "conv2d needs its input channels first (CxHxW), got a permuted "
                                                        "6x5x4 tensor (HxWxC); permute it back first"),
    ("{type: layernorm}", "layernorm needs its input channels first"),
    ("{type: layer_scale}", "layer_scale needs its input channels first"),
])
def test_a_layer_that_reads_channels_first_refuses_a_permuted_tensor(layer, message):
    from archcalc import analyze_text
    from archcalc.errors import ShapeError

    text = f"name: p\ninput: 4x6x5\nlayers:\n  - {{type: permute, dims: [0, 2, 3, 1]}}\n  - {layer}\n"
    with pytest.raises(ShapeError, match=re.escape(message)):
        analyze_text(text)


def test_a_linear_on_a_permuted_tensor_must_act_on_the_channels():
    from archcalc import analyze_text
    from archcalc.errors import ShapeError

    text = "name: p\ninput: 4x6x5\nlayers:\n  - {type: permute, dims: [0, 3, 1, 2]}\n  - {type: linear, out_features: 3}\n"
    with pytest.raises(ShapeError, match="acts on the last dimension, which in a permuted 5x4x6 tensor"):
        analyze_text(text)


@pytest.mark.parametrize("dims, message", [
    ("[0, 2, 1]", "has 3 dimensions but the input 4x6x5 has 4 with the batch"),
    ("[1, 0, 2, 3]", "must keep the batch dimension first"),
    ("[0, 1, 1, 2]", "must be a permutation of 0..3"),
    ("7", "must be a list of 2 to 5 dimensions"),
])
def test_permute_arguments_are_checked(dims, message):
    from archcalc import analyze_text
    from archcalc.errors import ArchcalcError

    with pytest.raises(ArchcalcError, match=re.escape(message)):
        analyze_text(f"name: p\ninput: 4x6x5\nlayers:\n  - {{type: permute, dims: {dims}}}\n")


def test_a_sequence_and_a_volume_permute_too():
    from archcalc import analyze_text

    seq = analyze_text("name: s\ninput: 8x20\nlayers:\n  - {type: permute, dims: [0, 2, 1]}\n"
                       "  - {type: linear, out_features: 3}\n  - {type: permute, dims: [0, 2, 1]}\n")
    assert [r.output for r in seq.rows] == [(20, 8), (20, 3), (3, 20)] and seq.rows[0].layout == (0, None)
    vol = analyze_text("name: v\ninput: 2x3x4x5\nlayers:\n  - {type: permute, dims: [0, 2, 3, 4, 1]}\n")
    assert vol.rows[0].output == (3, 4, 5, 2) and vol.rows[0].layout == (0, 1, 2, None)
