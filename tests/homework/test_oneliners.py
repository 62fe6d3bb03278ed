"""One-line layer arithmetic (conv, deconv, pool, linear/dense) and answer checking."""

import json

import pytest
from typer.testing import CliRunner

from archcalc.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def out(*args):
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.output


CONV = ("conv", "40x50x128", "--out", 64, "--kernel", 3, "--padding", 1, "--stride", 1)


def test_conv_73728_reads_hwc_and_explains():
    text = out(*CONV)
    assert "H=40 W=50 C=128 (read as HxWxC)" in text
    assert "output: 40x50x64 (H=40 W=50 C=64)" in text
    assert "3x3x128x64 = 73,728, + 64 bias = 73,792" in text
    assert "MACs: 147,456,000" in text and "FLOPs: 294,912,000" in text
    assert "receptive field of one output: 3x3" in text


def test_conv_chw_layout_reads_pytorch_order():
    text = out("conv", "128x40x50", "--layout", "chw", "--out", 64, "--kernel", 3, "--padding", "same", "--no-bias")
    assert "H=40 W=50 C=128 (read as CxHxW)" in text
    assert "output: 64x40x50" in text and "3x3x128x64 = 73,728 (no bias)" in text


def test_one_by_one_reduction_4096():
    text = out("conv", "256x256x128", "--out", 32, "--kernel", 1, "--no-bias", "--check", "4,096")
    assert "1x1x128x32 = 4,096" in text and "CORRECT parameters: 4,096" in text


@pytest.mark.parametrize("answer", ["73728", "73,792"])
def test_check_accepts_weights_only_or_with_bias(answer):
    result = run(*CONV, "--check", answer)
    assert result.exit_code == 0 and "CORRECT parameters" in result.output


def test_check_wrong_answer_exit_1_with_right_value_and_formula():
    result = run(*CONV, "--check", "73000")
    assert result.exit_code == 1
    assert "INCORRECT parameters: you said 73,000, the right answer is 73,792 (3x3x128x64 + 64 = 73,792)" in result.output


def test_check_shape_and_macs():
    assert run(*CONV, "--check-shape", "40x50x64", "--check-macs", "147456000").exit_code == 0
    result = run(*CONV, "--check-shape", "38x48x64")
    assert result.exit_code == 1 and "INCORRECT shape: you said 38x48x64 (HxWxC), the right answer is 40x50x64" in result.output
    result = run(*CONV, "--check-macs", "1", "--check", "73728")
    assert result.exit_code == 1  # one wrong answer fails the whole check
    assert "CORRECT parameters" in result.output and "INCORRECT MACs" in result.output
    assert run(*CONV, "--check-flops", "294912000").exit_code == 0


def test_conv_groups_and_dilation():
    text = out("conv", "13x13x96", "--out", 256, "--kernel", 5, "--padding", 2, "--groups", 2, "--no-bias")
    assert "5x5x(96/2)x256 = 307,200" in text and "output: 13x13x256" in text
    text = out("conv", "32x32x8", "--out", 8, "--kernel", 3, "--dilation", 2, "--no-bias")
    assert "output: 28x28x8" in text and "5x5" in text  # dilated 3x3 spans 5


def test_pool_and_dense_and_deconv():
    text = out("pool", "224x224x64", "--kernel", 2)
    assert "output: 112x112x64" in text and "parameters: 0" in text
    assert "output: 55x55x96" in out("pool", "111x111x96", "--kernel", 3, "--stride", 2, "--type", "avg")
    text = out("dense", "4x4x16", "--out", 10, "--no-bias", "--check", 2560)
    assert "flattened first: 4x4x16 -> 256 features" in text and "256x10 = 2,560" in text
    text = out("linear", "4096", "--out", 1000)
    assert "4096x1000 = 4,096,000, + 1,000 bias = 4,097,000" in text
    text = out("deconv", "7x7x16", "--out", 8, "--kernel", 4, "--stride", 2, "--padding", 1, "--check-shape", "14x14x8")
    assert "16x8x4x4 = 2,048" in text and "MACs: 100,352" in text and "CORRECT shape" in text


def test_json_output_has_report_and_checks():
    result = run(*CONV, "--check", "1", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["total"]["params"] == 73_792 and data["output"] == [64, 40, 50]
    assert data["checks"][0]["correct"] is False and "H=40 W=50 C=128" in data["read_input_as"]


@pytest.mark.parametrize("args, message", [
    (("conv", "5x5x3", "--out", 4, "--kernel", 7), "kernel 7x7 does not fit a 5x5 input with padding 0"),
    (("conv", "40x50", "--out", 4, "--kernel", 3), "must have 3 sizes"),
    (("conv", "40xax3", "--out", 4, "--kernel", 3), "is not a shape like 40x50x128"),
    (("conv", "0x5x3", "--out", 4, "--kernel", 3), "sizes must be positive"),
    (("conv", "40x50x128", "--out", 0, "--kernel", 3), "'out_channels' of conv2d must be at least 1"),
    (("conv", "40x50x128", "--out", 64, "--kernel", "abc"), "--kernel must be a whole number"),
    (("conv", "40x50x128", "--out", 64, "--kernel", 3, "--padding", "half"), "'same' or 'valid'"),
    (("conv", "40x50x128", "--out", 64, "--kernel", 3, "--groups", 3), "groups=3 must divide"),
    (("conv", "40x50x128", "--out", 64, "--kernel", 3, "--stride", 2, "--padding", "same"), "needs stride 1"),
    (("conv", "40x50x128", "--out", 64, "--kernel", 3, "--layout", "whc"), "--layout must be hwc"),
    (("conv", "40x50x128", "--out", 64, "--kernel", 3, "--check", "lots"), "--check: 'lots' is not a number"),
    (("conv", "40x50x128", "--out", 64, "--kernel", 3, "--check-shape", "40x50"), "must have 3 sizes"),
    (("pool", "4x4x3", "--kernel", 2, "--padding", "same"), "--padding must be a whole number"),
    (("pool", "4x4x3", "--kernel", 5), "pooling kernel 5x5 does not fit a 4x4 input"),
    (("pool", "1024", "--kernel", 2), "needs a feature map"),
    (("deconv", "2x2x3", "--out", 1, "--kernel", 1, "--padding", 3), "output would be empty"),
    (("linear", "256", "--out", -3), "'out_features' of linear must be at least 1"),
])
def test_mistakes_are_one_clear_line_and_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.count("error:") == 1
