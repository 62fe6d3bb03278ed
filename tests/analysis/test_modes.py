"""Several outputs and modes: `outputs: [fc, {name: aux.fc2, mode: train}]`. A layer only the other
mode's outputs use keeps its parameters and runs nothing (as an aux head in torch's eval());
a layer no declared output uses is a warning naming it, and still counted (the twin runs it)."""

import json

import pytest

from archcalc import analyze_text
from archcalc.analysis import fold
from archcalc.errors import SpecError, UsageError
from archcalc.graph import load_graph
from cli_checks import assert_clean_error, run_spec

NET = """\
input: 3x8x8
layers:
  - {name: stem, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - name: aux
    inputs: stem
    layers:
      - {type: global_avgpool2d}
      - {type: flatten}
      - {name: fc1, type: linear, out_features: 6}
      - {name: fc2, type: linear, out_features: 3}
  - {name: body, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1, inputs: stem}
  - {name: pool, type: global_avgpool2d}
  - {type: flatten}
  - {name: fc, type: linear, out_features: 10}
outputs: [fc, {name: aux.fc2, mode: train}]
"""
AUX = ["aux.0", "aux.1", "aux.fc1", "aux.fc2"]


def rows(report):
    return {r.name: r for r in report.rows}


def test_eval_mode_keeps_the_aux_parameters_and_runs_nothing_there():
    report = analyze_text(NET)
    by_name = rows(report)
    assert report.mode == "eval" and report.output == (10,)
    for name in AUX:
        assert not by_name[name].active
        assert (by_name[name].flops, by_name[name].macs, by_name[name].ops, by_name[name].activations) == (0, 0, 0, 0)
        assert "runs only in train mode" in by_name[name].notes[0]
    assert by_name["aux.fc1"].params == 4 * 6 + 6 and by_name["aux.fc2"].params == 6 * 3 + 3
    assert report.total.params == sum(r.params for r in report.rows)
    assert not any("aux" in w for w in report.warnings)  # marked, not warned


def test_eval_figures_equal_the_net_without_the_aux_head():
    without = analyze_text(NET.replace("outputs: [fc, {name: aux.fc2, mode: train}]", "output: fc").replace(
        "  - name: aux\n    inputs: stem\n    layers:\n      - {type: global_avgpool2d}\n      - {type: flatten}\n"
        "      - {name: fc1, type: linear, out_features: 6}\n      - {name: fc2, type: linear, out_features: 3}\n", ""))
    report = analyze_text(NET)
    assert (report.total.flops, report.total.activations, report.total.backward_flops) == (
        without.total.flops, without.total.activations, without.total.backward_flops)
    assert report.total.params == without.total.params + 4 * 6 + 6 + 6 * 3 + 3


def test_train_mode_runs_the_aux_head_and_its_backward():
    train, evaluation = analyze_text(NET, mode="train"), analyze_text(NET)
    by_name = rows(train)
    assert all(by_name[name].active for name in AUX)
    assert by_name["aux.fc1"].flops == 2 * 4 * 6 and by_name["aux.fc1"].backward_weight_flops > 0
    assert train.total.flops == evaluation.total.flops + 2 * (4 * 6 + 6 * 3)
    assert train.total.params == evaluation.total.params
    assert rows(evaluation)["aux.fc1"].backward_flops == 0 and not rows(evaluation)["aux.fc1"].input_needs_grad


def test_eval_only_outputs_idle_in_train():
    report = analyze_text(NET.replace("mode: train", "mode: eval"), mode="train")
    assert not rows(report)["aux.fc2"].active and report.mode == "train"
    assert "runs only in eval mode" in rows(report)["aux.fc2"].notes[0]


def test_folding_keeps_the_mark():
    folded = {r.name: r for r in fold(analyze_text(NET), 1)}
    assert not folded["aux"].active and folded["aux"].flops == 0 and folded["aux"].params > 0
    assert folded["body"].active


def test_a_layer_no_output_uses_is_a_warning_naming_it():
    text = NET.replace("outputs: [fc, {name: aux.fc2, mode: train}]", "outputs: [fc]")
    report = analyze_text(text)
    warning = next(w for w in report.warnings if "no declared output" in w)
    assert warning.startswith("aux.0, aux.1, aux.fc1, aux.fc2: reach no declared output in any mode")
    assert rows(report)["aux.fc1"].flops == 2 * 4 * 6  # still counted: the twin runs it
    assert not any("no declared output" in w for w in analyze_text(NET).warnings)


def test_outputs_may_name_a_group_or_a_layer_path():
    graph = load_graph("net.yaml", text=NET.replace("aux.fc2", "aux"))
    assert [(n.name, mode) for n, mode in graph.outputs] == [("fc", "all"), ("aux.fc2", "train")]
    assert graph.output.name == "fc"


def test_json_gains_mode_outputs_and_active(tmp_path):
    data = json.loads(run_spec(tmp_path, NET, "flops", "--format", "json", "--mode", "train").stdout)
    assert data["mode"] == "train" and data["outputs"] == [{"name": "fc", "mode": "all"}, {"name": "aux.fc2", "mode": "train"}]
    assert all(layer["active"] for layer in data["layers"])
    data = json.loads(run_spec(tmp_path, NET, "flops", "--format", "json").stdout)
    assert [layer["name"] for layer in data["layers"] if not layer["active"]] == AUX


@pytest.mark.parametrize("command", ["params", "flops", "summary", "rf", "memory"])
def test_every_view_takes_mode_and_marks_idle_rows(tmp_path, command):
    result = run_spec(tmp_path, NET, command)
    assert result.exit_code == 0, result.output
    if command != "memory":
        assert "linear (train only)" in result.stdout
        assert "Mode eval: 4 layers (aux) run only in train mode" in result.stdout
    trained = run_spec(tmp_path, NET, command, "--mode", "train")
    assert trained.exit_code == 0 and "(train only)" not in trained.stdout


def test_markdown_and_csv_mark_idle_rows(tmp_path):
    markdown = run_spec(tmp_path, NET, "summary", "-f", "markdown").stdout
    assert "| linear (train only) |" in markdown and "- Mode eval: 4 layers" in markdown
    csv = run_spec(tmp_path, NET, "summary", "-f", "csv").stdout
    assert "aux.fc1,linear," in csv  # the plain type in a spreadsheet


@pytest.mark.parametrize("outputs, fragments", [
    ("outputs: []", ["net.yaml:15", "'outputs' must be a list"]),
    ("outputs: fc", ["'outputs' must be a list"]),
    ("outputs: [fc, {name: aux.fc2, mode: test}]", ["net.yaml:15", "output 2: mode must be train or eval, got 'test'"]),
    ("outputs: [{name: fc, mode: train}]", ["the first output is the net's main output"]),
    ("outputs: [fc, {mode: train}]", ["output 2: no 'name'"]),
    ("outputs: [fc, {name: aux, during: train}]", ["output 2: unknown key 'during'"]),
    ("outputs: [fc, aux.fc3]", ["output 'aux.fc3' is not a layer", "did you mean 'aux.fc2'"]),
    ("outputs: [fc, 3]", ["output 2 must be a layer name, got 3"]),
    ("outputs: [fc]\noutput: fc", ["give 'output' or 'outputs', not both"]),
])
def test_bad_outputs_are_one_clear_line(tmp_path, outputs, fragments):
    text = NET.replace("outputs: [fc, {name: aux.fc2, mode: train}]", outputs)
    assert_clean_error(run_spec(tmp_path, text), *fragments)


def test_an_unknown_mode_is_refused(tmp_path, capsys):
    from archcalc.cli import run

    (tmp_path / "net.yaml").write_text(NET)
    assert run(["params", str(tmp_path / "net.yaml"), "--mode", "test"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "--mode" in error and len(error.strip().splitlines()) == 1
    with pytest.raises(UsageError, match="unknown mode 'test'"):
        analyze_text(NET, mode="test")
    with pytest.raises(SpecError):
        load_graph("net.yaml", text=NET.replace("aux.fc2", "nope"))
