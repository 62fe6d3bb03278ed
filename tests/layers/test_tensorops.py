"""Issue 10, timm's attention units: stack_maps, channel_sum, matmul, reshape's view of a range of
axes and the broadcast add. Shapes, counts, fields and errors against hand-computed values
(tests/pytorch/test_verify.py's ATTENTION spec proves the same against PyTorch, and
tests/pytorch/test_import_timm.py against timm's modules)."""

import pytest
from conftest import row

from archcalc.errors import ArchcalcError

SELECTIVE_KERNEL = """
input: 16x10x10
layers:
  - {name: a, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {name: b, type: conv2d, out_channels: 8, kernel_size: 3, padding: 2, dilation: 2, inputs: input}
  - {name: paths, type: stack_maps, inputs: [a, b]}
  - {name: both, type: channel_sum}
  - {name: kept, type: channel_sum, keepdim: true, inputs: paths}
  - {name: pool, type: global_avgpool2d, inputs: both}
  - {name: select, type: conv2d, out_channels: 16, kernel_size: 1}
  - {name: radix, type: reshape, shape: [2, -1], dim: 0}
  - {name: weights, type: softmax, dim: 0}
  - {name: weighted, type: mul, inputs: [paths, weights]}
  - {name: out, type: channel_sum}
"""


def test_stack_and_channel_sum_shapes_counts_and_fields(spec):
    report = spec(SELECTIVE_KERNEL)
    paths, both, kept = row(report, "paths"), row(report, "both"), row(report, "kept")
    assert paths.output == (2, 8, 10, 10) and paths.params == paths.flops == paths.ops == 0
    assert both.output == (8, 10, 10) and both.ops == 800 and both.flops == 0  # one addition per output element
    assert kept.output == (1, 8, 10, 10)
    # the union of a 3x3 and a dilated 3x3 (5x5) field, kept by the sum
    assert paths.rf.axes[0].size == both.rf.axes[0].size == 5
    assert row(report, "radix").output == (2, 8, 1, 1) and row(report, "weighted").output == (2, 8, 10, 10)
    assert row(report, "out").output == (8, 10, 10) and row(report, "out").rf.kind == "whole"  # gated by a global pool


def test_matmul_counts_as_flopcountermode_s_bmm(spec):
    report = spec("""
        input: 8x6x5
        layers:
          - {name: score, type: conv2d, out_channels: 1, kernel_size: 1}
          - {name: col, type: reshape, shape: [-1, 1], dim: 1, end_dim: 2}
          - {name: rows, type: reshape, shape: [1, 8, -1], dim: 0, end_dim: 2, inputs: input}
          - {name: context, type: matmul, inputs: [rows, col]}
        """)
    assert row(report, "col").output == (1, 30, 1) and row(report, "rows").output == (1, 8, 30)
    context = row(report, "context")
    assert context.output == (1, 8, 1) and context.macs == 8 * 30 and context.flops == 2 * 8 * 30
    # the net input needs no gradient: one of the two bmm of the backward runs (the score's side)
    assert context.backward_input_flops == 2 * 8 * 30 and context.backward_weight_flops == 0


def test_matmul_broadcasts_leading_axes_and_refuses_mismatches(spec):
    text = "input: 64\nlayers:\n  - {name: a, type: reshape, shape: [%s]}\n  - {name: b, type: reshape, shape: [%s], inputs: input}\n" \
           "  - {name: m, type: matmul, inputs: [a, b]}\n"
    assert row(spec(text % ("4, 4, 4", "1, 4, 16")), "m").output == (4, 4, 16)
    assert row(spec(text % ("4, 4, 4", "1, 4, 16")), "m").macs == 4 * 4 * 4 * 16
    with pytest.raises(ArchcalcError, match="4 columns, 8 rows"):
        spec(text % ("4, 4, 4", "1, 8, 8"))
    with pytest.raises(ArchcalcError, match="one rank"):
        spec(text % ("4, 16", "1, 4, 16"))


def test_reshape_views_a_range_of_axes(spec):
    report = spec("""
        input: 12x5x4
        layers:
          - {name: split, type: reshape, shape: [3, -1], dim: 0}
          - {name: positions, type: reshape, shape: [-1], dim: 2, end_dim: 3}
          - {name: flat_form, type: flatten, inputs: input}
          - {name: back, type: reshape, shape: [-1, 5, 4]}
        """)
    assert row(report, "split").output == (3, 4, 5, 4) and row(report, "positions").output == (3, 4, 20)
    assert row(report, "back").output == (12, 5, 4) and row(report, "split").rf.kind == "whole"  # flatten's convention


@pytest.mark.parametrize("layer, message", [
    ("{type: reshape, shape: [5, -1], dim: 0}", "not a multiple of 5"),
    ("{type: reshape, shape: [2, 3], dim: 1, end_dim: 2}", "6 elements"),
    ("{type: reshape, shape: [-1, -1], dim: 0}", "one size"),
    ("{type: reshape, shape: [2, -1], dim: 3}", "axis 3 does not exist"),
    ("{type: reshape, shape: [2, -1], end_dim: 1}", "end_dim needs dim"),
    ("{type: reshape, shape: [2, -1], dim: 2, end_dim: 1}", "comes before"),
    ("{type: reshape, shape: [2, 2, 3, -1], dim: 0}", "more than 3 spatial axes"),
    ("{type: reshape, shape: [12, 5, 4]}", "needs a flat vector"),
    ("{type: channel_sum, inputs: flat}", "would leave no map"),
    ("{type: stack_maps, inputs: [input, flat]}", "shapes differ"),
    ("{type: matmul, inputs: [input]}", "joins two or more inputs"),
    ("{type: matmul, inputs: [input, input, input]}", "multiplies 2 inputs, got 3"),
    ("{type: add, inputs: [input, half]}", "shapes differ"),
])
def test_mistakes_are_one_line(spec, layer, message):
    text = ("input: 12x5x4\nlayers:\n  - {name: flat, type: flatten}\n"
            "  - {name: half, type: slice, end: 6, inputs: input}\n"
            f"  - {{name: x, inputs: input, {layer[1:]}\n")
    if "inputs:" in layer:
        text = text.replace("inputs: input, ", "")
    with pytest.raises(ArchcalcError, match=message):
        spec(text)


def test_add_broadcasts_a_context_over_a_map(spec):
    report = spec("""
        input: 8x6x6
        layers:
          - {name: conv, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1}
          - {name: pool, type: global_avgpool2d}
          - {name: context, type: conv2d, out_channels: 8, kernel_size: 1}
          - {name: fused, type: add, inputs: [conv, context]}
        """)
    fused = row(report, "fused")
    assert fused.output == (8, 6, 6) and fused.ops == 8 * 36 and fused.rf.kind == "whole"
