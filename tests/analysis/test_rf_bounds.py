"""The receptive-field work is bounded for any accepted arguments (issue 13): transposed windows
computed arithmetically, tables built from one period of positions, a work budget per analysis,
outputs bounded at 2^20; each fast path agrees with the plain definition it replaces."""

import json
import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcalc import analyze_text
from archcalc.analysis.coverage import reads_nothing
from archcalc.analysis.rf import MAX_RF_WORK, AxisField, RfBudget, merge_axis
from archcalc.layers import windows
from archcalc.layers.pool import _adaptive, AdaptiveAvgPool2d
from cli_checks import assert_clean_error, run_spec, runner
from archcalc.cli import app


def transposed_by_definition(kernel, stride, padding, dilation, o):
    """Output o reads input i where i*stride - padding + k*dilation = o, for k < kernel."""
    return [(o + padding - k * dilation) // stride for k in range(kernel - 1, -1, -1)
            if (o + padding - k * dilation) % stride == 0]


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 40), st.integers(1, 12), st.integers(0, 20), st.integers(1, 12), st.integers(0, 200))
def test_transposed_window_is_the_definition(kernel, stride, padding, dilation, o):
    window = windows.transposed_conv_window(kernel, stride, padding, dilation)
    assert list(window.positions(o)) == transposed_by_definition(kernel, stride, padding, dilation, o)


def test_transposed_window_of_a_huge_kernel_is_constant_time():
    window = windows.transposed_conv_window(2**20, 3, 5, 7)
    start = time.perf_counter()
    sizes = [len(window.positions(o)) for o in range(10_000)]
    assert time.perf_counter() - start < 1 and max(sizes) == math.ceil(2**20 / 3)


def through_by_definition(field, window):
    """AxisField.through as first written: every position of every output's window."""
    common = math.gcd(field.period, window.advance)
    period = window.period * (field.period // common)
    starts, ends = [], []
    for o in range(period):
        positions = window.positions(o)
        starts.append(min((v for v in map(field.start, positions) if v is not None), default=None))
        ends.append(max((v for v in map(field.end, positions) if v is not None), default=None))
    return AxisField(period, field.shift * (window.advance // common), tuple(starts), tuple(ends))


small = st.integers(1, 6)
window_strategy = st.one_of(
    st.builds(windows.conv_window, st.integers(1, 9), small, st.integers(0, 5), small),
    st.builds(windows.transposed_conv_window, st.integers(1, 9), small, st.integers(0, 5), small),
    st.builds(windows.nearest_upsample_window, small),
    st.builds(windows.bilinear_upsample_window, small),
    st.builds(windows.adaptive_pool_window, st.integers(1, 30), st.integers(1, 30)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(window_strategy, min_size=1, max_size=5))
def test_tables_from_one_period_equal_the_definition(chain):
    field = AxisField.identity()
    for window in chain:
        expected = through_by_definition(field, window)
        if expected.period > 4096:
            return
        field = field.through(window, RfBudget())
        assert field == expected


def reads_nothing_by_definition(window, size_in, size_out):
    return any(not any(0 <= p < size_in for p in window.positions(o)) for o in range(size_out))


@settings(max_examples=500, deadline=None)
@given(st.one_of(window_strategy, st.builds(windows.whole_axis_window, st.integers(1, 9))),
       st.integers(1, 14), st.integers(1, 50))
def test_padding_only_outputs_are_found_arithmetically(window, size_in, size_out):
    assert reads_nothing([window], (1, size_in), (1, size_out), RfBudget()) == \
        reads_nothing_by_definition(window, size_in, size_out)


def test_padding_only_check_on_a_2_20_wide_map_is_fast():
    window = windows.conv_window(2**20, 1, 2**20 - 1, 1)
    start = time.perf_counter()
    assert not reads_nothing([window, window], (1, 2**20, 2**20), (1, 2**20, 2**20), RfBudget())
    assert time.perf_counter() - start < 0.5


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300))
def test_adaptive_pool_ops_closed_form(size_in, size_out):
    bins = sum(-((-(o + 1) * size_in) // size_out) - (o * size_in) // size_out for o in range(size_out))
    result = _adaptive(AdaptiveAvgPool2d, {"output_size": (size_out, 1)}, [(2, size_in, 5)])
    assert result.ops == 2 * bins * 5


def test_merge_of_coprime_periods_is_unknown_not_a_16_million_table():
    text = """
input: 1x1x1
layers:
  - {name: a, type: conv_transpose2d, out: 1, kernel: 8, stride: 4096, inputs: input}
  - {name: b, type: conv_transpose2d, out: 1, kernel: 8, stride: 4095, inputs: input}
  - {name: sum, type: add, inputs: [a, b]}
"""
    start = time.perf_counter()
    report = analyze_text(text)
    assert time.perf_counter() - start < 1
    assert report.rows[-1].rf.kind == "unknown" and "period" in report.rows[-1].rf.reason


def test_budget_stops_tables_that_would_take_minutes():
    body = "\n".join(f"  - {{name: c{i}, type: conv2d, out: 1, kernel: 3, padding: 1}}" for i in range(1000))
    text = f"input: 1x2x2\nlayers:\n  - {{name: up, type: conv_transpose2d, out: 1, kernel: 4096, stride: 4096}}\n{body}\n"
    start = time.perf_counter()
    report = analyze_text(text)
    assert time.perf_counter() - start < 10
    first_unknown = next(r for r in report.rows if r.rf.kind == "unknown")
    assert f"{MAX_RF_WORK:,}" in first_unknown.rf.reason
    assert report.rows[1].rf.kind == "field" and report.rows[1].rf.size == (2, 2)


def test_merge_budget_is_spent_per_phase():
    budget = RfBudget(10)
    field = AxisField(4, 1, (0, 0, 1, 1), (0, 1, 1, 2))
    with pytest.raises(ValueError, match="pass"):
        merge_axis([field, field, field], budget)


def test_ordinary_nets_stay_far_below_the_budget():
    body = "\n".join(f"  - {{name: c{i}, type: conv2d, out: 4, kernel: 3, padding: 1}}" for i in range(2000))
    report = analyze_text(f"input: 4x16x16\nlayers:\n{body}\n")
    assert all(r.rf.kind == "field" for r in report.rows) and report.rows[-1].rf.size == (4001, 4001)
@pytest.mark.parametrize("text", [
    "input: 3x8x8\nlayers:\n  - {name: up, type: upsample, scale_factor: 1048576}\n",
    "input: 3x1024x1024\nlayers:\n  - {name: up, type: conv_transpose2d, out: 1, kernel: 1048576}\n",
    "input: 1048576x8x8\nlayers:\n  - {type: relu, name: a}\n  - {name: up, type: concat, inputs: [a, input]}\n",
    "input: 64x256x256\nlayers:\n  - {name: up, type: flatten}\n",
])
def test_outputs_past_2_20_are_refused_where_they_arise(tmp_path, text):
    assert_clean_error(run_spec(tmp_path, text), "layer 'up'", "limited to 1,048,576 (2^20)")


HUGE_BUT_VALID = """
input: 1048576x1x1
batch: 1048576
layers:
  - {name: wide, type: conv2d, out_channels: 1048576, kernel_size: 1}
  - {name: up, type: conv_transpose2d, out_channels: 1, kernel_size: [1, 1048576], bias: false}
  - {name: pool, type: adaptive_avgpool2d, output_size: [1, 1048575]}
  - {name: conv, type: conv2d, out_channels: 2, kernel_size: [1, 1048575], dilation: 1}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out_features: 1048576}
"""


@pytest.mark.parametrize("command", ["params", "flops", "rf", "summary", "memory"])
def test_huge_but_valid_net_is_exact_and_fast(tmp_path, command):
    start = time.perf_counter()
    result = run_spec(tmp_path, HUGE_BUT_VALID, command)
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - start < 5
    assert "Traceback" not in result.output


def test_huge_but_valid_net_totals_are_exact(tmp_path):
    report = analyze_text(HUGE_BUT_VALID)
    wide = 2**20 * 2**20 + 2**20
    assert report.rows[0].params == wide
    assert report.total.macs == sum(r.macs for r in report.rows)
    assert report.rows[0].macs == 2**40 * 2**20
    data = json.loads(run_spec(tmp_path, HUGE_BUT_VALID, "summary", "--format", "json").stdout)
    assert data["total"]["params"] == report.total.params
    assert runner.invoke(app, ["compare", str(tmp_path / "net.yaml"), str(tmp_path / "net.yaml")]).exit_code == 0
