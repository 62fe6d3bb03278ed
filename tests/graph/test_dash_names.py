"""Layer names may hold '-' (torchvision's RegNet: trunk_output.block1.block1-0), so names mirror
named_modules(); a '-' in a name is never subtraction, in ``inputs`` or in a name template."""

import csv
import io

import pytest

from archcalc import analyze_text
from archcalc.graph import load_graph
from cli_checks import assert_clean_error, run_spec

SPEC = """\
input: 3x8x8
layers:
  - name: trunk_output
    layers:
      - name: block1
        layers:
          - {name: 'block1-{i}', type: conv2d, out_channels: 4, kernel_size: 3, padding: 1, repeat: 2}
  - {name: stem-relu, type: relu, inputs: input}
  - {name: a-b, type: conv2d, out_channels: 4, kernel_size: 1}
  - {name: add, type: add, inputs: [trunk_output, a-b]}
"""


def test_names_with_dashes_mirror_named_modules():
    graph = load_graph("net.yaml", text=SPEC)
    assert [n.name for n in graph.nodes] == ["trunk_output.block1.block1-0", "trunk_output.block1.block1-1",
                                             "stem-relu", "a-b", "add"]


def test_a_dashed_name_in_inputs_is_a_name_not_a_subtraction():
    graph = load_graph("net.yaml", text=SPEC)
    add = graph.nodes[-1]
    assert [p.name for p in add.inputs] == ["trunk_output.block1.block1-1", "a-b"]


def test_only_braces_in_a_template_are_expressions():
    text = "input: 3x8x8\nargs: {a: 5, b: 2}\nlayers:\n  - {name: 'a-b-{a - b}', type: relu}\n  - {type: relu, inputs: a-b-3}\n"
    graph = load_graph("net.yaml", text=text)
    assert [n.name for n in graph.nodes] == ["a-b-3", "1"]


@pytest.mark.parametrize("name", ["-a", "-", "a b", "a.b", "a+b"])
def test_other_characters_and_a_leading_dash_are_refused(tmp_path, name):
    text = f"input: 3x8x8\nlayers:\n  - {{name: '{name}', type: relu}}\n"
    assert_clean_error(run_spec(tmp_path, text), "net.yaml:3", "letters, digits, _ and - (not first)")


def test_a_dashed_reference_to_a_missing_layer_is_one_clear_error(tmp_path):
    text = "input: 3x8x8\nlayers:\n  - {name: a-b, type: relu}\n  - {type: relu, inputs: a-c}\n"
    assert_clean_error(run_spec(tmp_path, text), "net.yaml:4", "unknown layer 'a-c'", "did you mean 'a-b'")


@pytest.mark.parametrize("fmt", ["csv", "markdown", "json"])
def test_dashed_names_read_back_unchanged(tmp_path, fmt):
    from cli_checks import runner
    from archcalc.cli import app

    (tmp_path / "net.yaml").write_text(SPEC)
    result = runner.invoke(app, ["summary", str(tmp_path / "net.yaml"), "-f", fmt])
    assert result.exit_code == 0, result.output
    assert "trunk_output.block1.block1-0" in result.stdout and "stem-relu" in result.stdout
    if fmt == "csv":
        names = [row[0] for row in csv.reader(io.StringIO(result.stdout))]
        assert "a-b" in names


def test_dashed_names_are_counted_like_plain_ones():
    plain = analyze_text(SPEC.replace("1-", "1_").replace("m-r", "m_r").replace("a-b", "a_b"))
    dashed = analyze_text(SPEC)
    assert (dashed.total.params, dashed.total.flops) == (plain.total.params, plain.total.flops)
