"""`archcalc compare` and the course's comparisons shipped in architectures/compare/."""

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from archcalc.cli import app

runner = CliRunner()


def compare_json(*nets):
    result = runner.invoke(app, ["compare", *nets, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    return {n["name"]: n for n in data["nets"]}, data["warnings"]


def test_bottleneck_vs_plain_3x3s():
    nets, warnings = compare_json("compare/bottleneck", "plain_3x3", "architectures/compare/plain_two_3x3.yaml")
    assert nets["bottleneck"]["params"] == 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256 == 69_632
    assert nets["plain_3x3"]["params"] == 3 * 3 * 256 * 256 == 589_824
    assert nets["plain_two_3x3"]["params"] == 1_179_648
    assert nets["bottleneck"]["macs"] == 69_632 * 56 * 56
    assert nets["plain_3x3"]["ratio"]["params"] == pytest.approx(589_824 / 69_632)
    assert nets["bottleneck"]["rf"] == "3" and nets["plain_two_3x3"]["rf"] == "5"
    assert warnings == []


def test_two_3x3_vs_one_5x5():
    nets, warnings = compare_json("vgg_two_3x3", "vgg_one_5x5")
    c = 64
    assert nets["vgg_two_3x3"]["params"] == 18 * c * c == 73_728
    assert nets["vgg_one_5x5"]["params"] == 25 * c * c == 102_400
    assert nets["vgg_two_3x3"]["rf"] == nets["vgg_one_5x5"]["rf"] == "5"
    assert nets["vgg_one_5x5"]["ratio"]["params"] == pytest.approx(25 / 18)
    assert warnings == []


def test_inception_naive_vs_reduced_warns_on_output_shape():
    nets, warnings = compare_json("inception_naive", "inception_reduced")
    assert nets["inception_naive"]["params"] == 192 * 64 + 9 * 192 * 128 + 25 * 192 * 32 == 387_072
    assert nets["inception_reduced"]["params"] == 163_328
    assert nets["inception_naive"]["output"] == [416, 28, 28]
    assert nets["inception_reduced"]["output"] == [256, 28, 28]
    assert len(warnings) == 1 and "not like for like" in warnings[0]


def test_dense_vs_convolutionalized_2560_each():
    nets, warnings = compare_json("fcn_dense", "fcn_conv")
    assert nets["fcn_dense"]["params"] == nets["fcn_conv"]["params"] == 4 * 4 * 16 * 10 == 2_560
    assert nets["fcn_dense"]["macs"] == nets["fcn_conv"]["macs"] == 2_560
    assert warnings == []
    # peak: input + its flatten copy (2 x 256 floats); all: input + flatten + 10 outputs
    assert nets["fcn_dense"]["peak_activation_bytes"] == 2 * 256 * 4
    assert nets["fcn_dense"]["total_activation_bytes"] == (256 + 256 + 10) * 4


def test_table_csv_markdown():
    result = runner.invoke(app, ["compare", "inception_naive", "inception_reduced"])
    assert result.exit_code == 0
    assert "163,328 (0.42x)" in result.output and "warning: output shapes differ" in result.output
    rows = list(csv.reader(io.StringIO(runner.invoke(app, ["compare", "vgg_two_3x3", "vgg_one_5x5", "-f", "csv"]).output)))
    assert rows[0] == ["Figure", "vgg_two_3x3", "vgg_one_5x5"] and rows[1] == ["Parameters", "73728", "102400"]
    markdown = runner.invoke(app, ["compare", "vgg_two_3x3", "vgg_one_5x5", "-f", "markdown"]).output
    assert "| Parameters | 73,728 | 102,400 (1.39x) |" in markdown


def test_compare_bundled_nets_and_batch():
    nets, _ = compare_json("alexnet", "resnet50", "--batch", "2")
    assert nets["alexnet"]["params"] == 61_100_840
    assert nets["resnet50"]["ratio"]["params"] == pytest.approx(25_557_032 / 61_100_840)


@pytest.mark.parametrize("args, message", [
    (["vgg_two_3x3"], "at least two nets"),
    (["vgg_two_3x3", "no_such_net"], "no such file, bundled net or comparison"),
    (["vgg_two_3x3", "vgg_one_5x5", "--batch", "0"], ""),
])
def test_compare_mistakes(args, message):
    result = runner.invoke(app, ["compare", *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
