"""The README's spec example must run and mean what it says."""

import re
from pathlib import Path

from archcalc import analyze_text

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
    command = 'pip install ".[test]" && python -m pytest'
    assert command in README.read_text() and command in ci


def test_readme_links_point_at_existing_docs():
    links = re.findall(r"\]\(([^)#]+\.md)\)", README.read_text())
    assert links, "the README links the docs"
    missing = [link for link in links if not (README.parent / link).is_file()]
    assert not missing, f"README links to missing files: {missing}"
