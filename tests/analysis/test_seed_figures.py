"""Every number in ../shared/seed-notes.md that a spec can express, reproduced exactly."""

from conftest import row


def test_unknown_layer_40x50x128_to_64_is_73728(spec):
    # notes: 40x50x128 -> 3x3, padding 1, stride 1 -> 40x50x64; weights 3x3x128x64
    report = spec("""
        input: {channels: 128, height: 40, width: 50}
        layers:
          - {name: conv, type: conv2d, out_channels: 64, kernel_size: 3, padding: 1, stride: 1, bias: false}
    """)
    conv = row(report, "conv")
    assert conv.output == (64, 40, 50)
    assert conv.params == 73_728
    assert conv.formula == "3x3x128x64 = 73,728"
    with_bias = spec("input: 128x40x50\nlayers: [{name: c, type: conv2d, out: 64, kernel: 3, padding: 1}]")
    assert row(with_bias, "c").params == 73_792
    assert row(with_bias, "c").formula == "3x3x128x64 + 64 = 73,792"


def test_padding_and_stride_do_not_change_parameters(spec):
    counts = {
        row(spec(f"input: 128x40x50\nlayers: [{{name: c, type: conv2d, out: 64, kernel: 3, padding: {p}, stride: {s}, bias: false}}]"), "c").params
        for p in (0, 1, 2) for s in (1, 2, 3)
    }
    assert counts == {73_728}


def test_1x1_reduction_is_4096(spec):
    report = spec("input: 128x256x256\nlayers: [{name: reduce, type: conv2d, out_channels: 32, kernel_size: 1, bias: false}]")
    reduce = row(report, "reduce")
    assert reduce.output == (32, 256, 256)
    assert reduce.params == 4_096
    assert reduce.formula == "1x1x128x32 = 4,096"


def test_5x5_filters_on_32x32x3_give_4_channels(spec):
    report = spec("input: 3x32x32\nlayers: [{name: c, type: conv2d, out_channels: 4, kernel_size: 5}]")
    assert row(report, "c").output == (4, 28, 28)
    assert row(report, "c").param_tensors[0].formula.startswith("5x5x3x4")


def test_dense_and_convolutionalized_classifier_both_2560(spec):
    dense = spec("""
        input: 16x4x4
        layers: [flatten, {name: fc, type: linear, out_features: 10, bias: false}]
    """)
    conv = spec("input: 16x4x4\nlayers: [{name: fc, type: conv2d, out_channels: 10, kernel_size: 4, bias: false}]")
    assert row(dense, "fc").params == 2_560 == row(conv, "fc").params
    assert row(conv, "fc").output == (10, 1, 1)
    # the convolutional twin accepts a larger input and outputs a map
    bigger = spec("input: 16x8x8\nlayers: [{name: fc, type: conv2d, out_channels: 10, kernel_size: 4, bias: false}]")
    assert row(bigger, "fc").output == (10, 5, 5) and row(bigger, "fc").params == 2_560


def test_two_3x3_vs_one_5x5_same_rf_fewer_params(spec):
    for c in (16, 64, 128):
        stacked = spec(f"""
            input: {c}x32x32
            layers:
              - {{type: conv2d, out_channels: {c}, kernel_size: 3, padding: 1, bias: false}}
              - {{type: conv2d, out_channels: {c}, kernel_size: 3, padding: 1, bias: false}}
        """)
        single = spec(f"input: {c}x32x32\nlayers: [{{type: conv2d, out_channels: {c}, kernel_size: 5, padding: 2, bias: false}}]")
        assert stacked.total.params == 18 * c * c
        assert single.total.params == 25 * c * c
        assert stacked.final_rf.size == (5, 5) == single.final_rf.size
        assert stacked.output == single.output == (c, 32, 32)


def test_rpn_head_has_54_outputs_per_location(spec):
    report = spec("""
        input: 512x14x14
        args: {anchors: 9}
        layers:
          - {name: conv, type: conv2d, out_channels: 512, kernel_size: 3, padding: 1}
          - {name: relu, type: relu}
          - {name: cls_logits, type: conv2d, out_channels: anchors * 2, kernel_size: 1, inputs: relu}
          - {name: bbox_pred, type: conv2d, out_channels: anchors * 4, kernel_size: 1, inputs: relu}
          - {name: out, type: concat, inputs: [cls_logits, bbox_pred]}
    """)
    assert report.output == (54, 14, 14)
    assert row(report, "cls_logits").output[0] == 18 and row(report, "bbox_pred").output[0] == 36


def test_yolo_v1_output_is_7x7x30(spec):
    report = spec("""
        input: 1024x7x7
        args: {S: 7, B: 2, C: 20}
        layers:
          - {name: head, type: conv2d, out_channels: B * 5 + C, kernel_size: 1}
    """)
    assert report.output == (30, 7, 7)
    flat = spec("""
        input: 4096
        args: {S: 7, B: 2, C: 20}
        layers: [{name: fc, type: linear, out_features: S * S * (B * 5 + C)}]
    """)
    assert flat.output == (1470,) and 1470 == 7 * 7 * 30


def test_alexnet_lecture_grouped_layer_weights(spec):
    # lecture: 5x5x48x128 x2 (groups=2) = 307,200; 3x3x192x192 x2 = 663,552; 3x3x192x128 x2 = 442,368
    report = spec("""
        input: 96x27x27
        layers:
          - {name: conv2, type: conv2d, out_channels: 256, kernel_size: 5, padding: 2, groups: 2, bias: false}
          - {type: maxpool2d, kernel_size: 3, stride: 2}
          - {name: conv3, type: conv2d, out_channels: 384, kernel_size: 3, padding: 1, bias: false}
          - {name: conv4, type: conv2d, out_channels: 384, kernel_size: 3, padding: 1, groups: 2, bias: false}
          - {name: conv5, type: conv2d, out_channels: 256, kernel_size: 3, padding: 1, groups: 2, bias: false}
    """)
    assert row(report, "conv2").params == 307_200
    assert row(report, "conv2").formula == "5x5x(96/2)x256 = 307,200"
    assert row(report, "conv3").params == 884_736
    assert row(report, "conv4").params == 663_552
    assert row(report, "conv5").params == 442_368


def test_batchnorm_buffers_are_not_parameters(spec):
    report = spec("input: 64x8x8\nlayers: [{name: bn, type: batchnorm2d}]")
    bn = row(report, "bn")
    assert bn.params == 128 and bn.buffers == 64 + 64 + 1
    assert [t.name for t in bn.buffer_tensors] == ["running_mean", "running_var", "num_batches_tracked"]
