"""`verify --mode train`: the twin runs in train mode (module.train()) and the analysis counts
train mode's layers, so GoogLeNet's and Inception-v3's auxiliary heads are proven layer by layer
(in eval they own parameters but run nothing, and their output checks are skipped)."""

import json

import pytest
from typer.testing import CliRunner

import archcalc
from archcalc.cli import app
from archcalc.errors import ArchcalcError
from archcalc.pytorch.verify import verify

pytestmark = pytest.mark.torch
runner = CliRunner()


def aux_checks(result, quantity):
    return [c for c in result.checks if c.layer.startswith("aux1.") and c.quantity == quantity]


def test_train_mode_runs_and_proves_the_aux_heads():
    result = verify(archcalc.load("googlenet"), device="meta", rf=False, mode="train")
    assert result.ok and result.mode == "train"
    outputs = aux_checks(result, "output")
    assert outputs and not any(c.skipped for c in outputs)
    assert sum(c.actual for c in aux_checks(result, "flops")) > 0


def test_eval_mode_skips_the_aux_heads_outputs():
    result = verify(archcalc.load("googlenet"), device="meta", rf=False)
    assert result.ok and result.mode == "eval"
    assert all(c.skipped and "only in train mode" in c.detail for c in aux_checks(result, "output"))
    assert sum(c.actual for c in aux_checks(result, "flops")) == 0


def test_the_modes_totals_differ_by_the_aux_heads():
    graph = archcalc.load("googlenet")
    totals = {mode: next(c.actual for c in verify(graph, device="meta", rf=False, mode=mode).checks
                         if c.layer == "total" and c.quantity == "flops") for mode in ("eval", "train")}
    assert totals["train"] > totals["eval"] == archcalc.analyze("googlenet").total.flops
    assert totals["train"] == archcalc.analyze("googlenet", mode="train").total.flops


def test_inception_v3_in_train_mode_needs_a_batch_of_two():
    """Its aux head's batch norm sees a 1x1 map: torch refuses one value per channel in training."""
    with pytest.raises(ArchcalcError, match="--batch 2"):
        verify(archcalc.load("inception_v3"), device="meta", rf=False, mode="train")
    assert verify(archcalc.load("inception_v3"), device="meta", rf=False, mode="train", batch=2).ok


def test_cli_mode_option():
    result = runner.invoke(app, ["verify", "googlenet", "--device", "meta", "--no-rf", "--mode", "train", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "train" and data["ok"]
    table = runner.invoke(app, ["verify", "googlenet", "--device", "meta", "--no-rf", "--mode", "train"])
    assert table.exit_code == 0 and "train mode" in table.stdout
    bad = runner.invoke(app, ["verify", "googlenet", "--device", "meta", "--mode", "training"])
    assert bad.exit_code == 2
