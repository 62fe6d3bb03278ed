"""Tables fit the terminal: lower-priority columns are left out (and a note says which), numbers
are never split over two lines, --columns picks the columns, and a console that cannot encode box
characters gets ASCII ones (issue 13)."""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from archcalc import analyze
from archcalc.cli import app
from archcalc.render import print_table

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def run(*args, columns=None):
    env = {"COLUMNS": str(columns)} if columns else None
    result = runner.invoke(app, [str(a) for a in args], env=env)
    assert result.exit_code == 0, result.output
    return result


def figures(view, net):
    """Every per-layer figure of the view, as the table writes it (thousands separated)."""
    data = json.loads(run(view, net, "-f", "json").stdout)
    keys = {"params": ("params",), "flops": ("macs", "flops"), "summary": ("params", "macs")}[view]
    return {f"{layer[k]:,}" for layer in data["layers"] for k in keys}


@pytest.mark.parametrize("view", ["summary", "params", "flops"])
@pytest.mark.parametrize("net", ["resnet18", "alexnet", "inception_v3"])
def test_80_columns_fit_and_keep_numbers_whole(view, net):
    result = run(view, net, columns=80)
    lines = result.stdout.splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert table and all(len(line) <= 80 for line in table)
    cells = {cell.strip() for line in table for cell in re.split(r"[┃│]", line)}
    separated = {c for c in cells if re.fullmatch(r"[\d,]+", c) and "," in c}
    assert separated and separated <= figures(view, net)  # whole figures only: no '118,013,9' fragment
    assert "118,013,952" in result.stdout or net != "resnet18" or view == "params"
    if result.stderr:
        assert result.stderr.startswith("left out to fit 80 columns: ")


def test_the_note_names_what_was_left_out():
    result = run("params", "resnet50", columns=80)
    assert result.stderr == ("left out to fit 80 columns: Type, Output, Weights, Bias, Buffers "
                             "(--columns chooses; a wider terminal shows all)\n")
    header = next(line for line in result.stdout.splitlines() if line.startswith("┃"))
    assert [h.strip() for h in header.strip("┃").split("┃")] == ["Layer", "Params", "Formula"]
    assert run("params", "resnet50").stderr == ""  # piped output is laid out wide: nothing left out


def test_columns_option_chooses_and_orders():
    result = run("summary", "resnet18", "--columns", "layer,macs,params,activations", columns=200)
    header = next(line for line in result.stdout.splitlines() if line.startswith("┃"))
    assert [h.strip() for h in header.strip("┃").split("┃")] == ["Layer", "MACs", "Params", "Activations"]
    csv_text = run("params", "resnet18", "--columns", "layer, flops ,params", "-f", "csv").stdout
    assert csv_text.splitlines()[0] == "Layer,FLOPs,Params"
    assert csv_text.splitlines()[-1] == "total,,11689512"


def test_chosen_columns_are_all_shown_and_numbers_stay_whole_even_when_narrow():
    result = run("flops", "resnet18", "--columns", "layer,type,output,macs,flops,ops", columns=60)
    assert result.stderr == ""
    assert "118,013,952" in result.stdout and "236,027,904" in result.stdout


@pytest.mark.parametrize("columns, message", [
    ("layer,bogus", "--columns: unknown column 'bogus' (columns: layer, type, output, weights, bias, params"),
    (",", "--columns needs at least one column"),
])
def test_bad_columns_are_one_line(columns, message):
    result = runner.invoke(app, ["params", "lenet5", "--columns", columns])
    assert result.exit_code == 2 and result.output.startswith("error: " + message) and result.output.count("\n") == 1


def test_a_terminal_80_wide_gets_the_fitted_table():
    """The terminal path (rich console, styled header) fits the same way."""
    out = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    hidden = print_table(analyze("resnet18"), analyze("resnet18").rows, "summary", out)
    assert hidden == ["Type", "Formula", "Stride", "Activations"]
    assert all(len(line) <= 80 for line in out.file.getvalue().splitlines())
    assert "118,013,952" in out.file.getvalue()


def legacy_console(*args):
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "PYTHONPATH": str(ROOT)}
    env.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "archcalc", *args], capture_output=True, cwd=ROOT, env=env)


def test_cp1252_stdout_gets_ascii_tables():
    result = legacy_console("params", "lenet5")
    assert result.returncode == 0, result.stderr.decode("cp1252")
    text = result.stdout.decode("cp1252")
    assert "Traceback" not in text and text.splitlines()[1].startswith("+---") and "| c1.conv " in text
    assert "61,706" in text


def test_cp1252_shows_unencodable_names_as_escapes(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text('name: "网络"\ninput: 3x8x8\nlayers: [relu]\n', encoding="utf-8")
    for command in ("summary", "memory"):
        result = legacy_console(command, str(spec))
        assert result.returncode == 0, result.stderr.decode("cp1252")
        assert "\\u7f51\\u7edc" in result.stdout.decode("cp1252")
