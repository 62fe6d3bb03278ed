"""Joins and gates: mul (broadcast product), add, concat; hardsigmoid; their receptive fields."""

import pytest

from archcalc import analyze_text
from archcalc.errors import ArchcalcError
from conftest import row

SE = """
input: 16x12x12
layers:
  - {name: conv, type: conv2d, out_channels: 16, kernel_size: 3, padding: 1}
  - {name: pool, type: global_avgpool2d}
  - {name: fc, type: conv2d, out_channels: 16, kernel_size: 1}
  - {name: gate, type: hardsigmoid}
  - {name: scale, type: mul, inputs: [conv, gate]}
"""


def test_mul_broadcasts_a_gate_over_a_map_with_no_parameters_or_flops():
    report = analyze_text(SE)
    scale = row(report, "scale")
    assert scale.output == (16, 12, 12)
    assert (scale.params, scale.macs, scale.flops) == (0, 0, 0)
    assert scale.ops == 16 * 12 * 12  # one multiply per output element
    assert row(report, "gate").ops == 4 * 16  # hardsigmoid: an add, two comparisons, a scale
    # the gate comes from a global pool: every output of the product sees the whole input
    assert scale.rf.kind == "whole"


def test_mul_of_two_maps_is_the_union_of_their_fields():
    report = analyze_text("""
input: 4x20x20
layers:
  - {name: a, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: b, type: conv2d, out_channels: 4, kernel_size: 7, padding: 3, inputs: input}
  - {name: m, type: mul, inputs: [a, b]}
""")
    assert row(report, "m").rf.size == (7, 7)
    assert row(report, "m").output == (4, 20, 20)


def test_mul_refuses_shapes_that_do_not_broadcast():
    with pytest.raises(ArchcalcError, match="do not broadcast"):
        analyze_text("""
input: 4x6x6
layers:
  - {name: a, type: conv2d, out_channels: 4, kernel_size: 1}
  - {name: b, type: adaptive_avgpool2d, output_size: [1, 5], inputs: input}
  - {name: m, type: mul, inputs: [a, b]}
""")


def test_mul_refuses_a_map_times_a_vector():
    with pytest.raises(ArchcalcError, match="different ranks"):
        analyze_text("""
input: 4x6x6
layers:
  - {name: a, type: conv2d, out_channels: 4, kernel_size: 1}
  - {name: f, type: flatten, inputs: input}
  - {name: m, type: mul, inputs: [a, f]}
""")


def test_a_map_broadcast_along_an_axis_whose_field_is_local_is_unknown_not_wrong():
    report = analyze_text("""
input: 4x8x8
layers:
  - {name: rows, type: adaptive_avgpool2d, output_size: [8, 1]}
  - {name: m, type: mul, inputs: [input, rows]}
""")
    field = row(report, "m").rf
    assert field.kind == "unknown" and "broadcast" in field.reason


def test_concat_and_add_still_merge_fields():
    report = analyze_text("""
input: 3x16x16
layers:
  - {name: a, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: b, type: conv2d, out_channels: 4, kernel_size: 5, padding: 2, inputs: input}
  - {name: cat, type: concat, inputs: [a, b]}
  - {name: sum, type: add, inputs: [a, b]}
""")
    assert row(report, "cat").rf.size == row(report, "sum").rf.size == (5, 5)
    assert row(report, "cat").output == (8, 16, 16)


@pytest.mark.parametrize("layer, message", [
    ("{type: dropout, p: 1.5}", "argument 'p' of dropout must be a number from 0 to 1, got 1.5"),
    ("{type: dropout, p: -0.5}", "argument 'p' of dropout must be a number from 0 to 1, got -0.5"),
    ("{type: batchnorm2d, eps: -1}", "argument 'eps' of batchnorm2d must be a number at least 0, got -1"),
])
def test_arguments_torch_would_refuse_are_refused_by_the_analysis(layer, message):
    with pytest.raises(ArchcalcError, match=message.replace("(", r"\(")):
        analyze_text(f"input: 3x8x8\nlayers:\n  - {layer}\n")
