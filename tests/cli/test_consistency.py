"""Every command offers the formats its help promises, through the one writer; machine formats
carry plain numbers; small things a newcomer trips over (issue 13)."""

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from archcalc import __version__
from archcalc.cli import app

runner = CliRunner()


def run(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result.stdout


CONV = ("conv", "40x50x128", "--out", 64, "--kernel", 3, "--padding", 1)


def test_one_liner_csv_is_the_layer_table():
    rows = list(csv.DictReader(io.StringIO(run(*CONV, "-f", "csv"))))
    assert rows == [{"Layer": "conv", "Type": "conv2d", "Output": "40x50x64", "Params": "73792",
                     "Formula": "3x3x128x64 + 64 = 73,792", "MACs": "147456000", "RF": "3", "Stride": "1"}]
    rows = list(csv.DictReader(io.StringIO(run("dense", "4x4x16", "--out", 10, "-f", "csv"))))
    assert [(r["Layer"], r["Type"], r["Output"]) for r in rows] == [("flatten", "flatten", "256"), ("linear", "linear", "10")]


def test_one_liner_markdown_has_table_explanation_and_verdicts():
    text = run(*CONV, "--check", 73728, "-f", "markdown")
    assert text.startswith("| Layer | Type | Output | Params |")
    assert "| conv | conv2d | 40x50x64 | 73,792 |" in text
    assert "- convolution on input 40x50x128 = H=40 W=50 C=128 (read as HxWxC)" in text
    assert "- CORRECT parameters (weights only, without the bias): 73,728" in text
    assert run(*CONV, "--check", 1, "-f", "markdown", code=1)  # a wrong answer is still exit 1


@pytest.mark.parametrize("args", [
    ("deconv", "7x7x16", "--out", 8, "--kernel", 4, "--stride", 2, "--padding", 1),
    ("pool", "224x224x64", "--kernel", 2), ("linear", "4096", "--out", 10),
])
@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_every_one_liner_has_every_format(args, fmt):
    assert run(*args, "-f", fmt)


def test_one_liner_help_offers_what_works():
    text = runner.invoke(app, ["conv", "--help"]).output
    assert "csv" in text and "markdown" in text


def test_solve_format_and_hidden_json_alias():
    as_format = run("solve", 224, 55, "--kernel", 11, "--stride", 4, "--format", "json")
    assert as_format == run("solve", 224, 55, "--kernel", 11, "--stride", 4, "--json")
    assert json.loads(as_format)["choices"][0]["padding"] == 2
    rows = list(csv.DictReader(io.StringIO(run("solve", 32, 16, "--max-kernel", 3, "-f", "csv"))))
    assert [(r["kernel"], r["stride"], r["padding"], r["dropped"]) for r in rows] == [
        ("2", "2", "0", "0"), ("3", "2", "1", "0"), ("1", "2", "0", "1")]
    text = run("solve", 32, 16, "--max-kernel", 3, "-f", "markdown")
    assert "| 3 | 2 | 1 | 1 | 0 | 0 |" in text and "2\\*padding" in text
    assert run("solve", 10, 20, "-f", "csv", code=1) == "kernel,stride,padding,dilation,output_padding,dropped\n"
    help_text = runner.invoke(app, ["solve", "--help"]).output
    assert "--format" in help_text and "--json" not in help_text


def test_version():
    for args in (["--version"], ["--version", "params"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and result.output == f"archcalc {__version__}\n"


def test_params_csv_ends_with_a_total_row():
    rows = list(csv.DictReader(io.StringIO(run("params", "resnet50", "-f", "csv"))))
    total = rows[-1]  # batch-norm scales count as weights, their shifts as biases (as the table shows)
    assert total == {"Layer": "total", "Type": "", "Output": "", "Weights": "25529472", "Bias": "27560",
                     "Params": "25557032", "Buffers": "53173", "Formula": ""}
    layers = rows[:-1]
    for key in ("Weights", "Bias", "Params", "Buffers"):
        assert sum(int(r[key]) for r in layers) == int(total[key])
    folded = list(csv.DictReader(io.StringIO(run("params", "resnet50", "-f", "csv", "--depth", 1))))
    assert folded[-1] == total


def test_summary_csv_numbers_are_plain():
    rows = list(csv.DictReader(io.StringIO(run("summary", "alexnet", "-f", "csv"))))
    assert "Activations" not in rows[0] and rows[0]["Activation bytes"] == str(64 * 55 * 55 * 4)
    for row in rows:
        for key in ("Params", "MACs", "Activation bytes"):
            assert row[key].isdigit(), (key, row[key])
    data = json.loads(run("summary", "alexnet", "-f", "json"))
    assert [int(r["Activation bytes"]) for r in rows] == [layer["activation_bytes"] for layer in data["layers"]]


def test_json_layers_split_weights_and_biases():
    data = json.loads(run("params", "alexnet", "-f", "json"))
    conv = data["layers"][0]
    assert (conv["weights"], conv["biases"], conv["params"]) == (23_232, 64, 23_296)
    assert all(layer["weights"] + layer["biases"] == layer["params"] for layer in data["layers"])
    chain = json.loads(run("chain", "32x32x3", "conv 5x5 4", "-f", "json"))
    assert chain["layers"][0]["weights"] == 300 and chain["layers"][0]["biases"] == 4


@pytest.mark.parametrize("args", [("params", "lenet5"), ("summary", "resnet18"), ("memory", "lenet5"),
                                  ("compare", "bottleneck", "plain_3x3"), ("chain", "32x32x3", "conv 3x3 4"), ("zoo",)])
def test_titles_carry_no_trailing_blanks(args):
    lines = run(*args).splitlines()
    assert all(line == line.rstrip() for line in lines)


def test_layers_csv_and_table():
    rows = list(csv.DictReader(io.StringIO(run("layers", "-f", "csv"))))
    assert rows[0]["Type"] == "conv2d" and "conv" in rows[0]["Aliases"]
    assert "conv_transpose2d" in run("layers")
