"""Names reach terminals, spreadsheets and Markdown pages inert (issue 13)."""

import csv
import io

import pytest

from archcalc import analyze_text
from archcalc.render import render
from archcalc.render.escape import markdown_cell, markdown_text, spreadsheet_safe, strong, visible
from archcalc.render.writers import csv_text, markdown_table


@pytest.mark.parametrize("text, shown", [
    ("conv1", "conv1"),
    ("\x1b[2J", "\\x1b[2J"),
    ("\x1b]8;;http://evil\x07link", "\\x1b]8;;http://evil\\x07link"),  # OSC hyperlink
    ("a\nb\rc\td", "a\\nb\\rc\\td"),
    ("\x9b31m", "\\x9b31m"),  # C1 CSI
    ("\x7f", "\\x7f"),
    ("rtl\u202eoops", "rtl\\u202eoops"),  # bidi override
    ("para\u2029graph", "para\\u2029graph"),
    ("层 é ß", "层 é ß"),  # letters of any script stay
])
def test_visible(text, shown):
    assert visible(text) == shown


@pytest.mark.parametrize("text, cell", [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "\\tx"), ("\rx", "\\rx"),  # shown as escapes, so no longer a formula start
    ("conv1", "conv1"), ("a=b", "a=b"),
])
def test_spreadsheet_safe(text, cell):
    assert spreadsheet_safe(text) == cell


def test_markdown_escapes():
    assert markdown_text("<script>&x") == "&lt;script&gt;&amp;x"
    assert markdown_cell("a|b") == "a\\|b"
    assert markdown_cell("line\nbreak") == "line\\\\nbreak"  # the escape's backslash is itself escaped
    assert markdown_text("*x* `y` \\") == "\\*x\\* \\`y\\` \\\\"
    assert markdown_cell(strong("total")) == "**total**"


def test_csv_writer_neutralises_headers_and_name_columns_only():
    text = csv_text(["Figure", "=net"], [["=1+1", "-", "-3"]], names=[0])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["Figure", "'=net"], ["'=1+1", "-", "-3"]]


def test_markdown_table_cannot_be_broken():
    lines = markdown_table(["Layer", "n"], [False, True], [["a|b\n<i>", "1"]])
    assert lines[2] == "| a\\|b\\\\n&lt;i&gt; | 1 |"
    assert all(line.count("|") - line.count("\\|") == 3 for line in lines)


@pytest.fixture
def report():
    report = analyze_text("name: net\ninput: 3x8x8\nlayers:\n  - {name: c, type: conv2d, out: 2, kernel: 3}\n  - relu\n")
    report.name = "=evil|<b>\x1b[31m"
    report.rows[0].name = "=HYPERLINK(\"http://x\")"
    report.rows[1].name = "@a|b\x1b]0;t\x07"
    return report


def test_view_csv_names_are_spreadsheet_safe(report):
    rows = list(csv.DictReader(io.StringIO(render(report, report.rows, "params", "csv"))))
    assert rows[0]["Layer"] == "'=HYPERLINK(\"http://x\")"
    assert rows[1]["Layer"] == "'@a|b\\x1b]0;t\\x07"
    assert rows[0]["Type"] == "conv2d" and rows[0]["Params"] == "56"


def test_view_markdown_names_are_escaped(report):
    text = render(report, report.rows, "summary", "markdown")
    assert text.startswith("## =evil|&lt;b&gt;\\\\x1b[31m\n")  # a '|' outside a table is text
    assert "\x1b" not in text and "<b>" not in text
    assert "| @a\\|b\\\\x1b]0;t\\\\x07 |" in text
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len({line.count("|") - line.count("\\|") for line in table}) == 1  # every row has the same cells
