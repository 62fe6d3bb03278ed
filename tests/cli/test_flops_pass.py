"""`archcalc flops --pass forward|backward|train`: the backward columns and totals in every format,
JSON keys only added, the forward view unchanged, no torch on the path, a bad pass exit 2."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import archcalc
from archcalc.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def invoke(*args):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_forward_is_the_default_and_unchanged():
    assert invoke("flops", "resnet18") == invoke("flops", "resnet18", "--pass", "forward")
    assert "Grad input" not in invoke("flops", "resnet18")


def test_backward_table_shows_both_gradients_and_the_totals():
    t = archcalc.analyze("resnet18").total
    out = invoke("flops", "resnet18", "--pass", "backward")
    assert "Grad input" in out and "Grad weight" in out and "Backward" in out and "resnet18 - backward" in out
    assert f"Backward FLOPs: {t.backward_flops:,}" in out
    assert f"inputs {t.backward_input_flops:,}, w.r.t. weights {t.backward_weight_flops:,}" in out
    assert "Train FLOPs" not in out


def test_train_table_adds_forward_and_backward():
    t = archcalc.analyze("resnet18").total
    out = invoke("flops", "resnet18", "--pass", "train")
    assert f"Train FLOPs (forward + backward): {t.train_flops:,}" in out and f"FLOPs: {t.flops:,}" in out
    assert t.train_flops == t.flops + t.backward_input_flops + t.backward_weight_flops


def test_train_csv_columns_add_up():
    rows = list(csv.DictReader(io.StringIO(invoke("flops", "lenet5", "--pass", "train", "--format", "csv"))))
    assert list(rows[0]) == ["Layer", "Type", "Output", "FLOPs", "Grad input", "Grad weight", "Train FLOPs", "Share"]
    for r in rows:
        assert int(r["Train FLOPs"]) == int(r["FLOPs"]) + int(r["Grad input"]) + int(r["Grad weight"])
    first = rows[0]  # reads the net input: no input gradient
    assert first["Grad input"] == "0" and int(first["Grad weight"]) == int(first["FLOPs"])
    assert sum(int(r["Train FLOPs"]) for r in rows) == archcalc.analyze("lenet5").total.train_flops


def test_backward_markdown_has_the_columns_and_totals():
    out = invoke("flops", "lenet5", "--pass", "backward", "--format", "markdown")
    assert "| Grad input | Grad weight | Backward |" in out and "- Backward FLOPs: " in out


def test_json_adds_keys_per_layer_and_in_total():
    data = json.loads(invoke("flops", "lenet5", "--format", "json"))
    assert data == json.loads(invoke("flops", "lenet5", "--format", "json", "--pass", "train"))
    layer = data["layers"][0]
    assert list(layer)[:13] == ["name", "type", "output", "params", "buffers", "macs", "flops", "ops", "rf",
                                "activations", "activation_bytes", "formula", "notes"]
    assert layer["input_needs_grad"] is False and layer["backward_input_flops"] == 0
    assert layer["backward_flops"] == layer["backward_weight_flops"] == layer["flops"]
    assert layer["train_flops"] == 2 * layer["flops"]
    total = data["total"]
    assert total["train_flops"] == total["flops"] + total["backward_flops"]
    assert total["backward_flops"] == total["backward_input_flops"] + total["backward_weight_flops"]


def test_columns_option_knows_the_backward_columns():
    out = invoke("flops", "lenet5", "--columns", "layer,grad_input,grad_weight,backward,train", "--format", "csv")
    assert out.splitlines()[0] == "Layer,Grad input,Grad weight,Backward,Train FLOPs"


def test_depth_folds_the_backward_figures():
    folded = list(csv.DictReader(io.StringIO(invoke("flops", "resnet18", "--pass", "backward", "-d", "1", "-f", "csv"))))
    assert sum(int(r["Backward"]) for r in folded) == archcalc.analyze("resnet18").total.backward_flops


def test_a_bad_pass_exits_2():
    result = runner.invoke(app, ["flops", "lenet5", "--pass", "sideways"])
    assert result.exit_code == 2 and "sideways" in result.output


@pytest.mark.parametrize("pass_", ["backward", "train"])
def test_backward_and_train_import_no_torch(pass_):
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "archcalc", "flops", "resnet50", "--pass", pass_],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "archcalc" in imported and "torch" not in imported
