"""The analysis commands: output formats, the JSON contract, options, and no torch on the path."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archcalc.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def invoke(*args):
    """stdout of a successful run (notes such as how --input was read go to stderr)."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_contract_keys_are_stable():
    data = json.loads(invoke("summary", "architectures/alexnet.yaml", "--format", "json"))
    assert {"name", "input", "layers", "total"} <= set(data)
    assert data["name"] == "alexnet" and data["input"] == [3, 224, 224]
    for layer in data["layers"]:
        assert {"name", "type", "output", "params", "buffers", "macs", "flops", "rf"} <= set(layer)
    assert {"params", "trainable", "buffers", "macs", "flops"} <= set(data["total"])
    assert data["total"]["params"] == 61_100_840
    conv = data["layers"][0]
    assert conv["name"] == "features.0" and conv["output"] == [64, 55, 55]
    assert conv["rf"] == {"size": [11, 11], "stride": [4, 4], "padding": [2, 2]}
    fc = data["layers"][-1]
    assert fc["name"] == "classifier.6" and fc["rf"] is None  # a linear layer sees the whole input


def test_table_has_shapes_formulas_macs_and_rf():
    out = invoke("summary", "architectures/alexnet.yaml")
    for text in ("features.0", "64x55x55", "11x11x3x64 + 64 = 23,296", "70,276,800", "61,100,840", "61.1 M", "0.71 GMACs", "whole input"):
        assert text in out, text


def test_params_totals_line():
    out = invoke("params", "resnet50")
    assert "25,557,032" in out and "buffers 53,173" in out and "trainable 25,557,032" in out


def test_flops_share_and_rf_views():
    out = invoke("flops", "alexnet", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sum(int(r["FLOPs"]) for r in rows) == 2 * 714_188_480
    assert rows[0]["Share"].endswith("%")
    out = invoke("rf", "resnet50", "--format", "csv")
    last = [r for r in csv.DictReader(io.StringIO(out)) if r["Layer"] == "layer4.2.relu"][0]
    assert (last["RF size"], last["Eff. stride"], last["Eff. padding"]) == ("427", "32", "213")


def test_markdown_format():
    out = invoke("params", "alexnet", "--format", "markdown")
    assert out.startswith("## alexnet") and "| features.0 | conv2d |" in out and "|---|" in out


def test_depth_folds_blocks():
    data = json.loads(invoke("params", "resnet50", "--depth", "1", "--format", "json"))
    names = [layer["name"] for layer in data["layers"]]
    assert names == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten", "fc"]
    assert sum(layer["params"] for layer in data["layers"]) == 25_557_032
    layer1 = data["layers"][4]
    assert layer1["type"] == "stage" and layer1["output"] == [256, 56, 56]
    depth2 = json.loads(invoke("params", "resnet50", "--depth", "2", "--format", "json"))
    assert [layer["name"] for layer in depth2["layers"]][4:7] == ["layer1.0", "layer1.1", "layer1.2"]


def test_input_and_batch_options():
    data = json.loads(invoke("summary", "resnet50", "--input", "3x448x320", "--batch", "4", "--format", "json"))
    assert data["input"] == [3, 448, 320] and data["batch"] == 4
    conv1 = data["layers"][0]
    assert conv1["output"] == [64, 224, 160]
    base = json.loads(invoke("summary", "resnet50", "--format", "json"))
    assert data["total"]["params"] == base["total"]["params"]
    # MACs of convs scale with pixels x batch; the fc layer only with batch
    assert data["total"]["macs"] > 4 * base["total"]["macs"]


def test_non_square_rf_per_axis():
    data = json.loads(invoke("rf", "alexnet", "--input", "3x224x300", "--format", "json"))
    assert data["layers"][0]["output"] == [64, 55, 74]


def test_module_entry_point_and_help():
    out = subprocess.run([sys.executable, "-m", "archcalc", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "params" in out.stdout and "summary" in out.stdout


def test_analysis_imports_no_torch():
    """`python -X importtime -m archcalc params architectures/resnet50.yaml` imports no torch."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "archcalc", "params", "architectures/resnet50.yaml"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "archcalc" in imported and "typer" in imported  # (PyYAML only without a cached parse)
    assert "torch" not in imported and "numpy" not in imported


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_every_format_for_every_view(fmt):
    for view in ("params", "flops", "rf", "summary"):
        invoke(view, "resnet50", "--format", fmt, "--depth", "2")
