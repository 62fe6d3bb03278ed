"""The README's spec example must run and mean what it says."""

import contextlib
import io
import re
from pathlib import Path

import pytest

import archcalc
from archcalc import analyze_text
from archcalc.errors import ArchcalcError

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_spec_example_analyses():
    text = README.read_text()
    example = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    report = analyze_text(example)
    names = [r.name for r in report.rows]
    assert "block0.conv1" in names and "block1.add" in names and "down.downsample.0" in names
    # no projection where the stride is 1
    assert not any(n.startswith("block0.downsample") for n in names)
    assert report.output == (10,)
    assert report.final_rf.kind == "whole"


def test_readme_test_command_is_what_ci_runs():
    ci = (README.parent / ".ci" / "run").read_text()
    command = "bash tools/test.sh"  # the whole set-up (torch, extras, chromium), then pytest
    assert f"```sh\n{command}\n```" in README.read_text() and f"\n{command}\n" in ci


def test_readme_links_point_at_existing_docs():
    links = re.findall(r"\]\(([^)#]+\.md)\)", README.read_text())
    assert links, "the README links the docs"
    missing = [link for link in links if not (README.parent / link).is_file()]
    assert not missing, f"README links to missing files: {missing}"


def test_readme_python_example_prints_what_its_comments_say():
    example = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    expected = [line.split("#", 1)[1].strip() for line in example.splitlines() if line.startswith("print(")]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, "README.md", "exec"), {})
    assert out.getvalue().splitlines() == expected and len(expected) == 3


def test_readme_documents_the_python_api():
    text = README.read_text()
    for name in ("analyze", "analyze_text", "load", "to_torch"):
        assert f"`archcalc.{name}(" in text, name
        assert callable(getattr(archcalc, name))


@pytest.mark.parametrize("shape", ["3x512x512", (3, 512, 512), [3, 512, 512], "3 x 512 x 512"])
def test_analyze_accepts_shapes_as_text_or_sequence(shape):
    report = archcalc.analyze("resnet50", input_shape=shape)
    assert report.input == (3, 512, 512) and report.rows[0].output == (64, 256, 256)


@pytest.mark.parametrize("kwargs, message", [
    ({"input_shape": "3x512x512x1x1"}, "input_shape must have 3 dimensions"),
    ({"input_shape": "abc"}, "input_shape 'abc' is not of the form CxHxW"),
    ({"input_shape": (3, 0, 5)}, "input_shape sizes must be positive"),
    ({"input_shape": 3.5}, "input_shape must be CxHxW"),
    ({"batch": 0}, "batch must be a whole number from 1"),
    ({"batch": "4"}, "batch must be a whole number from 1"),
])
def test_analyze_bad_input_is_an_archcalc_error(kwargs, message):
    with pytest.raises(ArchcalcError, match=re.escape(message)):
        archcalc.analyze("resnet50", **kwargs)


def test_load_applies_a_text_shape_to_a_graph_too():
    graph = archcalc.load("lenet5")
    assert archcalc.load(graph, input_shape="1x64x64").input_shape == (1, 64, 64)
    assert archcalc.analyze_text("input: 3x8x8\nlayers: [relu]", input_shape="1x4x4").input == (1, 4, 4)


def test_readme_options_exist():
    """Every --option the README's command section names is one the CLI has."""
    from typer.testing import CliRunner

    from archcalc.cli import app

    section = README.read_text().split("## Commands", 1)[1].split("## Python API", 1)[0]
    options = set(re.findall(r"(--[a-z][a-z-]+)", section))
    assert {"--input", "--layout", "--columns", "--format", "--version", "--depth", "--batch", "--pass"} <= options
    helps = "".join(CliRunner().invoke(app, [*command, "--help"]).output
                    for command in ([], ["summary"], ["conv"], ["memory"], ["export"], ["flops"], ["verify"],
                                    ["plot"], ["rf"]))
    assert not {o for o in options if o not in helps}
