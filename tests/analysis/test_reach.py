"""Reach: "whole input" only where an output really reads input (not padding alone)."""

from archcalc import analyze_text
from archcalc.analysis.reach import through_window
from archcalc.layers.windows import conv_window, transposed_conv_window
from conftest import row


def test_a_strided_window_that_reads_only_padding_reaches_nothing():
    # a 1-wide map, kernel 1, stride 2, padding 1: the two outputs read positions -1 and 1
    assert through_window(conv_window(1, 2, 1), (0, 0), 1, 2) is None
    assert through_window(conv_window(3, 2, 1), (0, 0), 1, 1) == (0, 0)


def test_a_dilated_window_whose_taps_straddle_the_map_reaches_nothing():
    """Random-net regression: a 2-tap window dilated by 2, padded 1 ('same'), on a 1-wide map
    reads positions -1 and 1; its hull covers position 0, but no tap lands on it."""
    assert through_window(conv_window(2, 1, 1, 2), (0, 0), 1, 1) is None
    assert through_window(conv_window(2, 1, 1, 2), (0, 1), 2, 2) == (0, 1)  # 2 wide: each output hits
    assert through_window(conv_window(3, 1, 2, 2), (0, 0), 1, 1) == (0, 0)  # the middle tap lands
    report = analyze_text("""
input: 1x5x5
layers:
  - {type: conv2d, out_channels: 1, kernel_size: 3, dilation: 2}
  - {type: conv2d, out_channels: 1, kernel_size: 2, padding: same, dilation: 2}
  - {name: pool, type: global_avgpool2d}
  - {type: flatten}
  - {name: fc, type: linear, out_features: 1}
""")
    assert row(report, "fc").rf.kind == "unknown" and "reaches the input" in row(report, "fc").rf.reason


def test_reach_follows_strides_and_transposed_gaps():
    assert through_window(conv_window(3, 1, 1), (0, 9), 10, 10) == (0, 9)
    assert through_window(conv_window(1, 1, 0), (4, 5), 10, 10) == (4, 5)
    # a transposed conv with stride 2: outputs 2i-1 .. 2i+1 read input i
    assert through_window(transposed_conv_window(3, 2, 1), (2, 3), 5, 9) == (3, 7)


def test_a_net_whose_outputs_read_only_padding_does_not_see_the_whole_input():
    report = analyze_text("""
input: 1x5x5
layers:
  - {name: stem, type: adaptive_avgpool2d, output_size: [null, 1]}
  - {name: pad, type: conv2d, out_channels: 1, kernel_size: 1, stride: 2, padding: 1}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out_features: 1}
""")
    assert row(report, "pad").rf.kind == "field"  # sizes and strides keep the virtual convention
    for name in ("flat", "fc"):
        assert row(report, name).rf.kind == "unknown"
        assert "reads only padding" in row(report, name).rf.reason


def test_ordinary_classifiers_still_see_the_whole_input():
    report = analyze_text("""
input: 3x32x32
layers:
  - {type: conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
  - {type: maxpool2d, kernel_size: 3, stride: 2, padding: 1}
  - global_avgpool2d
  - flatten
  - {type: linear, out_features: 10}
""")
    assert report.final_rf.kind == "whole"
