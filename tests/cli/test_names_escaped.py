"""A spec's net name is user text: it must not run in a spreadsheet, break a Markdown table, drive
the terminal or be read as rich markup, whatever the command and format (issue 13)."""

import csv
import io

import pytest
from typer.testing import CliRunner

from archcalc.cli import app

runner = CliRunner()
EVIL = '=HYPERLINK("http://x")|<b>&\x1b]0;pwned\x07\x1b[2J[/x]\nnext'
SPEC = "input: 3x8x8\nlayers:\n  - {name: conv, type: conv2d, out_channels: 2, kernel_size: 3}\n  - relu\n"


def spec_named(tmp_path, name):
    path = tmp_path / "net.yaml"
    quoted = name.replace("\\", "\\\\").replace('"', '\\"').replace("\x1b", "\\e").replace("\x07", "\\a").replace("\n", "\\n")
    path.write_text(f'name: "{quoted}"\n' + SPEC)
    return str(path)


def run(*args, env=None):
    result = runner.invoke(app, [str(a) for a in args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("args", [("params",), ("summary",), ("flops",), ("rf",), ("memory",), ("compare", "lenet5")])
@pytest.mark.parametrize("columns", [None, "40"])  # drawn fast, or laid out by rich (folding)
def test_terminal_never_gets_control_characters(tmp_path, args, columns):
    env = {"COLUMNS": columns} if columns else None
    out = run(args[0], spec_named(tmp_path, EVIL), *args[1:], env=env)
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07" in out.replace("\n", "")


@pytest.mark.parametrize("name", ["[/x]", "[bold]net[/bold]", "[link=http://x]n[/link]"])
def test_names_are_never_markup(tmp_path, name):
    for args in (("memory",), ("compare", "lenet5"), ("summary",)):
        out = run(args[0], spec_named(tmp_path, name), *args[1:], env={"COLUMNS": "60"})
        assert name in out, args  # shown as written, not parsed (and no MarkupError)


def test_compare_csv_header_cells_are_spreadsheet_safe(tmp_path):
    out = run("compare", spec_named(tmp_path, "=1+1"), "lenet5", "-f", "csv")
    header = next(csv.reader(io.StringIO(out)))
    assert header == ["Figure", "'=1+1", "lenet5"]
    out = run("compare", "lenet5", spec_named(tmp_path, "@SUM(A1)"), "-f", "csv")
    assert next(csv.reader(io.StringIO(out)))[2] == "'@SUM(A1)"


def test_markdown_titles_and_cells_are_escaped(tmp_path):
    spec = spec_named(tmp_path, EVIL)
    for args in (("params", spec), ("memory", spec), ("compare", spec, "lenet5")):
        out = run(*args, "-f", "markdown")
        assert "<b>" not in out and "\x1b" not in out and "&lt;b&gt;&amp;" in out, args
        table = [line for line in out.splitlines() if line.startswith("|")]
        assert len({line.count("|") - line.count("\\|") for line in table}) == 1, args


def test_error_messages_show_escapes_on_one_line():
    result = runner.invoke(app, ["params", "\x1b]0;pwned\x07\nnet.yaml"])
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert result.output.count("\n") == 1 and result.output.startswith("error: \\x1b]0;pwned\\x07\\nnet.yaml")
