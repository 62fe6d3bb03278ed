"""'trainable: false' on a group or a block call freezes every layer inside it; an inner layer's
own 'trainable: true' unfreezes that layer (the more specific setting wins, as
requires_grad_(True) on a submodule after requires_grad_(False) on its parent)."""

from archcalc import analyze_text
from archcalc.graph import load_graph
from cli_checks import assert_clean_error, run_spec

SPEC = """\
input: 3x8x8
blocks:
  unit:
    args: {width: null}
    layers:
      - {name: conv, type: conv2d, out_channels: width, kernel_size: 3, padding: 1}
      - {name: bn, type: batchnorm2d}
      - {name: inner, layers: [{name: conv, type: conv2d, out_channels: width, kernel_size: 1}]}
layers:
  - name: backbone
    trainable: false
    layers:
      - {name: stem, type: conv2d, out_channels: 4, kernel_size: 3}
      - {name: unit, type: unit, width: 4}
      - {name: bn, type: batchnorm2d, trainable: true}
  - {name: frozen_unit, type: unit, width: 4, trainable: false}
  - {name: live_unit, type: unit, width: 4}
  - {type: flatten}
  - {name: fc, type: linear, out_features: 10}
"""


def trainable(graph):
    return {n.name: n.trainable for n in graph.nodes if n.type_name != "flatten"}


def test_a_frozen_group_or_block_call_freezes_everything_inside():
    flags = trainable(load_graph("net.yaml", text=SPEC))
    assert flags == {
        "backbone.stem": False, "backbone.unit.conv": False, "backbone.unit.bn": False,
        "backbone.unit.inner.conv": False, "backbone.bn": True,  # its own true wins
        "frozen_unit.conv": False, "frozen_unit.bn": False, "frozen_unit.inner.conv": False,
        "live_unit.conv": True, "live_unit.bn": True, "live_unit.inner.conv": True, "fc": True,
    }


def test_totals_count_the_frozen_parameters_as_non_trainable():
    report = analyze_text(SPEC)
    frozen = sum(r.params for r in report.rows if r.name.startswith(("backbone.", "frozen_unit.")) and r.name != "backbone.bn")
    assert report.total.trainable == report.total.params - frozen
    assert report.total.params - report.total.trainable == frozen > 0


def test_frozen_layers_compute_no_weight_gradient():
    report = analyze_text(SPEC)
    rows = {r.name: r for r in report.rows}
    assert rows["backbone.stem"].backward_weight_flops == 0
    assert rows["frozen_unit.conv"].backward_weight_flops == 0
    assert rows["live_unit.conv"].backward_weight_flops > 0
    assert not rows["backbone.stem"].input_needs_grad  # nothing before it needs a gradient


def test_a_nested_group_may_unfreeze_a_part_of_a_frozen_one():
    text = """\
input: 3x8x8
layers:
  - name: g
    trainable: false
    layers:
      - {name: a, type: conv2d, out_channels: 2, kernel_size: 1}
      - {name: h, trainable: true, layers: [{name: b, type: conv2d, out_channels: 2, kernel_size: 1}]}
"""
    assert trainable(load_graph("net.yaml", text=text)) == {"g.a": False, "g.h.b": True}


def test_trainable_on_a_group_must_be_a_boolean(tmp_path):
    text = "input: 3x8x8\nlayers:\n  - name: g\n    trainable: 'no'\n    layers: [relu]\n"
    assert_clean_error(run_spec(tmp_path, text), "net.yaml:4", "layer 'g'", "'trainable' must be true or false")


def test_params_table_shows_the_frozen_total(tmp_path):
    result = run_spec(tmp_path, SPEC, "params", "--format", "json")
    import json

    total = json.loads(result.stdout)["total"]
    assert total["non_trainable"] == analyze_text(SPEC).total.non_trainable > 0
