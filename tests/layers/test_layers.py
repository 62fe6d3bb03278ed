"""Each layer type's shape, parameter, MAC/FLOP and receptive-field rules, against hand-computed values.
(The verify and property suites check the same rules against PyTorch.)"""

from fractions import Fraction

import pytest
from conftest import row


def one(spec, input_shape, layer, batch=1):
    report = spec(f"input: {input_shape}\nbatch: {batch}\nlayers: [{{name: x, {layer}}}]")
    return row(report, "x")


def test_conv_dilation_groups_stride(spec):
    r = one(spec, "8x17x20", "type: conv2d, out_channels: 12, kernel_size: [3, 5], stride: [2, 1], padding: [1, 0], dilation: 2, groups: 4")
    # H: floor((17 + 2 - 2*2 - 1)/2) + 1 = 8 ; W: floor((20 - 2*4 - 1)/1) + 1 = 12
    assert r.output == (12, 8, 12)
    assert r.weights == 3 * 5 * (8 // 4) * 12 and r.biases == 12
    assert r.macs == 3 * 5 * 2 * 12 * 8 * 12 and r.flops == 2 * r.macs
    assert r.ops == 2 * r.macs + 12 * 8 * 12
    h, w = r.rf.axes
    assert (h.size, w.size) == (5, 9)  # dilation*(k-1)+1
    assert (h.stride, w.stride) == (2, 1) and (h.padding, w.padding) == (1, 0)


def test_conv_same_and_valid_padding(spec):
    same = one(spec, "3x9x10", "type: conv2d, out: 4, kernel: 4, padding: same")
    assert same.output == (4, 9, 10)
    # even kernel: PyTorch pads 1 left, 2 right; the field of output 0 starts 1 left of the input
    assert same.rf.axes[0].padding == 1 and same.rf.axes[0].size == 4
    valid = one(spec, "3x9x10", "type: conv2d, out: 4, kernel: 4, padding: valid")
    assert valid.output == (4, 6, 7)


def test_depthwise_conv(spec):
    r = one(spec, "32x10x10", "type: conv2d, out_channels: 32, kernel_size: 3, padding: 1, groups: 32, bias: false")
    assert r.params == 3 * 3 * 1 * 32 and r.formula == "3x3x(32/32)x32 = 288"
    assert r.macs == 288 * 100


def test_conv_transpose(spec):
    r = one(spec, "16x7x9", "type: conv_transpose2d, out_channels: 8, kernel_size: 4, stride: 2, padding: 1, output_padding: [1, 0], groups: 2")
    # (7-1)*2 - 2 + 3 + 1 + 1 = 15 ; (9-1)*2 - 2 + 3 + 0 + 1 = 18
    assert r.output == (8, 15, 18)
    assert r.weights == 16 * (8 // 2) * 4 * 4 and r.biases == 8
    assert r.macs == 16 * 4 * 16 * 7 * 9  # each input pixel scatters a kernel
    h = r.rf.axes[0]
    assert h.stride == Fraction(1, 2)
    # output o reads inputs i with 2i - 1 + k = o, k < 4: o=0 -> i in {-1 (virtual), 0}; o=1 -> {0, 1}
    assert (h.start(0), h.end(0)) == (-1, 0) and (h.start(1), h.end(1)) == (0, 1)


def test_maxpool_ceil_mode_and_padding(spec):
    floor = one(spec, "3x13x13", "type: maxpool2d, kernel_size: 3, stride: 2")
    ceil = one(spec, "3x14x14", "type: maxpool2d, kernel_size: 3, stride: 2, ceil_mode: true")
    assert floor.output == (3, 6, 6)
    assert ceil.output == (3, 7, 7)  # ceil((14-3)/2)+1 = 7
    # ceil_mode, but the last window would start past the input and right padding: dropped
    edge = one(spec, "1x5x5", "type: maxpool2d, kernel_size: 2, stride: 2, padding: 1, ceil_mode: true")
    assert edge.output == (1, 3, 3)
    padded = one(spec, "3x8x8", "type: maxpool2d, kernel_size: 3, stride: 1, padding: 1")
    assert padded.output == (3, 8, 8) and padded.params == 0 and padded.flops == 0
    assert padded.ops == 3 * 64 * 8


def test_avgpool_defaults_stride_to_kernel(spec):
    r = one(spec, "4x9x9", "type: avgpool2d, kernel_size: 2")
    assert r.output == (4, 4, 4) and r.rf.axes[0].stride == 2 and r.ops == 4 * 16 * 4


def test_adaptive_and_global_pooling(spec):
    r = one(spec, "4x13x13", "type: adaptive_avgpool2d, output_size: 6")
    assert r.output == (4, 6, 6)
    # bins [floor(13o/6), ceil(13(o+1)/6)): o=0 -> [0, 3) ; o=1 -> [2, 5)
    h = r.rf.axes[0]
    assert (h.start(0), h.end(0), h.start(1), h.end(1)) == (0, 2, 2, 4)
    assert one(spec, "4x13x9", "type: adaptive_maxpool2d, output_size: [1, 1]").rf.kind == "whole"
    g = one(spec, "64x7x7", "type: global_avgpool2d")
    assert g.output == (64, 1, 1) and g.rf.kind == "whole" and g.ops == 64 * 49


def test_linear_on_flat_and_map_inputs(spec):
    r = one(spec, "100", "type: linear, out_features: 10")
    assert r.output == (10,) and r.params == 1010 and r.macs == 1000 and r.flops == 2000
    # PyTorch's Linear acts on the last dimension of a map too
    m = one(spec, "3x4x5", "type: dense, out: 6, bias: false")
    assert m.output == (3, 4, 6) and m.macs == 3 * 4 * 5 * 6


def test_batchnorm_variants(spec):
    bn = one(spec, "16x4x4", "type: batchnorm2d, affine: false")
    assert bn.params == 0 and bn.buffers == 33
    bn = one(spec, "16x4x4", "type: batchnorm2d, track_running_stats: false")
    assert bn.params == 32 and bn.buffers == 0
    bn1 = one(spec, "50", "type: batchnorm1d")
    assert bn1.params == 100 and bn1.buffers == 101


def test_lrn_activations_dropout_identity_keep_shape(spec):
    for layer in ("type: local_response_norm, size: 5", "type: relu", "type: leaky_relu, negative_slope: 0.2",
                  "type: sigmoid", "type: tanh", "type: gelu", "type: silu", "type: softmax", "type: relu6",
                  "type: elu", "type: hardswish", "type: dropout, p: 0.3", "type: identity"):
        r = one(spec, "6x5x7", layer)
        assert r.output == (6, 5, 7) and r.params == 0 and r.macs == 0 and r.flops == 0, layer
        assert r.rf.axes[0].size == 1


def test_flatten_and_upsample(spec):
    assert one(spec, "6x5x7", "type: flatten").output == (210,)
    up = one(spec, "6x5x7", "type: upsample, scale_factor: 2")
    assert up.output == (6, 10, 14)
    h = up.rf.axes[0]
    assert h.stride == Fraction(1, 2) and (h.start(3), h.end(3)) == (1, 1)
    bil = one(spec, "6x5x7", "type: upsample, size: [15, 21], mode: bilinear")
    assert bil.output == (6, 15, 21)
    # factor 3, output 4: source (4.5/3 - 0.5) = 1.0 exactly -> one neighbour; output 5: 1.333 -> two
    b = bil.rf.axes[0]
    assert (b.start(4), b.end(4)) == (1, 1) and (b.start(5), b.end(5)) == (1, 2)
    odd = one(spec, "6x5x7", "type: upsample, size: [8, 8]")
    assert odd.output == (6, 8, 8) and odd.rf.kind == "unknown"


def test_add_and_concat(spec):
    report = spec("""
        input: 8x10x10
        layers:
          - {name: a, type: conv2d, out: 8, kernel: 3, padding: 1}
          - {name: b, type: conv2d, out: 4, kernel: 5, padding: 2, inputs: input}
          - {name: sum, type: add, inputs: [a, input]}
          - {name: cat, type: concat, inputs: [sum, b]}
    """)
    assert row(report, "sum").output == (8, 10, 10) and row(report, "sum").ops == 800
    cat = row(report, "cat")
    assert cat.output == (12, 10, 10)
    # union of the fields: 3 (via a) and 5 (via b), all centred
    assert cat.rf.axes[0].size == 5 and cat.rf.aligned


def test_misaligned_paths_are_flagged(spec):
    report = spec("""
        input: 1x10x10
        layers:
          - {name: a, type: conv2d, out: 1, kernel: 3, stride: 2}
          - {name: b, type: conv2d, out: 1, kernel: 4, stride: 2, inputs: input}
          - {name: sum, type: add, inputs: [a, b]}
    """)
    r = row(report, "sum")
    # a sees [0, 2] (centre 1), b sees [0, 3] (centre 1.5): same 4x4 output, shifted fields
    assert r.output == (1, 4, 4) and r.rf.size == (4, 4)
    assert not r.rf.aligned and any("not aligned" in n for n in r.notes)
    assert report.warnings


def test_batch_scales_macs_activations_not_params(spec):
    one_ = one(spec, "3x32x32", "type: conv2d, out: 8, kernel: 3", batch=1)
    four = one(spec, "3x32x32", "type: conv2d, out: 8, kernel: 3", batch=4)
    assert four.params == one_.params
    assert four.macs == 4 * one_.macs and four.flops == 4 * one_.flops and four.activations == 4 * one_.activations


def test_rf_algebra_matches_araujo_closed_form(spec):
    # r = 1 + sum (k_l - 1) * prod(s_<l) ; S = prod s ; P = sum p_l * prod(s_<l)
    layers = [(7, 2, 3), (3, 2, 1), (3, 1, 1), (3, 2, 1), (1, 1, 0)]
    text = "input: 3x224x224\nlayers:\n" + "".join(
        f"  - {{type: conv2d, out: 4, kernel: {k}, stride: {s}, padding: {p}}}\n" for k, s, p in layers
    )
    report = spec(text)
    size, stride, padding = 1, 1, 0
    for k, s, p in layers:
        size += (k - 1) * stride
        padding += p * stride
        stride *= s
    assert report.final_rf.size == (size, size)
    assert report.final_rf.stride == (stride, stride)
    assert report.final_rf.padding == (padding, padding)


@pytest.mark.parametrize("bundled,expected", [("resnet50", (427, 32, 213)), ("alexnet", (195, 32, 66))])
def test_published_receptive_fields(bundled, expected):
    from archcalc import analyze

    report = analyze(bundled)
    # the field at the last spatial layer before global pooling / flatten
    last = [r for r in report.rows if r.rf.kind == "field"][-1]
    assert (last.rf.size[0], last.rf.stride[0], last.rf.padding[0]) == expected


def test_linear_on_a_map_sees_all_of_w_only(spec):
    report = spec("""
        input: 2x9x3
        layers:
          - {type: conv2d, out: 2, kernel: 3, padding: 1}
          - {name: fc, type: linear, out: 4}
    """)
    fc = row(report, "fc")
    h, w = fc.rf.axes
    assert fc.output == (2, 9, 4)
    assert (h.size, h.stride) == (3, 1)  # H untouched by the linear layer
    # every output reads all 3 columns, each seeing one more (virtual padding) on either side
    assert (w.start(0), w.end(0), w.start(3), w.end(3), w.stride) == (-1, 3, -1, 3, 0)
