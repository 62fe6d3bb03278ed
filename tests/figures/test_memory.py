"""`archcalc memory`: training and inference memory against hand-computed values."""

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from archcalc import analyze_text
from archcalc.cli import app
from archcalc.figures.memory import OPTIMIZER_SLOTS, memory_report, peak_live

runner = CliRunner()

RESIDUAL = """
input: 4x8x8
batch: 2
layers:
  - {name: conv1, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1, bias: false, trainable: false}
  - {name: bn, type: batchnorm2d}
  - {name: relu, type: relu}
  - {name: conv2, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: add, type: add, inputs: [input, conv2]}
"""


def parts(result, phase="training"):
    return {line.name: line.bytes for line in getattr(result, phase)}


def test_slots_per_optimizer():
    assert {k: v[0] for k, v in OPTIMIZER_SLOTS.items()} == {
        "sgd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adadelta": 2, "adam": 2, "adamw": 2}


@pytest.mark.parametrize("optimizer, state, total", [("sgd", 0, 21_504), ("momentum", 10_240, 31_744),
                                                     ("adam", 20_484, 62_468)])
def test_dense_classifier_by_hand(optimizer, state, total):
    # fcn_dense: 16x4x4 -> flatten (a view: no memory) -> linear 10, no bias: 2,560 weights, float32.
    # The linear layer keeps its input (256 floats = 1,024 B) for the weight gradient; the net
    # input needs no gradient, so backward makes only the weight gradient (10,240 B). Adam keeps
    # two moments and one float32 step count (4 B), and its step allocates two temporaries of
    # the weight's size (20,480 B) while the gradients and the input batch are still there.
    result = json.loads(runner.invoke(app, ["memory", "fcn_dense", "-O", optimizer, "-f", "json"]).output)
    training = {line["name"]: line["bytes"] for line in result["training"]}
    assert training == {"weights": 10_240, "buffers": 0, "gradients": 10_240, "optimizer state": state,
                        "activations saved for backward": 1_024, "activation gradients": 0,
                        "temporaries": 20_480 if optimizer == "adam" else 0}
    assert result["training_total"] == total == sum(training.values())
    assert result["training_peak"]["phase"] == ("optimizer step" if optimizer == "adam" else "backward")
    # inference peaks while fc runs: the input (flatten is a view of it) and fc's 10 outputs
    assert result["peak"] == {"layer": "fc", "elements": 266, "live": ["input", "fc"]}
    assert result["inference_total"] == 10_240 + 266 * 4


@pytest.mark.parametrize("optimizer, state", [("rmsprop", 312 + 16), ("adadelta", 624 + 16), ("nesterov", 312), ("sgd", 0)])
def test_residual_with_frozen_conv_and_bn_by_hand(optimizer, state):
    # params: conv1 3x3x4x4 = 144 (frozen) + bn 2x4 = 8 + conv2 144 + 4 = 148 -> 300, trainable 156
    # buffers: bn running mean 4 + var 4 (float16, 2 B) + num_batches_tracked (int64, 8 B) = 24 B
    # every map is 2x4x8x8 = 512 elements = 1,024 B; rmsprop and adadelta count 4 float32 steps
    report = analyze_text(RESIDUAL, dtype="float16")
    result = memory_report(report, optimizer)
    # The peak is relu's backward: conv2's gradients (148 x 2 B) are done; alive are the input
    # batch, conv1's output (kept by bn), relu's output (kept by relu and conv2), bn's float32
    # mean and 1/std (2 x 4 x 4 B), the gradient of relu's output and the new one of bn's.
    # conv1 is frozen on the input: no gradient reaches it, so it keeps nothing.
    assert parts(result) == {"weights": 600, "buffers": 24, "gradients": 296, "optimizer state": state,
                             "activations saved for backward": 3 * 1_024 + 32, "activation gradients": 2 * 1_024,
                             "temporaries": 0}
    assert result.training_peak == ("backward", "backward of relu")
    # the input stays live until the add: 3 tensors of 512 elements at the peak
    assert result.peak.elements == 3 * 512 and result.peak.step == "bn"
    assert parts(result, "inference") == {"weights": 600, "buffers": 24, "peak live activations": 3 * 512 * 2}
    assert result.training_total == 600 + 24 + 296 + state + 3_104 + 2_048


SUMS = """
input: 4x8x8
batch: 2
layers:
  - {name: conv, type: conv2d, out_channels: 4, kernel_size: 1, bias: false}
  - {name: left, type: slice, chunks: 2, index: 0}
  - {name: right, type: slice, chunks: 2, index: 1, inputs: conv}
  - {name: join, type: concat, inputs: [right, left]}
  - {name: head, type: conv2d, out_channels: 1, kernel_size: 1, bias: false}
"""


def test_slices_are_views_and_gradients_are_summed_after_the_backward_by_hand():
    """A ShuffleNet-like split: every map 2x4x8x8 = 512 floats = 2,048 B, weights 20 x 4 B.
    Inference: the slices are views of conv's output, so input, conv and join are live (6,144 B).
    Training: concat hands its gradient to the slices as views; each slice's backward makes a
    gradient of conv's whole output. The peak is left's backward: the input, join's gradient (both
    slices read it), right's contribution and left's; the sum into a new tensor comes after left's
    backward, once join's gradient is freed: the same 4 maps, not 5. MemTracker agrees (test_memcheck
    checks every layer type; this spec measured 8,296 B, the 8 B being the loss and its gradient)."""
    result = memory_report(analyze_text(SUMS), "sgd")
    assert parts(result, "inference") == {"weights": 80, "buffers": 0, "peak live activations": 3 * 2_048}
    assert result.peak.live == ("input", "conv", "join")
    assert parts(result) == {"weights": 80, "buffers": 0, "gradients": 16, "optimizer state": 0,
                             "activations saved for backward": 2_048, "activation gradients": 3 * 2_048,
                             "temporaries": 0}
    assert result.training_peak == ("backward", "backward of left") and result.training_total == 8_288


def test_alexnet_adam_batch_and_dtype():
    result = memory_report(analyze_text((Path(__file__).resolve().parents[2] / "architectures" / "alexnet.yaml").read_text(), batch=8, dtype="bfloat16"), "adamw")
    p = 61_100_840
    # two moments and 16 float32 step counts (one per weight and bias tensor)
    assert parts(result)["weights"] == p * 2 and parts(result)["optimizer state"] == 2 * p * 2 + 16 * 4
    assert result.training_total == max(result.phases.values()) == sum(parts(result).values())
    assert set(result.phases) == {"forward", "backward", "optimizer step"}


def test_table_and_formulas():
    result = runner.invoke(app, ["memory", "alexnet", "--optimizer", "momentum", "--batch", "4"])
    assert result.exit_code == 0, result.output
    assert "1 x 61,100,840 trainable parameters x 4 B (float32)" in result.output
    assert "peak live activations" in result.output and "total" in result.output
    assert "| training | weights |" in runner.invoke(app, ["memory", "fcn_dense", "-f", "markdown"]).output
    assert "training,gradients,10240" in runner.invoke(app, ["memory", "fcn_dense", "-f", "csv"]).output


@pytest.mark.parametrize("args", [["fcn_dense", "-O", "lbfgs"], ["no_such_net"], ["fcn_dense", "--dtype", "int4"]])
def test_memory_mistakes(args):
    result = runner.invoke(app, ["memory", *args])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_homework_modules_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, archcalc.cli, archcalc.homework.oneliner, archcalc.homework.chain, archcalc.homework.solve, archcalc.figures.compare, "
            "archcalc.figures.memory; from typer.testing import CliRunner; "
            "CliRunner().invoke(archcalc.cli.app, ['memory', 'fcn_dense']); assert 'torch' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_memory_and_compare_take_an_input_size():
    runner = CliRunner()
    small = json.loads(runner.invoke(app, ["memory", "vgg16", "-f", "json"]).stdout)
    large = json.loads(runner.invoke(app, ["memory", "vgg16", "--input", "3x448x448", "-f", "json"]).stdout)
    # the first conv's output and the ReLU beside it dominate: 4x the pixels, 4x the peak
    assert large["peak"]["elements"] == 4 * small["peak"]["elements"]
    result = runner.invoke(app, ["compare", "resnet50", "resnet152", "--input", "3x512x512", "-f", "csv"])
    assert result.exit_code == 0 and "MACs,21355249664,60144173056" in result.stdout


# --------------------------------------------------------------------------- peak in one sweep
def peak_by_definition(report):
    """peak_live as first written (quadratic): at each step, sum every tensor with
    produced <= step <= last_use; the first step with the largest sum."""
    from archcalc.figures.memory import PeakPoint, elements_of

    sizes = {"input": elements_of(report.input) * report.batch}
    produced, last_use = {"input": -1}, {"input": -1}
    for index, row in enumerate(report.rows):
        sizes[row.name], produced[row.name], last_use[row.name] = row.activations, index, index
        for source in row.inputs:
            last_use[source] = max(last_use[source], index)
    graph = report.graph
    last_use[graph.output.name if graph.output is not None else "input"] = len(report.rows)
    best = PeakPoint("input", sizes["input"], ("input",))
    for index, row in enumerate(report.rows):
        live = tuple(name for name in sizes if produced[name] <= index <= last_use[name])
        total = sum(sizes[name] for name in live)
        if total > best.elements:
            best = PeakPoint(row.name, total, live)
    return best


@st.composite
def dag_specs(draw):
    """Random nets of relus, pools, concats and adds reading any earlier layer, with an output
    anywhere (or the input itself unused)."""
    count = draw(st.integers(1, 25))
    lines = ["input: 2x8x8", f"batch: {draw(st.integers(1, 3))}", "layers:"]
    shapes = {"input": (2, 8)}
    for i in range(count):
        names = list(shapes)
        kind = draw(st.sampled_from(["relu", "pool", "concat", "add"]))
        source = draw(st.sampled_from(names))
        channels, size = shapes[source]
        if kind == "pool" and size > 1:
            lines.append(f"  - {{name: l{i}, type: maxpool2d, kernel: 2, inputs: {source}}}")
            shapes[f"l{i}"] = (channels, size // 2)
            continue
        same = [n for n in names if shapes[n] == shapes[source]]
        if kind in ("concat", "add") and channels <= 16:
            other = draw(st.sampled_from(same))
            lines.append(f"  - {{name: l{i}, type: {kind}, inputs: [{source}, {other}]}}")
            shapes[f"l{i}"] = (channels * 2 if kind == "concat" else channels, size)
            continue
        lines.append(f"  - {{name: l{i}, type: relu, inputs: {source}}}")
        shapes[f"l{i}"] = (channels, size)
    output = draw(st.sampled_from(list(shapes)[1:]))
    return "\n".join(lines) + f"\noutput: {output}\n"


@settings(max_examples=300, deadline=None)
@given(dag_specs())
def test_peak_in_one_sweep_is_the_definition(text):
    report = analyze_text(text)
    assert peak_live(report) == peak_by_definition(report)


def test_peak_of_a_net_whose_input_is_never_read():
    report = analyze_text("input: 4x4x4\nlayers:\n  - {name: a, type: relu}\n  - {name: b, type: maxpool2d, kernel: 4}\n")
    assert peak_live(report) == peak_by_definition(report) and peak_live(report).step == "a"


def test_timing_memory_scales_like_params_on_10000_layers():
    """TIMING TEST (generous margin): on a 10,000-layer chain, `memory` costs no more than ~2x
    `params`, both measured here through the Python API (spec text -> report -> output), best
    of two runs. The quadratic peak took 21.5 s where params took 1.4 s."""
    from archcalc.analysis import fold
    from archcalc.figures.memory import render_memory
    from archcalc.render import plain_table
    from big_specs import chain_spec

    text = chain_spec(10_000, written_out=False)

    def params():
        report = analyze_text(text)
        return plain_table(report, fold(report, None), "params")

    def memory():
        return render_memory(memory_report(analyze_text(text)), "json")

    def best_of_two(work):
        times = []
        for _ in range(2):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        return min(times)

    params_time, memory_time = best_of_two(params), best_of_two(memory)
    assert memory_time <= 2 * params_time + 0.2, (memory_time, params_time)
