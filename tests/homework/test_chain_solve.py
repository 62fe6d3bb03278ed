"""`archcalc chain` (layers typed on the command line) and `archcalc solve`."""

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from archcalc.homework.chain import analyze_chain, parse_step
from archcalc.cli import app
from archcalc.errors import UsageError
from archcalc.homework.solve import conv_choices, transposed_choices

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_chain_runs_the_normal_analysis():
    given, steps, report = analyze_chain(["32x32x3", "conv 5x5 4", "pool 2", "conv 3x3 16 pad=1", "fc:10"])
    assert given.shape == (3, 32, 32) and len(steps) == 4
    assert [r.name for r in report.rows] == ["conv1", "pool2", "conv3", "flatten4", "fc4"]
    assert [r.output for r in report.rows] == [(4, 28, 28), (4, 14, 14), (16, 14, 14), (3136,), (10,)]
    assert [r.params for r in report.rows] == [304, 0, 592, 0, 31_370]
    assert report.rows[2].rf.size == (10, 10)


def test_chain_arrow_syntax_and_course_notation():
    _, _, report = analyze_chain(["256x256x128 -> conv 1x1 to 32 bias=false"])
    assert report.total.params == 4_096 and report.output == (32, 256, 256)
    _, _, report = analyze_chain(["32x32x3 -> conv 5x5x4"])
    assert report.output == (4, 28, 28) and report.rows[0].weights == 5 * 5 * 3 * 4


@pytest.mark.parametrize("text, entry", [
    ("conv 3 16", {"kernel_size": 3, "out_channels": 16}),
    ("conv 5x5x3x4", {"kernel_size": 5, "in_channels": 3, "out_channels": 4}),
    ("conv 1x7 8 pad=0x3", {"kernel_size": [1, 7], "out_channels": 8, "pad": [0, 3]}),
    ("deconv 4x4 8 stride=2 padding=1", {"kernel_size": 4, "out_channels": 8, "stride": 2, "padding": 1}),
    ("pool 3 2", {"kernel_size": 3, "stride": 2}),
    ("avgpool 2", {"kernel_size": 2}),
    ("fc:10", {"out_features": 10}),
    ("dropout p=0.5", {"p": 0.5}),
    ("relu", {}),
])
def test_step_syntax(text, entry):
    step = parse_step(1, text)
    assert {k: v for k, v in step.entry.items() if k != "type"} == entry


def test_chain_cli_table_json_csv():
    args = ("chain", "32x32x3", "conv 5x5 4", "pool 2", "fc 10")
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "28x28x4" in result.output and "5x5x3x4 + 4 = 304" in result.output
    assert "H=32 W=32 C=3 (read as HxWxC)" in result.output
    data = json.loads(run(*args, "--format", "json").output)
    assert data["total"]["params"] == 304 + 7_850 and data["layout"] == "hwc"
    rows = list(csv.reader(io.StringIO(run(*args, "-f", "csv").output)))
    assert rows[1][:4] == ["conv1", "conv2d", "28x28x4", "304"]
    assert "| conv1 |" in run(*args, "-f", "markdown").output
    assert "4x28x28" in run("chain", "3x32x32", "conv 5x5 4", "--layout", "chw").output


@pytest.mark.parametrize("args, message", [
    (("32x32x3",), "at least one layer"),
    (("32x32x3", "bogus 3"), "step 1 'bogus 3': unknown layer kind 'bogus'"),
    (("32x32x3", "conv 5 4 3"), "too many sizes"),
    (("32x32x3", "conv 5x5 4 paddin=1"), "did you mean 'padding'"),
    (("32x32x3", "conv 3x3 4", "conv 31x31 8"), "step 2 'conv 31x31 8': output would be empty"),
    (("32x32x3", "pool 2 2 2"), "write 'pool K [STRIDE]'"),
    (("32x32x3", "fc ten"), "cannot read 'ten'"),
    (("32x32x3", "relu 3"), "relu takes only key=value"),
    (("32x32x3", "conv 3x3 4 =1"), "should be key=value"),
    (("32x32", "conv 3x3 4"), "must have 3 sizes"),
])
def test_chain_mistakes(args, message):
    result = run("chain", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_solve_halving_is_sorted_by_simplicity():
    choices = conv_choices(32, 16)
    first = choices[0]
    assert (first.kernel, first.stride, first.padding) == (2, 2, 0)
    assert all(c.stride == 2 for c in choices)
    # 3x3 stride 2 padding 1 reads every input row; 1x1 stride 2 skips the last one
    three = next(c for c in choices if c.kernel == 3)
    one = next(c for c in choices if c.kernel == 1)
    assert three.padding == 1 and three.dropped == 0 and one.dropped == 1
    assert choices.index(one) > choices.index(three)


def test_solve_same_padding():
    result = run("solve", 40, 40, "--kernel", 3)
    assert result.exit_code == 0
    assert "padding 1 keeps the size with kernel 3 at stride 1 ('same')" in result.output
    assert "1. kernel 3, stride 1, padding 1" in result.output
    assert "'same' pads 1 before and 2 after" in run("solve", 40, 40, "--kernel", 4).output


def test_solve_transposed_and_nothing_found():
    choices = transposed_choices(7, 14)
    assert (choices[0].kernel, choices[0].stride, choices[0].padding) == (2, 2, 0)
    assert any((c.kernel, c.stride, c.padding) == (4, 2, 1) for c in choices)
    result = run("solve", 10, 20)
    assert result.exit_code == 1 and "try --transposed" in result.output
    data = json.loads(run("solve", 224, 55, "--kernel", 11, "--stride", 4, "--json").output)
    assert data["choices"][0]["padding"] == 2  # AlexNet's first layer


@pytest.mark.parametrize("args, message", [
    ((0, 3), "input size must be from 1"),
    ((10, 5, "--kernel", 0), "--kernel must be from 1"),
    ((10, 5, "--limit", 0), "--limit must be at least 1"),
    ((10, 5, "--max-kernel", 1000), "--max-kernel must be from 1 to 64"),
])
def test_solve_mistakes(args, message):
    result = run("solve", *args)
    assert result.exit_code == 2 and message in result.output


def test_parse_step_rejects_unknown_kind():
    with pytest.raises(UsageError):
        parse_step(1, "frobnicate 3")


def test_gap_then_fc_names_its_steps():
    """Regression: 'global_avgpool2d2' once read as step 22 (digits stripped from the name) and
    ended in an IndexError; each layer now keeps the step it came from."""
    result = run("chain", "32x32x16", "conv 3x3 8 pad=1", "gap", "fc:4")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    for text in ("32x32x8", "global_avgpool2d2", "1x1x8", "flatten3", "fc3", "8x4 + 4 = 36", "parameters: 1,196"):
        assert text in result.output, text


def test_bn_relu_after_conv():
    """Regression: 'batchnorm2d2' once read as step 22 and crashed."""
    result = run("chain", "32x32x3", "conv 3x3 8", "bn", "relu")
    assert result.exit_code == 0, result.output
    for text in ("30x30x8", "batchnorm2d2", "2x8 = 16", "relu3", "parameters: 240"):
        assert text in result.output, text


def test_a_mistake_after_a_digit_named_layer_names_its_step():
    result = run("chain", "8x8x3", "bn", "conv 9x9 4")
    assert result.exit_code == 2
    assert "step 2 'conv 9x9 4': output would be empty" in result.output


def test_chain_names_stay_unique():
    """'relu6' at step 1 and 'relu' at step 61 would both be relu61."""
    _, _, report = analyze_chain(["4x4x3", "relu6"] + ["relu"] * 60)
    names = [r.name for r in report.rows]
    assert len(names) == len(set(names)) and "relu61" in names and "relu_61" in names


@pytest.mark.parametrize("word, layer_type", [
    ("pool", "maxpool2d"), ("max", "maxpool2d"), ("avg", "avgpool2d"), ("gmp", "global_maxpool2d"),
    ("convt", "conv_transpose2d"), ("upconv", "conv_transpose2d"), ("gap", "global_avgpool2d"),
    ("fc", "linear"), ("dense", "linear"), ("bn", "batchnorm2d"), ("conv2d", "conv2d"),
])
def test_step_words(word, layer_type):
    assert parse_step(1, word).entry["type"] == layer_type


def test_deconv_usage_names_deconv():
    with pytest.raises(UsageError, match="write 'deconv KxK OUT'"):
        parse_step(1, "deconv 3 4 5")
    with pytest.raises(UsageError, match="write 'fc N'"):
        parse_step(1, "fc 3 4")
