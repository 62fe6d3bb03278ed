"""References across scopes (a dotted path into a group, a sequential group's reference to a name
outside it), alternatives of one name chosen by ``when``, outputs with ``when``, and the input's
sizes in expressions: what the segmentation nets (segmentation.yaml) are written with."""

import pytest

from archcalc import analyze_text
from archcalc.errors import SpecError
from archcalc.graph import load_graph
from cli_checks import assert_clean_error, run_spec

TRUNK = """\
input: 3x16x16
layers:
  - name: backbone
    layers:
      - {name: stem, type: conv2d, out_channels: 4, kernel_size: 3, stride: 2, padding: 1}
      - name: layer1
        layers:
          - {name: conv, type: conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
"""


def producers(graph, name):
    return [p.name if p is not None else None for p in next(n for n in graph.nodes if n.name == name).inputs]


def test_a_dotted_path_reads_a_layer_inside_a_sibling_group():
    text = TRUNK + "  - {name: head, type: conv2d, inputs: backbone.stem, out_channels: 2, kernel_size: 1}\n"
    graph = load_graph("net.yaml", text=text)
    assert producers(graph, "head") == ["backbone.stem"]


def test_a_dotted_path_to_a_group_stands_for_its_output():
    text = TRUNK + "  - {name: head, type: relu, inputs: backbone.layer1}\n"
    assert producers(load_graph("net.yaml", text=text), "head") == ["backbone.layer1.conv"]


def test_a_sequential_group_reads_names_outside_it():
    text = TRUNK + """\
  - name: classifier
    layers:
      - {name: high, type: conv2d, out_channels: 2, kernel_size: 1}
      - {name: low, type: conv2d, inputs: backbone.stem, out_channels: 2, kernel_size: 1}
      - {name: up, type: upsample, inputs: high, scale_factor: 2}
      - {name: add, type: add, inputs: [low, up]}
"""
    graph = load_graph("net.yaml", text=text)
    assert producers(graph, "classifier.low") == ["backbone.stem"]
    assert producers(graph, "classifier.high") == ["backbone.layer1.conv"]
    assert analyze_text(text).output == (2, 8, 8)


def test_a_block_body_does_not_see_the_callers_names():
    text = TRUNK.replace("layers:\n  - name: backbone", """\
blocks:
  head: {layers: [{type: relu, inputs: backbone}]}
layers:
  - name: backbone""", 1) + "  - {name: h, type: head}\n"
    with pytest.raises(SpecError, match="unknown layer 'backbone'"):
        load_graph("net.yaml", text=text)


@pytest.mark.parametrize("ref, message", [
    ("backbone.nothing", "'backbone' has no layer 'nothing'"),
    ("backbone.stem.weight", "'backbone.stem' is not a group of layers"),
    ("nowhere.stem", "unknown layer 'nowhere.stem'"),
    ("backbone..stem", "may only hold letters"),
])
def test_a_bad_path_is_one_clear_error(tmp_path, ref, message):
    text = TRUNK + f"  - {{name: head, type: relu, inputs: '{ref}'}}\n"
    result = run_spec(tmp_path, text, "params")
    assert_clean_error(result, message, "net.yaml:9")


ALTERNATIVES = """\
input: 3x16x16
args: {wide: false}
layers:
  - {name: trunk, type: conv2d, when: not wide, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: trunk, type: conv2d, when: wide, out_channels: 16, kernel_size: 3, padding: 1}
  - {name: head, type: relu, inputs: trunk}
"""


@pytest.mark.parametrize("wide, channels", [(False, 4), (True, 16)])
def test_when_chooses_one_of_several_entries_of_a_name(wide, channels):
    report = analyze_text(ALTERNATIVES, args={"wide": wide})
    assert report.output == (channels, 16, 16)
    assert [r.name for r in report.rows] == ["trunk", "head"]


def test_two_kept_entries_of_one_name_are_still_refused():
    text = ALTERNATIVES.replace("when: not wide, ", "")
    with pytest.raises(SpecError, match="two layers are named 'trunk'"):
        analyze_text(text, args={"wide": True})


def test_a_left_out_entry_may_name_a_path_that_does_not_exist():
    """Its reference only matters if a layer reads through its name."""
    text = TRUNK + "  - {name: aux, type: relu, when: false, inputs: backbone.layer3}\n"
    assert [n.name for n in load_graph("net.yaml", text=text).nodes][-1] == "backbone.layer1.conv"
    read = text + "  - {name: tail, type: relu, inputs: aux}\n"
    with pytest.raises(SpecError, match="'backbone' has no layer 'layer3'"):
        load_graph("net.yaml", text=read)


OUTPUTS = "args: {aux: false}\n" + TRUNK + """\
  - {name: head, type: conv2d, out_channels: 2, kernel_size: 1}
  - {name: side, type: conv2d, when: aux, inputs: backbone.stem, out_channels: 2, kernel_size: 1}
outputs: [head, {name: side, when: aux}]
"""


@pytest.mark.parametrize("aux, outputs", [(False, ["head"]), (True, ["head", "side"])])
def test_an_output_with_when_exists_only_when_it_holds(aux, outputs):
    graph = load_graph("net.yaml", text=OUTPUTS, settings={"aux": aux})
    assert [node.name for node, _ in graph.outputs] == outputs


def test_the_main_output_takes_no_when(tmp_path):
    text = OUTPUTS.replace("outputs: [head, {name: side, when: aux}]", "outputs: [{name: head, when: aux}]")
    assert_clean_error(run_spec(tmp_path, text, "params"), "main output", "'when'")


def test_an_outputs_when_must_be_true_or_false(tmp_path):
    text = OUTPUTS.replace("when: aux}]", "when: 3}]")
    assert_clean_error(run_spec(tmp_path, text, "params"), "'when' must be true or false")


RESIZE = """\
input: 3x20x30
layers:
  - {type: conv2d, out_channels: 4, kernel_size: 3, stride: 4, padding: 1}
  - {type: upsample, size: [input_height, input_width], mode: bilinear, align_corners: false}
"""


@pytest.mark.parametrize("shape", [(3, 20, 30), (3, 97, 131)])
def test_expressions_see_the_input_size(shape):
    assert analyze_text(RESIZE, input_shape=shape).output == (4, *shape[1:])


def test_a_net_argument_hides_an_input_size_name():
    text = RESIZE.replace("layers:", "args: {input_height: 7}\nlayers:", 1)
    assert analyze_text(text).output == (4, 7, 30)
