"""verify(): the analysis proven against PyTorch, layer by layer (shapes, params, buffers, FLOPs,
receptive fields), on cpu and meta; mismatches are named and exit 1; unusable devices exit 2."""

import dataclasses
import json
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")

from typer.testing import CliRunner  # noqa: E402

from archcalc import load  # noqa: E402
from archcalc.cli import app  # noqa: E402
from archcalc.layers.conv import Conv2d  # noqa: E402
from archcalc.graph import load_graph  # noqa: E402
from archcalc.pytorch.verify import verify  # noqa: E402

runner = CliRunner()


def graph_of(text):
    return load_graph("inline.yaml", text=textwrap.dedent(text))


def assert_all_agree(result):
    assert result.ok, "\n".join(str(c) for c in result.mismatches)


CONVS = """
name: convs
input: 3x37x41
layers:
  - {name: c1, type: conv2d, out_channels: 8, kernel_size: 3, dilation: 2, padding: same}
  - {name: c2, type: conv2d, out_channels: 8, kernel_size: [3, 5], groups: 4, stride: [2, 1], padding: [1, 2]}
  - {name: dw, type: conv2d, out_channels: 8, kernel_size: 4, groups: 8, padding: same}
  - {name: mp, type: maxpool2d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}
  - {name: mpd, type: maxpool2d, kernel_size: 2, stride: 1, dilation: 2}
  - {name: ap, type: avgpool2d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false}
  - {name: valid, type: conv2d, out_channels: 4, kernel_size: 2, padding: valid, bias: false}
  - {name: up, type: conv_transpose2d, out_channels: 6, kernel_size: 3, stride: 2, padding: 1, output_padding: 1}
  - {name: up2, type: conv_transpose2d, out_channels: 6, kernel_size: 4, stride: 3, dilation: 2, groups: 2, output_padding: 1}
  - {name: aap, type: adaptive_avgpool2d, output_size: [5, 7]}
  - {name: amp, type: adaptive_maxpool2d, output_size: [3, null]}
  - {name: gmp, type: global_maxpool2d}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out_features: 10}
  - {name: bn, type: batchnorm1d}
  - {name: sm, type: softmax, dim: 0}
"""

MIX = """
name: mix
input: 3x16x16
layers:
  - {name: stem, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {name: lrn, type: local_response_norm, size: 5}
  - {name: bn, type: batchnorm2d, trainable: false}
  - relu
  - relu6
  - {type: leaky_relu, negative_slope: 0.2}
  - {type: elu, alpha: 0.5}
  - sigmoid
  - tanh
  - {type: gelu, approximate: tanh}
  - silu
  - hardswish
  - {type: softmax, dim: 0}
  - {type: dropout, p: 0.1}
  - identity
  - {name: a, type: conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
  - {name: b, type: maxpool2d, kernel_size: 2, inputs: stem}
  - {name: sum, type: add, inputs: [a, b]}
  - name: block
    layers:
      - {type: conv2d, out_channels: 8, kernel_size: 3, padding: 1}
      - relu
      - {name: res, type: add, inputs: [1, input]}
  - {name: near, type: upsample, scale_factor: 2, inputs: sum}
  - {name: bil, type: upsample, scale_factor: 2, mode: bilinear, inputs: block}
  - {name: cat, type: concat, inputs: [near, bil, lrn]}
  - {name: bil3, type: upsample, scale_factor: 3, mode: bilinear}
  - {name: tail, type: conv2d, out_channels: 4, kernel_size: 3, stride: 2}
  - {name: ac, type: upsample, size: [30, 20], mode: bilinear, align_corners: true}
  - {name: gap, type: global_avgpool2d}
  - flatten
"""

# Dense and softmax layers along a spatial axis: the field is that whole axis, not the whole input.
AXES = """
name: axes
input: 3x12x10
layers:
  - {name: c, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: lin, type: linear, out_features: 6}
  - {name: c2, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: sm, type: softmax, dim: 1, inputs: c}
  - {name: sm2, type: softmax, dim: 2}
"""

FLAT = """
name: mlp
input: [20]
layers:
  - {type: linear, out_features: 8}
  - {type: batchnorm1d}
  - relu
  - {type: linear, out_features: 3}
"""

# Squeeze-excitation: a gate from a global pool scales the map, so the product sees the whole
# input; a product of two maps has the union of their fields.
SQUEEZE_EXCITE = """
name: squeeze-excitation
input: 16x12x12
layers:
  - {name: conv, type: conv2d, out_channels: 16, kernel_size: 3, padding: 1}
  - name: se
    layers:
      - {name: pool, type: global_avgpool2d}
      - {name: fc1, type: conv2d, out_channels: 4, kernel_size: 1}
      - relu
      - {name: fc2, type: conv2d, out_channels: 16, kernel_size: 1}
      - {name: gate, type: hardsigmoid}
  - {name: scale, type: mul, inputs: [conv, se]}
  - {name: mask, type: conv2d, out_channels: 16, kernel_size: 5, padding: 2, inputs: conv}
  - {name: both, type: mul, inputs: [conv, mask]}
  - {name: out, type: add, inputs: [scale, both]}
"""

# The vocabulary of modern nets (issue 9): norms with per-sample statistics, on maps and vectors;
# a ConvNeXt-like branch (layer scale, stochastic depth) and a sigmoid squeeze-excitation gate;
# a ShuffleNetV2 unit (two slices, concat, channel shuffle); a vector sliced and read as a map.
VOCAB = """
name: vocab
input: 8x12x10
layers:
  - {name: stem, type: conv2d, out_channels: 16, kernel_size: 3, padding: 1}
  - {name: ln, type: layernorm, eps: 1.0e-6}
  - {name: gn, type: groupnorm, num_groups: 4}
  - {name: inorm, type: instancenorm2d}
  - {name: inorm2, type: instancenorm2d, affine: true, track_running_stats: true}
  - name: branch
    layers:
      - {name: dw, type: conv2d, out_channels: 16, kernel_size: 7, padding: 3, groups: 16}
      - {name: gamma, type: layer_scale, init: 0.5}
      - {name: drop, type: stochastic_depth, p: 0.25}
  - {name: res, type: add, inputs: [branch, inorm2]}
  - name: se
    layers:
      - {name: pool, type: global_avgpool2d}
      - {name: fc1, type: conv2d, out_channels: 4, kernel_size: 1}
      - relu
      - {name: fc2, type: conv2d, out_channels: 16, kernel_size: 1}
      - {name: gate, type: sigmoid}
  - {name: excite, type: mul, inputs: [res, se]}
  - {name: left, type: slice, chunks: 2, index: 0, inputs: res}
  - {name: right, type: slice, start: 8, end: 16, inputs: res}
  - {name: rconv, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {name: unit, type: concat, inputs: [left, rconv]}
  - {name: mix, type: channel_shuffle, groups: 2}
  - {name: conv, type: conv2d, out_channels: 8, kernel_size: 3, stride: 2}
  - {name: gap, type: global_avgpool2d}
  - flatten
  - {name: fc, type: linear, out_features: 14}
  - {name: ln1, type: layernorm, bias: false}
  - {name: gn1, type: groupnorm, num_groups: 2}
  - {name: part, type: slice, start: 2}
  - {name: map, type: reshape, shape: [3, 2, 2]}
  - {name: head, type: conv2d, out_channels: 4, kernel_size: 1}
"""

# Permuted tensors (archcalc.layers.layout): ConvNeXt's CNBlock (channels last around a layer norm
# over the last dimension and two linears, every per-position layer on the way), a swap of the
# rows and columns and back, and a layer norm over the last dimension of a channels-first map (W).
PERMUTED = """
name: permuted
input: 8x11x9
layers:
  - {name: stem, type: conv2d, out_channels: 16, kernel_size: 3, stride: 2, padding: 1}
  - name: block
    layers:
      - {name: dw, type: conv2d, out_channels: 16, kernel_size: 7, padding: 3, groups: 16}
      - {name: last, type: permute, dims: [0, 2, 3, 1]}
      - {name: norm, type: layernorm, eps: 1.0e-6, over: last}
      - {name: up, type: linear, out_features: 32}
      - {name: act, type: gelu}
      - {name: drop, type: dropout, p: 0.1}
      - {name: down, type: linear, out_features: 16, bias: false}
      - {name: same, type: identity}
      - {name: first, type: permute, dims: [0, 3, 1, 2]}
      - {name: gamma, type: layer_scale}
      - {name: sd, type: stochastic_depth, p: 0.2}
  - {name: res, type: add, inputs: [block, stem]}
  - {name: swap, type: permute, dims: [0, 1, 3, 2]}
  - {name: relu, type: relu}
  - {name: back, type: permute, dims: [0, 1, 3, 2]}
  - {name: conv, type: conv2d, out_channels: 8, kernel_size: 3}
  - {name: wnorm, type: layernorm, over: last, elementwise_affine: false}
  - {name: wfc, type: linear, out_features: 5}
"""

# Per-side and TensorFlow-style padding (odd sizes too: 'SAME' pads differently there), and the
# pad layer in every mode; the fields follow the top/left side.
PADDING = """
name: padding
input: 3x33x30
layers:
  - {name: c0, type: conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: tf_same}
  - {name: p0, type: maxpool2d, kernel_size: 3, stride: 2, padding: tf_same}
  - {name: c1, type: conv2d, out_channels: 8, kernel_size: [3, 5], dilation: 2, padding: [0, 3, 4, 1]}
  - {name: reflect, type: pad, padding: [1, 2, 0, 1], mode: reflect}
  - {name: replicate, type: pad, padding: 2, mode: replicate}
  - {name: circular, type: pad, padding: [1, 2], mode: circular}
  - {name: constant, type: pad, padding: [0, 1, 2, 0], value: -1.5}
  - {name: a0, type: avgpool2d, kernel_size: 2, padding: [0, 1, 1, 0], ceil_mode: true}
  - {name: c2, type: conv2d, out_channels: 4, kernel_size: 4, stride: 3, padding: tf_same, bias: false}
  - {name: m1, type: maxpool2d, kernel_size: 2, stride: 2, dilation: 2, padding: [1, 0, 0, 1], ceil_mode: true}
"""

# name -> spec; every registered layer type appears in one (test_inline_specs_cover_every_layer_type)
# 1-D (CxL) and 3-D (CxTxHxW) types; each weighted type both reads the net input (only its weight
# gradient) and, frozen, follows a trainable layer (only its input gradient), for test_backward_torch
SEQUENCE = """
name: sequence
input: 4x40
layers:
  - {name: c1, type: conv1d, out_channels: 8, kernel_size: 5, stride: 2, padding: 2}
  - {name: t1, type: conv_transpose1d, out_channels: 8, kernel_size: 2, stride: 2, inputs: input}
  - {name: c2, type: conv1d, out_channels: 8, kernel_size: 4, stride: 4, inputs: t1}
  - {name: join, type: add, inputs: [c1, c2]}
  - {name: bn, type: batchnorm1d}
  - {name: mp, type: maxpool1d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}
  - {name: frozen, type: conv1d, out_channels: 8, kernel_size: 3, dilation: 2, padding: same, trainable: false}
  - {name: ft, type: conv_transpose1d, out_channels: 6, kernel_size: 4, stride: 3, dilation: 2, groups: 2,
     output_padding: 1, trainable: false}
  - {name: mpd, type: maxpool1d, kernel_size: 2, stride: 1, dilation: 2}
  - {name: ap, type: avgpool1d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false}
  - {name: aap, type: adaptive_avgpool1d, output_size: 5}
  - {name: amp, type: adaptive_maxpool1d, output_size: 1}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out_features: 3}
"""

VOLUME = """
name: volume
input: 2x6x10x10
layers:
  - {name: c1, type: conv3d, out_channels: 4, kernel_size: [3, 5, 5], stride: [1, 2, 2], padding: [1, 2, 2]}
  - {name: t1, type: conv_transpose3d, out_channels: 4, kernel_size: 2, stride: 2, inputs: input}
  - {name: c2, type: conv3d, out_channels: 4, kernel_size: [2, 4, 4], stride: [2, 4, 4], inputs: t1}
  - {name: join, type: add, inputs: [c1, c2]}
  - {name: bn, type: batchnorm3d}
  - {name: mp, type: maxpool3d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}
  - {name: frozen, type: conv3d, out_channels: 4, kernel_size: 3, dilation: [1, 2, 2], padding: same, trainable: false}
  - {name: ft, type: conv_transpose3d, out_channels: 4, kernel_size: [2, 3, 3], stride: 2, groups: 2,
     output_padding: [0, 1, 1], trainable: false}
  - {name: mpd, type: maxpool3d, kernel_size: 2, stride: 1, dilation: [1, 2, 2]}
  - {name: ap, type: avgpool3d, kernel_size: [1, 3, 3], stride: 1, padding: [0, 1, 1], count_include_pad: false}
  - {name: aap, type: adaptive_avgpool3d, output_size: [2, 3, 4]}
  - {name: amp, type: adaptive_maxpool3d, output_size: 1}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out_features: 3}
"""

# NF-Nets' scaled weight-standardised convolutions and scales, anti-aliased (blur) downsampling and
# TResNet's space-to-depth stem; a frozen convolution after a trainable one (input gradient only)
NORM_FREE = """
name: norm_free
input: 3x32x40
layers:
  - {name: s2d, type: space_to_depth, block_size: 2}
  - {name: stem, type: scaled_std_conv2d, out_channels: 16, kernel_size: 3, stride: 2, padding: tf_same, gamma: 1.7}
  - {name: beta, type: scale, factor: 0.5}
  - {name: conv, type: scaled_std_conv2d, out_channels: 16, kernel_size: 3, padding: 1, groups: 4, bias: false,
     trainable: false}
  - {name: skip, type: scale, learnable: true}
  - {name: alpha, type: scale, factor: 0.2}
  - {name: res, type: add, inputs: [alpha, beta]}
  - {name: blur, type: blurpool2d}
  - {name: blur5, type: blurpool2d, filter_size: [5, 3], stride: 1, pad_mode: constant}
  - {name: s2d_tall, type: space_to_depth, block_size: [2, 1]}
  - {name: head, type: conv2d, out_channels: 4, kernel_size: 1}
"""

INLINE = {"convs-pools": CONVS, "activations-merges-upsample": MIX, "axes": AXES, "flat": FLAT,
          "squeeze-excite": SQUEEZE_EXCITE, "padding": PADDING, "vocabulary": VOCAB,
          "sequence": SEQUENCE, "volume": VOLUME, "permuted": PERMUTED, "norm-free": NORM_FREE}

# timm's attention units written out (issue 10): selective kernel (two paths stacked, attention over
# them), split attention's radix view, global context (attention pooling by a matrix product, a
# context added back, broadcast), ECA (a 1-D convolution over the pooled channels); a matrix
# product of the net input (no gradient) and a trained map, so only one input gradient is computed
ATTENTION = """
name: attention
input: 8x12x10
layers:
  - {name: half0, type: slice, start: 0, end: 4}
  - {name: path0, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {name: half1, type: slice, start: 4, inputs: input}
  - {name: path1, type: conv2d, out_channels: 8, kernel_size: 3, padding: 2, dilation: 2}
  - {name: paths, type: stack_maps, inputs: [path0, path1]}
  - {name: both, type: channel_sum}
  - {name: pool, type: global_avgpool2d}
  - {name: reduce, type: conv2d, out_channels: 4, kernel_size: 1}
  - {name: select, type: conv2d, out_channels: 16, kernel_size: 1}
  - {name: radix, type: reshape, shape: [2, -1], dim: 0}
  - {name: weights, type: softmax, dim: 0}
  - {name: weighted, type: mul, inputs: [paths, weights]}
  - {name: sk, type: channel_sum}
  - {name: attn, type: conv2d, out_channels: 1, kernel_size: 1}
  - {name: attn_seq, type: reshape, shape: [-1], dim: 1, end_dim: 2}
  - {name: attn_soft, type: softmax, dim: 1}
  - {name: attn_col, type: reshape, shape: [-1, 1], dim: 1}
  - {name: seq, type: reshape, shape: [1, 8, -1], dim: 0, end_dim: 2, inputs: sk}
  - {name: context, type: matmul, inputs: [seq, attn_col]}
  - {name: ctx_map, type: reshape, shape: [8, 1, 1], dim: 0, end_dim: 2}
  - {name: ctx_fc, type: conv2d, out_channels: 8, kernel_size: 1}
  - {name: raw, type: reshape, shape: [1, 8, -1], dim: 0, end_dim: 2, inputs: input}
  - {name: raw_context, type: matmul, inputs: [raw, attn_col]}
  - {name: raw_map, type: reshape, shape: [-1, 1], dim: 0, end_dim: 1}
  - {name: gc, type: add, inputs: [sk, ctx_fc, raw_map]}
  - {name: eca_pool, type: global_avgpool2d}
  - {name: eca_flat, type: flatten}
  - {name: eca_seq, type: reshape, shape: [1, 8]}
  - {name: eca_conv, type: conv1d, out_channels: 1, kernel_size: 3, padding: 1, bias: false}
  - {name: eca_gate, type: sigmoid}
  - {name: eca_map, type: reshape, shape: [-1, 1, 1], dim: 0, end_dim: 1}
  - {name: eca, type: mul, inputs: [gc, eca_map]}
  - {name: kept, type: channel_sum, keepdim: true, inputs: paths}
  - {name: kept_map, type: reshape, shape: [-1], dim: 0, end_dim: 1}
  - {name: out, type: concat, inputs: [eca, kept_map]}
  - {name: head, type: conv2d, out_channels: 4, kernel_size: 3}
"""
INLINE["attention"] = ATTENTION


@pytest.mark.parametrize("text", INLINE.values(), ids=list(INLINE))
def test_every_layer_type_agrees_with_pytorch(text):
    result = verify(graph_of(text))
    assert_all_agree(result)
    quantities = {c.quantity for c in result.checks}
    assert quantities == {"output", "params", "buffers", "flops", "rf"}
    measured_rf = [c for c in result.checks if c.quantity == "rf" and not c.skipped]
    assert measured_rf, "receptive fields must actually be measured"


def test_inline_specs_cover_every_layer_type():
    from archcalc.layers.base import REGISTRY

    covered = {n.type_name for text in INLINE.values() for n in graph_of(text).nodes}
    assert covered == set(REGISTRY)


def test_squeeze_excitation_product_sees_the_whole_input():
    result = verify(graph_of(SQUEEZE_EXCITE))
    assert_all_agree(result)
    rf = {c.layer: c for c in result.checks if c.quantity == "rf"}
    assert rf["scale"].expected == "whole" and not rf["scale"].skipped  # measured by gradients, not assumed
    assert not rf["both"].skipped and rf["both"].ok  # union of a 3x3 and a 7x7 field, probed
    flops = {c.layer: c for c in result.checks if c.quantity == "flops"}
    assert flops["scale"].expected == flops["scale"].actual == 0  # FlopCounterMode counts no element-wise product


def test_vocabulary_gate_and_branch_fields():
    result = verify(graph_of(VOCAB))
    assert_all_agree(result)
    rf = {c.layer: c for c in result.checks if c.quantity == "rf"}
    assert rf["excite"].expected == "whole" and not rf["excite"].skipped  # the sigmoid gate from a global pool
    assert not rf["res"].skipped and all(last - first + 1 == 9 for first, last in rf["res"].actual)  # 3x3, then 7x7
    assert not rf["mix"].skipped and all(last - first + 1 == 11 for first, last in rf["mix"].actual)  # + a 3x3 path
    assert rf["map"].expected == "whole" and not rf["map"].skipped


def _blocking(module_call):
    """A probe module that passes no gradient: Threshold(inf, 0) outputs zeros everywhere."""
    return classmethod(lambda cls, *args: module_call("Threshold", (float("inf"), 0.0)))


def test_a_probe_twin_that_blocks_gradients_fails_loudly(monkeypatch):
    from archcalc.layers import ModuleCall
    from archcalc.layers.pool import GlobalAvgPool2d

    monkeypatch.setattr(GlobalAvgPool2d, "probe_module", _blocking(ModuleCall))
    result = verify(graph_of(SQUEEZE_EXCITE))
    bad = {c.layer: c for c in result.mismatches if c.quantity == "rf"}
    assert "se.pool" in bad and "no gradient reaches the input at all" in bad["se.pool"].detail
    assert not result.ok


def test_a_blocked_field_probe_is_a_mismatch(monkeypatch):
    from archcalc.layers import ModuleCall
    from archcalc.layers.conv import Conv2d

    monkeypatch.setattr(Conv2d, "probe_module", _blocking(ModuleCall))
    result = verify(graph_of(CONVS))
    assert ("c1", "rf") in {(c.layer, c.quantity) for c in result.mismatches}


def test_periodic_and_whole_axis_fields_are_measured():
    result = verify(graph_of(CONVS))
    rf = {c.layer: c for c in result.checks if c.quantity == "rf"}
    assert not rf["up2"].skipped and "positions" in rf["up2"].detail  # transposed conv: every phase probed
    assert not rf["aap"].skipped  # adaptive bins after a transposed conv
    assert rf["gmp"].expected == "whole" and rf["gmp"].actual == "whole"
    assert rf["flat"].skipped  # flatten's "whole" is a convention, said so
    axes = {c.layer: c for c in verify(graph_of(AXES)).checks if c.quantity == "rf"}
    assert not axes["lin"].skipped and axes["lin"].actual == axes["lin"].expected
    assert axes["lin"].actual[1][0] == 0  # a dense layer on a map reads its whole W axis


def test_resnet50_agrees_on_cpu():
    result = verify(load("resnet50"))
    assert_all_agree(result)
    checks = {(c.layer, c.quantity): c for c in result.checks}
    assert checks[("total", "flops")].actual == 2 * 4_089_184_256
    assert checks[("total", "params")].actual == 25_557_032
    assert checks[("layer4.0.downsample.1", "buffers")].actual == 2 * 2048 + 1
    assert not checks[("layer4.2.conv3", "rf")].skipped


def test_resnet50_agrees_on_meta_with_batch():
    result = verify(load("resnet50"), device="meta", batch=2, rf=False)
    assert_all_agree(result)
    assert dict(((c.layer, c.quantity), c.actual) for c in result.checks)[("total", "flops")] == 2 * 2 * 4_089_184_256


VGG16 = """
name: vgg16
input: 3x224x224
blocks:
  stage:
    args: {width: null, convs: null}
    layers:
      - {type: conv2d, out_channels: width, kernel_size: 3, padding: 1, repeat: convs}
      - {type: maxpool2d, kernel_size: 2}
layers:
  - {name: s1, type: stage, width: 64, convs: 2}
  - {name: s2, type: stage, width: 128, convs: 2}
  - {name: s3, type: stage, width: 256, convs: 3}
  - {name: s4, type: stage, width: 512, convs: 3}
  - {name: s5, type: stage, width: 512, convs: 3}
  - {name: avgpool, type: adaptive_avgpool2d, output_size: 7}
  - flatten
  - {type: linear, out_features: 4096}
  - {type: linear, out_features: 1000}
"""


def test_meta_device_verifies_a_huge_input_without_memory():
    result = verify(graph_of(VGG16), device="meta", input_shape=(3, 4096, 4096))
    assert_all_agree(result)
    rf = [c for c in result.checks if c.quantity == "rf"]
    assert any(not c.skipped for c in rf)
    assert all("too large" in c.detail for c in rf if c.expected == "whole" and c.skipped)


def test_cli_verify_passes_with_table_and_json():
    result = runner.invoke(app, ["verify", "architectures/resnet50.yaml", "--no-rf"])
    assert result.exit_code == 0, result.output
    assert "all" in result.stdout and "agree with PyTorch" in result.stdout
    result = runner.invoke(app, ["verify", "alexnet", "--device", "meta", "-f", "json", "--input", "3x227x227"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and data["input"] == [3, 227, 227] and data["mismatches"] == []


def test_broken_formula_fails_and_names_the_row(monkeypatch):
    original = Conv2d.infer

    def off_by_one(cls, args, inputs):
        result = original(args, inputs)
        return dataclasses.replace(result, macs=result.macs + 1, flops=result.flops + 2)

    monkeypatch.setattr(Conv2d, "infer", classmethod(off_by_one))
    result = runner.invoke(app, ["verify", "architectures/resnet50.yaml", "--no-rf"])
    assert result.exit_code == 1, result.output
    assert "MISMATCH layer1.0.conv2 flops" in result.stdout
    assert "disagree with PyTorch" in result.stdout and "layer4.2.conv3" in result.stdout


def test_broken_parameter_count_fails(monkeypatch):
    original = Conv2d.infer

    def extra_param(cls, args, inputs):
        result = original(args, inputs)
        params = [dataclasses.replace(result.params[0], count=result.params[0].count + 1), *result.params[1:]]
        return dataclasses.replace(result, params=params)

    monkeypatch.setattr(Conv2d, "infer", classmethod(extra_param))
    result = verify(graph_of(MIX), rf=False)
    assert not result.ok
    assert {(c.layer, c.quantity) for c in result.mismatches} >= {("stem", "params"), ("a", "params"), ("total", "params")}


def test_broken_receptive_field_fails(monkeypatch):
    from archcalc.layers import windows as rf_module
    from archcalc.layers import conv

    def shifted(kernel, stride, padding, dilation=1):
        return rf_module.conv_window(kernel, stride, padding + 1, dilation)

    monkeypatch.setattr(conv, "conv_window", shifted)
    result = verify(graph_of(CONVS))
    assert ("c1", "rf") in {(c.layer, c.quantity) for c in result.mismatches}


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown where CUDA is missing")
def test_cuda_unavailable_is_a_clear_error():
    result = runner.invoke(app, ["verify", "alexnet", "--device", "cuda"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: CUDA is not available")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_resnet50_agrees_on_cuda():
    assert_all_agree(verify(load("resnet50"), device="cuda", batch=4))


def test_missing_torch_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    result = runner.invoke(app, ["verify", "alexnet"])
    assert result.exit_code == 2
    assert "pip install 'archcalc[torch]'" in result.stderr


def test_spec_errors_exit_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ninput: 3x8x8\nlayers:\n  - {type: conv2d, out_channels: 4, kernel_size: 9}\n")
    result = runner.invoke(app, ["verify", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output


@pytest.mark.parametrize("name", sorted(__import__("archcalc.spec.bundled", fromlist=["bundled"]).bundled()))
def test_every_bundled_spec_agrees_with_pytorch(name):
    """Shapes, params, buffers and FLOPs on meta (no memory); receptive fields on the CPU probe."""
    result = verify(load(name), device="meta")
    assert_all_agree(result)
    rf = [c for c in result.checks if c.quantity == "rf"]
    assert sum(not c.skipped for c in rf) >= len(rf) - 3 - sum(c.layer.endswith(".flatten") for c in rf)  # only flatten-like
    assert all("flattened vector" in c.detail for c in rf if c.skipped)  # conventions are skipped (aux heads' too)


def test_a_forward_pass_that_cannot_fit_is_refused_before_torch_runs(monkeypatch):
    from archcalc.pytorch import verify as verify_module

    monkeypatch.setattr(verify_module, "available_memory", lambda device: 64 << 20)  # 64 MiB free
    result = runner.invoke(app, ["verify", "vgg16", "--no-rf"])
    assert result.exit_code == 2
    assert "needs about" in result.stderr and "--device meta" in result.stderr and "Traceback" not in result.output
    result = runner.invoke(app, ["verify", "vgg16", "--device", "meta", "--no-rf"])  # meta allocates nothing
    assert result.exit_code == 0, result.output
