"""The layer types timm's NF-Nets, anti-aliased nets and TResNet need (issue 10): scaled weight
standardised convolution, scale, blur pooling and space-to-depth. Shapes, parameters and buffers
(named as PyTorch names them), counts and receptive fields against hand-computed values
(tests/pytorch/test_verify.py's norm-free spec proves the same against PyTorch)."""

import pytest
from conftest import row

from archcalc.errors import ArchcalcError


def one(spec, input_shape, layer):
    return row(spec(f"input: {input_shape}\nlayers: [{{name: x, {layer}}}]"), "x")


def tensors(r):
    return {t.name: t.count for t in r.param_tensors}, {t.name: t.count for t in r.buffer_tensors}


def test_scaled_std_conv2d_is_a_conv_with_a_gain_per_filter(spec):
    r = one(spec, "16x14x14", "type: scaled_std_conv2d, out_channels: 32, kernel_size: 3, padding: 1, groups: 2")
    weight = 3 * 3 * 8 * 32
    assert r.output == (32, 14, 14) and tensors(r) == ({"weight": weight, "bias": 32, "gain": 32}, {})
    assert r.macs == weight * 196 and r.flops == 2 * r.macs  # FlopCounterMode: the convolution only
    # conv ops and bias adds, then the weight standardised: 5 per element, 2 per filter, the gain, gain x scale
    assert r.ops == 2 * r.macs + 32 * 196 + (5 * weight + 2 * 32 + weight) + 32
    # the weight gradient, groups x FLOPs, as conv2d; the net input needs no gradient
    assert r.rf.axes[0].size == 3 and r.backward_flops == 2 * r.flops


def test_scaled_std_conv2d_takes_tensorflows_same_padding(spec):
    r = one(spec, "8x15x16", "type: scaled_std_conv2d, out_channels: 4, kernel_size: 3, stride: 2, padding: tf_same, "
                             "bias: false, gamma: 1.7, eps: 1.0e-5")
    assert r.output == (4, 8, 8) and tensors(r) == ({"weight": 288, "gain": 4}, {})
    with pytest.raises(ArchcalcError, match="argument 'eps'"):
        one(spec, "8x15x16", "type: scaled_std_conv2d, out_channels: 4, kernel_size: 3, eps: -1")


def test_scale_by_a_constant_and_by_a_learnable_scalar(spec):
    r = one(spec, "24x7x7", "type: scale, factor: 0.17")
    assert r.output == (24, 7, 7) and tensors(r) == ({}, {}) and r.flops == 0 and r.ops == 24 * 49
    assert r.rf.axes[0].size == 1 and r.backward_flops == 0
    learnable = one(spec, "[10]", "type: scale, learnable: true")
    assert learnable.output == (10,) and tensors(learnable) == ({"gain": 1}, {}) and learnable.ops == 10


def test_blurpool2d_is_a_fixed_depthwise_filter_held_as_a_buffer(spec):
    r = one(spec, "64x56x56", "type: blurpool2d")  # timm's defaults: 3x3, stride 2, reflect padding 1
    assert r.output == (64, 28, 28) and tensors(r) == ({}, {"filt": 64 * 9})
    assert r.macs == 9 * 64 * 28 * 28 and r.flops == r.ops == 2 * r.macs
    axis = r.rf.axes[0]
    assert (axis.size, axis.stride, axis.padding) == (3, 2, 1)
    five = one(spec, "8x9x9", "type: blurpool2d, filter_size: 5, stride: 2")  # p = (1 + 4) // 2 = 2
    assert five.output == (8, 5, 5) and tensors(five) == ({}, {"filt": 8 * 25})
    assert one(spec, "8x9x10", "type: blurpool2d, filter_size: [5, 3], stride: 1").output == (8, 9, 10)
    with pytest.raises(ArchcalcError, match="reflect padding 1 needs more than 1 rows and columns, got 1x4"):
        one(spec, "8x1x4", "type: blurpool2d")


def test_space_to_depth_moves_blocks_into_channels(spec):
    r = one(spec, "3x224x224", "type: space_to_depth")  # TResNet's stem: blocks of 4
    assert r.output == (48, 56, 56) and r.params == r.buffers == r.flops == r.ops == 0
    axis = r.rf.axes[1]
    assert (axis.size, axis.stride, axis.padding) == (4, 4, 0)
    assert one(spec, "2x6x8", "type: space_to_depth, block_size: [3, 2]").output == (12, 2, 4)
    with pytest.raises(ArchcalcError, match="a 6x10 map cannot be cut into 4x4 blocks"):
        one(spec, "2x6x10", "type: space_to_depth")
