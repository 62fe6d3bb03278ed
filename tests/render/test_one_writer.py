"""Issue 8: CSV, Markdown tables and JSON output are written in one place (render/writers.py),
so quoting and escaping cannot differ between commands; and the CLI/render/homework/figures code
keeps to the size limits (no function over 50 lines, no file over 400)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "archcalc"
WRITER = PACKAGE / "render" / "writers.py"
# spec text for the loader, not output: the one-line commands build their spec as JSON
# (and the parsed-spec cache's entries, which are the loader's data, not output)
SPEC_BUILDERS = {PACKAGE / "homework" / "notation.py", PACKAGE / "spec" / "speccache.py"}


def calls(path: Path, module: str, function: str) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == function
            and isinstance(node.func.value, ast.Name) and node.func.value.id == module]


def python_files():
    return sorted(PACKAGE.rglob("*.py"))


def test_one_csv_writer():
    sites = [f"{p.relative_to(PACKAGE)}:{line}" for p in python_files() for line in calls(p, "csv", "writer")]
    assert sites == ["render/writers.py:" + str(calls(WRITER, "csv", "writer")[0])]


def test_json_output_goes_through_the_writer():
    sites = [f"{p.relative_to(PACKAGE)}:{line}" for p in python_files() if p != WRITER and p not in SPEC_BUILDERS
             for line in calls(p, "json", "dumps")]
    assert not sites, f"write JSON output with render.writers.json_text: {sites}"


def test_markdown_tables_go_through_the_writer():
    """A Markdown table's alignment row ('|---') is written by markdown_table only."""
    found = []
    for path in python_files():
        if path == WRITER:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("|---"):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not found


@pytest.mark.parametrize("package", ["cli", "render", "homework", "figures"])
def test_size_limits(package):
    for path in sorted((PACKAGE / package).glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert source.count("\n") <= 400, path.name
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno - node.lineno < 50, f"{path.name}: {node.name}"
