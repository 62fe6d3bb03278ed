"""`flops --convention` and `compare --convention`: the views, the JSON contract's new keys (the
existing ones unchanged) and the one-line errors."""

import csv
import io
import json

from typer.testing import CliRunner

from archcalc.cli import app
from archcalc.layers.conventions import CONVENTIONS
from cli_checks import assert_clean_error

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_all_is_one_table_a_column_per_tool_a_row_per_type():
    result = run("flops", "resnet50", "--convention", "all")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "Type" in line)
    assert all(name in header for name in CONVENTIONS)
    for type_name in ("conv2d", "batchnorm2d", "linear", "total"):
        assert any(line.strip("│| ").startswith(type_name) for line in result.stdout.splitlines())
    for total in ("4,089,238,376", "4,111,512,576", "4,133,742,592"):  # torchinfo, fvcore, thop print these
        assert total in result.stdout
    assert sum(line.startswith(f"{name} counts ") for line in result.stdout.splitlines() for name in CONVENTIONS) \
        == len(CONVENTIONS)


def test_one_tool_is_per_layer_with_its_total():
    result = run("flops", "resnet18", "--convention", "thop", "-f", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["Layer", "Type", "thop (MACs)"]
    assert rows[1] == ["conv1", "conv2d", str(64 * 112 * 112 * 3 * 7 * 7)]
    assert rows[-1][0] == "total" and int(rows[-1][2]) == sum(int(r[2]) for r in rows[1:-1])


def test_depth_folds_a_tools_counts():
    flat = json.loads(run("flops", "resnet18", "--convention", "fvcore", "-f", "json").stdout)
    folded = json.loads(run("flops", "resnet18", "--convention", "fvcore", "-f", "json", "-d", "1").stdout)
    layer1 = next(layer for layer in folded["layers"] if layer["name"] == "layer1")
    assert layer1["conventions"]["fvcore"] == sum(layer["conventions"]["fvcore"] for layer in flat["layers"]
                                                   if layer["name"].startswith("layer1."))


def test_json_gains_keys_and_keeps_the_others():
    plain = json.loads(run("flops", "googlenet", "-f", "json").stdout)
    counted = json.loads(run("flops", "googlenet", "--convention", "all", "-f", "json").stdout)
    for key, value in plain.items():
        if key == "layers":
            for before, after in zip(value, counted["layers"]):
                assert {k: v for k, v in after.items() if k != "conventions"} == before
        elif key == "total":
            assert {k: v for k, v in counted["total"].items() if k != "conventions"} == value
        else:
            assert counted[key] == value
    assert set(counted["total"]["conventions"]) == set(CONVENTIONS)
    assert counted["conventions"]["thop"]["total"] == counted["total"]["conventions"]["thop"]
    assert sum(t["torchinfo"] for t in counted["conventions_by_type"].values()) == counted["total"]["conventions"]["torchinfo"]


def test_markdown_lists_what_each_counts():
    text = run("flops", "alexnet", "--convention", "torchinfo,fvcore", "-f", "markdown").stdout
    assert "| Type | torchinfo | fvcore |" in text and "- torchinfo counts mult-adds:" in text


def test_unknown_convention_and_other_passes_are_one_line_errors():
    assert_clean_error(run("flops", "resnet18", "--convention", "flopz"), "unknown convention 'flopz'")
    assert_clean_error(run("flops", "resnet18", "--convention", "thop", "--pass", "backward"), "forward pass")
    assert_clean_error(run("compare", "resnet18", "alexnet", "--convention", "nope"), "unknown convention")


def test_compare_gains_the_tools_totals():
    data = json.loads(run("compare", "resnet18", "resnet50", "-f", "json").stdout)
    assert data["nets"][1]["conventions"]["fvcore"] == 4_111_512_576
    assert set(data["nets"][0]["conventions"]) == set(CONVENTIONS)
    plain = list(csv.reader(io.StringIO(run("compare", "resnet18", "resnet50", "-f", "csv").stdout)))
    rows = list(csv.reader(io.StringIO(run("compare", "resnet18", "resnet50", "-f", "csv", "--convention", "thop").stdout)))
    assert rows[:len(plain)] == plain and rows[-1] == ["thop (MACs)", "1824033792", "4133742592"]


def test_all_fits_80_columns_in_several_tables_never_splitting_a_number():
    import re
    import subprocess
    import sys

    env = {"COLUMNS": "80", "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run([sys.executable, "-m", "archcalc", "flops", "resnet50", "--convention", "all"],
                         capture_output=True, text=True, env=env, check=True).stdout
    table = [line for line in out.splitlines() if line[:1] in "┏┃┡│└"]
    assert table and all(len(line) <= 80 for line in table)
    headers = " ".join(line for line in table if line.startswith("┃"))
    assert all(name in headers for name in CONVENTIONS)  # every tool, none left out
    totals = [line for line in table if line.strip("│ ").startswith("total")]
    numbers = [n for line in totals for n in re.findall(r"[\d,]{5,}", line)]
    assert len(numbers) == len(CONVENTIONS) and all(re.fullmatch(r"\d{1,3}(,\d{3})*", n) for n in numbers)


def test_a_cp1252_console_gets_plain_ascii():
    import subprocess
    import sys

    env = {"COLUMNS": "80", "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "cp1252"}
    out = subprocess.run([sys.executable, "-m", "archcalc", "flops", "lenet5", "--convention", "torchinfo,thop"],
                         capture_output=True, env=env, check=True).stdout
    assert out.isascii() and b"\\u25" not in out and b"+--" in out
