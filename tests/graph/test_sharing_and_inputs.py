"""Several inputs (``inputs: {left: ..., right: ...}``) and weight sharing (``shares: conv1``):
parameters counted once, MACs per use, shapes and arguments checked, one clear error for each
mistake (docs/spec.md, "Several inputs and weight sharing")."""

import pytest

from archcalc import analyze_text
from archcalc.errors import ShapeError, SpecError
from archcalc.graph import load_graph
from cli_checks import assert_clean_error, run_spec

SIAMESE = """\
name: siamese
inputs: {left: 3x16x16, right: 3x16x16}
layers:
  - {name: conv1, type: conv2d, inputs: left, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: conv1_r, shares: conv1, inputs: right}
  - {name: both, type: concat, inputs: [conv1, conv1_r]}
  - {name: pool, type: global_avgpool2d}
  - {name: flatten, type: flatten}
  - {name: fc, type: linear, out_features: 2}
"""
SHARED_CONV = 3 * 3 * 3 * 4 + 4


def rows(report):
    return {row.name: row for row in report.rows}


def test_shared_weights_count_once_and_macs_per_use():
    report = analyze_text(SIAMESE)
    by = rows(report)
    assert by["conv1"].params == SHARED_CONV and by["conv1_r"].params == 0
    assert by["conv1_r"].macs == by["conv1"].macs == 16 * 16 * 4 * 27
    assert report.total.params == SHARED_CONV + 8 * 2 + 2
    assert by["conv1_r"].type == "conv2d" and by["conv1_r"].backward_weight_flops == by["conv1"].backward_weight_flops


def test_the_other_input_is_a_row_layers_read_by_name():
    report = analyze_text(SIAMESE)
    by = rows(report)
    assert by["right"].type == "input" and by["right"].output == (3, 16, 16) and by["right"].params == 0
    assert by["conv1_r"].inputs == ["right"] and by["conv1"].inputs == ["input"]


def test_input_sets_the_main_input_and_the_inputs_declared_like_it():
    report = analyze_text(SIAMESE, input_shape=(3, 32, 24))
    assert rows(report)["right"].output == (3, 32, 24) and rows(report)["conv1_r"].output == (4, 32, 24)
    other = "inputs: {image: 3x16x16, mask: 1x16x16}\nlayers:\n  - {type: relu}\n  - {name: m, type: relu, inputs: mask}\n"
    by = rows(analyze_text(other, input_shape=(3, 32, 32)))
    assert by["0"].output == (3, 32, 32) and by["mask"].output == (1, 16, 16)


def test_a_shared_layer_with_a_wrong_input_is_one_error():
    text = SIAMESE.replace("inputs: {left: 3x16x16, right: 3x16x16}", "inputs: {left: 3x16x16, right: 1x16x16}")
    with pytest.raises(ShapeError, match="shares the module of 'conv1', but its input needs weight 3x3x1x4"):
        analyze_text(text)


@pytest.mark.parametrize("entry, message", [
    ("{name: conv1_r, shares: conv1, inputs: right, type: relu}", "is a relu but shares the module of 'conv1', a conv2d"),
    ("{name: conv1_r, shares: conv1, inputs: right, kernel_size: 5}", "sets kernel_size (5, 5) (conv1 has (3, 3))"),
    ("{name: conv1_r, shares: conv1, inputs: right, kernal_size: 3}", "did you mean 'kernel_size'"),
    ("{name: conv1_r, shares: conv9, inputs: right}", "unknown layer 'conv9'"),
    ("{name: conv1_r, shares: conv1_r, inputs: right}", "cycle"),
    ("{name: conv1_r, shares: right, inputs: right}", "'shares' must name a layer"),
    ("{name: conv1_r, shares: conv1, inputs: rigth}", "did you mean 'right'"),
    ("{name: conv1_r, shares: conv1, inputs: right, layers: [relu]}", "'layers' does not go with 'shares'"),
])
def test_sharing_mistakes_are_one_clear_line(tmp_path, entry, message):
    text = SIAMESE.replace("{name: conv1_r, shares: conv1, inputs: right}", entry)
    assert_clean_error(run_spec(tmp_path, text, "params"), message, "net.yaml:5")


def test_a_stated_argument_equal_to_the_owners_is_accepted():
    text = SIAMESE.replace("shares: conv1, inputs: right}", "shares: conv1, inputs: right, type: conv, k: 3, padding: 1}")
    assert rows(analyze_text(text))["conv1_r"].params == 0


def test_a_chain_of_sharing_leads_to_the_owner_and_a_group_is_refused():
    text = SIAMESE.replace("  - {name: both", "  - {name: conv1_s, shares: conv1_r, inputs: left}\n  - {name: both")
    graph = load_graph("net.yaml", text=text)
    assert next(n for n in graph.nodes if n.name == "conv1_s").shares.name == "conv1"
    grouped = SIAMESE.replace("  - {name: conv1, type: conv2d, inputs: left, out_channels: 4, kernel_size: 3, padding: 1}",
                              "  - {name: conv1, inputs: left, layers: [{type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}]}")
    with pytest.raises(SpecError, match="must name a layer"):
        load_graph("net.yaml", text=grouped)


def test_sharing_within_one_input_and_a_dotted_path():
    text = """\
input: 3x8x8
layers:
  - name: stem
    layers: [{name: conv, type: conv2d, out_channels: 3, kernel_size: 3, padding: 1}]
  - {name: again, shares: stem.conv}
"""
    report = analyze_text(text)
    assert report.total.params == 3 * 3 * 3 * 3 + 3 and report.total.macs == 2 * 8 * 8 * 3 * 27


@pytest.mark.parametrize("inputs, message", [
    ("{}", "'inputs' must map input names to shapes"),
    ("[3x8x8]", "'inputs' must map input names to shapes"),
    ("{input: 3x8x8}", "must be a plain name"),
    ("{a-b: 3x8x8}", "must be a plain name"),
    ("{left: 3xAx8}", "net.yaml:2"),
])
def test_bad_inputs_are_one_clear_line(tmp_path, inputs, message):
    text = SIAMESE.replace("{left: 3x16x16, right: 3x16x16}", inputs)
    assert_clean_error(run_spec(tmp_path, text, "params"), message)


def test_input_and_inputs_together_and_a_layer_named_like_an_input(tmp_path):
    assert_clean_error(run_spec(tmp_path, "input: 3x8x8\n" + SIAMESE, "params"), "give 'input' or 'inputs', not both")
    clash = SIAMESE.replace("name: both", "name: right")
    assert_clean_error(run_spec(tmp_path, clash, "params"), "two layers are named 'right'")
