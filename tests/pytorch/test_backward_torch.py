"""Backward and train FLOPs proven against FlopCounterMode: every layer type's rule (verify with
the backward pass, on cpu and meta), frozen layers, stems, joins, and every bundled net's train
total against an independent count (forward + loss.backward() under FlopCounterMode)."""

import dataclasses
import json

import pytest

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import archcalc  # noqa: E402
from archcalc.cli import app  # noqa: E402
from archcalc.layers.base import REGISTRY  # noqa: E402
from archcalc.layers.conv import Conv2d  # noqa: E402
from archcalc.pytorch.twin import build_module  # noqa: E402
from archcalc.pytorch.verify import verify  # noqa: E402
from archcalc.spec.bundled import bundled  # noqa: E402

from test_verify import INLINE, assert_all_agree, graph_of  # noqa: E402

runner = CliRunner()

# Frozen layers, a frozen stem before trainable layers, a parameter-free stem, joins of a branch
# that needs a gradient and one that does not, layers the output does not use.
GRADIENTS = """
name: gradients
input: 4x12x12
output: head
layers:
  - {name: pool, type: maxpool2d, kernel_size: 2}
  - {name: stem, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1, trainable: false}
  - {name: bn, type: batchnorm2d, trainable: false}
  - {name: a, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1, groups: 2}
  - {name: frozen, type: conv_transpose2d, out_channels: 8, kernel_size: 2, stride: 2, trainable: false}
  - {name: side, type: conv_transpose2d, out_channels: 8, kernel_size: 2, stride: 2, inputs: bn}
  - {name: up, type: upsample, scale_factor: 2, inputs: bn}
  - {name: join, type: add, inputs: [frozen, side, up]}
  - {name: cat, type: concat, inputs: [join, up]}
  - {name: gate, type: mul, inputs: [cat, cat]}
  - {name: fz, type: conv2d, out_channels: 16, kernel_size: 1, trainable: false}
  - {name: dw, type: conv2d, out_channels: 16, kernel_size: 3, groups: 16}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out_features: 6, trainable: false}
  - {name: head, type: linear, out_features: 3}
  - {name: unused, type: linear, out_features: 2, inputs: fc}
"""


def backward_checks(result):
    return {c.layer: c for c in result.checks if c.quantity == "backward"}


@pytest.mark.parametrize("device", ["cpu", "meta"])
@pytest.mark.parametrize("text", [*INLINE.values(), GRADIENTS], ids=[*INLINE, "gradients"])
def test_every_layer_type_backward_agrees_with_flopcountermode(text, device):
    result = verify(graph_of(text), device=device, rf=False, backward=True)
    assert_all_agree(result)
    quantities = {c.quantity for c in result.checks}
    assert {"input_grad", "backward", "train"} <= quantities
    assert any(c.actual for c in backward_checks(result).values()), "some backward FLOPs must be measured"


def test_inline_specs_cover_every_layer_type_with_and_without_input_gradient():
    graphs = [graph_of(text) for text in [*INLINE.values(), GRADIENTS]]
    reports = [archcalc.analyze(g) for g in graphs]
    covered = {(r.type, r.input_needs_grad) for report in reports for r in report.rows}
    assert {name for name, _ in covered} == set(REGISTRY)
    rows = [r for report in reports for r in report.rows if r.backward_flops]
    # each counting type with only its weight gradient (trainable, input needs none) and only its
    # input gradient (frozen after a trainable layer), so each part is proven on its own
    weight_only = {r.type for r in rows if r.trainable and not r.input_needs_grad}
    input_only = {r.type for r in rows if not r.trainable and r.input_needs_grad}
    weighted = {"conv2d", "conv_transpose2d", "linear", "conv1d", "conv3d", "conv_transpose1d", "conv_transpose3d",
                "scaled_std_conv2d"}
    # matmul holds no weights: its input gradients only, one per input that needs one (attention's
    # raw_context multiplies the net input, which needs none, so one of its two bmm runs);
    # blurpool2d's filter is a buffer: only the gradient w.r.t. its input counts
    assert weight_only == weighted and input_only == {r.type for r in rows} == weighted | {"matmul", "blurpool2d"}
    attention = reports[list(INLINE).index("attention")]
    context, raw = (next(r for r in attention.rows if r.name == name) for name in ("context", "raw_context"))
    assert raw.backward_input_flops * 2 == context.backward_input_flops == 2 * context.flops


def test_gradients_spec_cases():
    result = verify(graph_of(GRADIENTS), device="meta", rf=False, backward=True)
    assert_all_agree(result)
    grads = {c.layer: c.actual for c in result.checks if c.quantity == "input_grad"}
    assert not grads["pool"] and not grads["stem"] and not grads["a"]  # nothing upstream is trainable
    assert grads["frozen"] and grads["join"] and grads["head"] and not grads["side"] and not grads["up"]
    backward = backward_checks(result)
    assert backward["stem"].actual == 0 and backward["bn"].actual == 0  # a frozen stem runs no backward
    assert backward["unused"].actual == 0 and backward["frozen"].actual > 0  # frozen: input gradient only
    report = archcalc.analyze(graph_of(GRADIENTS))
    dw = next(r for r in report.rows if r.name == "dw")
    assert backward["dw"].actual == dw.flops + 16 * dw.flops  # depthwise: weight gradient x groups


def test_attribution_is_exact_where_flopcountermode_per_module_counts_are_not():
    """Two convolutions reading the net input: FlopCounterMode's ModuleTracker never leaves the
    first one's backward, so its own per-module counts charge one branch twice; ours are exact."""
    text = ("name: branches\ninput: 3x8x8\nlayers:\n- {name: a, type: conv2d, out: 4, k: 3, padding: 1}\n"
            "- {name: b, type: conv2d, out: 4, k: 3, padding: 1, inputs: input}\n- {name: s, type: add, inputs: [a, b]}\n"
            "- {name: c, type: conv2d, out: 4, k: 1}\n")
    result = verify(graph_of(text), device="cpu", rf=False, backward=True)
    assert_all_agree(result)
    backward = backward_checks(result)
    assert backward["a"].actual == backward["b"].actual == 2 * 4 * 3 * 9 * 64


def test_broken_backward_rule_is_a_named_mismatch(monkeypatch):
    original = Conv2d.infer

    def off(cls, args, inputs):
        result = original(args, inputs)
        return dataclasses.replace(result, backward_weight_flops=result.backward_weight_flops + 1)

    monkeypatch.setattr(Conv2d, "infer", classmethod(off))
    result = verify(graph_of(GRADIENTS), device="meta", rf=False, backward=True)
    bad = {(c.layer, c.quantity) for c in result.mismatches}
    assert ("a", "backward") in bad and ("dw", "backward") in bad and ("total", "train") in bad
    assert ("stem", "backward") not in bad  # frozen with no input gradient: its rule never applies
    result = runner.invoke(app, ["verify", "resnet18", "--device", "meta", "--no-rf", "--pass", "train"])
    assert result.exit_code == 1 and "MISMATCH layer1.0.conv1 backward" in result.stdout


def test_train_mode_counts_the_same_as_eval():
    """verify runs the twin in eval mode (batch norm on one sample); FlopCounterMode counts no op
    that differs in training mode (batch statistics, dropout masks)."""
    counts = []
    for train in (False, True):
        with torch.device("meta"):
            net = build_module(archcalc.load("vgg16_bn"))
        net.train(train)
        counter = FlopCounterMode(display=False)
        with counter:
            net(torch.zeros(2, 3, 224, 224, device="meta")).sum().backward()
        counts.append(counter.get_total_flops())
    assert counts[0] == counts[1] == archcalc.analyze("vgg16_bn", batch=2).total.train_flops


@pytest.mark.parametrize("name", sorted(bundled()))
def test_every_bundled_net_train_flops_equal_flopcountermode(name):
    """Independent of verify: the whole twin, forward and loss.backward() under one counter."""
    graph = archcalc.load(name)
    report = archcalc.analyze(graph)
    with torch.device("meta"):
        net = build_module(graph).eval()
    counter = FlopCounterMode(display=False)
    with counter:
        net(torch.zeros(report.batch, *report.input, device="meta")).sum().backward()
    assert report.total.train_flops == counter.get_total_flops()


def test_resnet50_train_flops():
    t = archcalc.analyze("resnet50").total
    assert (t.flops, t.backward_input_flops, t.backward_weight_flops) == (8_178_368_512, 7_942_340_608, 8_178_368_512)
    assert t.train_flops == 24_299_077_632


def test_cli_verify_pass_train_json():
    result = runner.invoke(app, ["verify", "squeezenet1_1", "--device", "meta", "--no-rf", "--pass", "train", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and data["backward"]
    totals = {c["quantity"]: c for c in data["checks"] if c["layer"] == "total"}
    assert totals["train"]["actual"] == archcalc.analyze("squeezenet1_1").total.train_flops
    plain = json.loads(runner.invoke(app, ["verify", "squeezenet1_1", "--device", "meta", "--no-rf", "-f", "json"]).stdout)
    assert not plain["backward"] and not {c["quantity"] for c in plain["checks"]} & {"backward", "input_grad", "train"}


def test_a_backward_pass_that_cannot_fit_is_refused_before_torch_runs(monkeypatch):
    from archcalc.figures.memory import memory_report
    from archcalc.pytorch import verify as verify_module

    report = archcalc.analyze("resnet18")
    inference, training = memory_report(report).inference_total, memory_report(report, "sgd").training_total
    assert training > inference
    free = int((inference + training) / 2 / 0.9)  # room for the forward pass alone
    monkeypatch.setattr(verify_module, "available_memory", lambda device: free)
    assert runner.invoke(app, ["verify", "resnet18", "--no-rf"]).exit_code == 0
    result = runner.invoke(app, ["verify", "resnet18", "--no-rf", "--pass", "train"])
    assert result.exit_code == 2 and "forward and backward pass" in result.stderr and "--device meta" in result.stderr


def test_a_net_without_trainable_parameters_runs_no_backward():
    """The output requires no gradient, so loss.backward() cannot run: verify counts 0 and agrees."""
    text = "name: frozen\ninput: 3x8x8\nlayers:\n- {type: conv2d, out: 4, k: 3, trainable: false}\n- relu\n- gap\n"
    result = verify(graph_of(text), device="cpu", rf=False, backward=True)
    assert_all_agree(result)
    totals = {c.quantity: c.actual for c in result.checks if c.layer == "total"}
    assert totals["backward"] == 0 and totals["train"] == totals["flops"] > 0
