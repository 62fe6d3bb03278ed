"""The fast table renderer draws exactly what rich's Table draws whenever the table fits (less the
blanks rich leaves after the title); wider tables fold their text columns, never a number; control
characters never reach the console raw; a console that cannot encode box rules gets ASCII ones."""

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table

from archcalc.render.boxtable import ascii_only, draw, fits, foldable, print_box_table

# cells as archcalc writes them: no leading or trailing blanks (rich would strip those)
cell = st.text(alphabet=st.sampled_from("abcxyz0123456789,.-_ =()/"), max_size=14).map(str.strip)


def rich_text(title, headers, right, rows, width, file=None):
    console = Console(file=file or io.StringIO(), width=width)
    table = Table(title=title, header_style="bold")
    for header, flush_right in zip(headers, right):
        table.add_column(header, justify="right" if flush_right else "left", overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table, markup=False, highlight=False, emoji=False)
    return console.file.getvalue() if file is None else None


def stripped(text):
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


@st.composite
def tables(draw_):
    columns = draw_(st.integers(1, 6))
    headers = draw_(st.lists(cell.filter(bool), min_size=columns, max_size=columns))
    right = draw_(st.lists(st.booleans(), min_size=columns, max_size=columns))
    rows = draw_(st.lists(st.lists(cell, min_size=columns, max_size=columns), max_size=6))
    title = draw_(st.one_of(st.none(), st.text(alphabet="abc -_", min_size=1, max_size=30)))
    return title, headers, right, rows


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(tables(), st.integers(20, 120))
def test_same_as_rich_when_it_fits(table, width):
    title, headers, right, rows = table
    title = title.strip() if title and title.strip() else None  # archcalc's titles carry no outer blanks
    out = Console(file=io.StringIO(), width=width)
    print_box_table(out, title, headers, right, rows)
    text = out.file.getvalue()
    if fits(title, headers, rows, width):
        expected = rich_text(title, headers, right, rows, width)
        assert text == stripped(expected)  # rich's lines, without the title's trailing blanks
        assert "\n".join(draw(title, headers, right, rows)) + "\n" == text
    assert all(line == line.rstrip() for line in text.splitlines()[:1])  # no trailing blanks after the title


def numbers_whole(text, numbers):
    return all(number in text for number in numbers)


def test_wide_tables_fold_text_but_never_numbers():
    rows = [["layer" * 8, "118,013,952"], ["conv", "52"]]
    out = Console(file=io.StringIO(), width=30)
    print_box_table(out, "t", ["Layer", "MACs"], [False, True], rows)
    text = out.file.getvalue()
    assert not fits("t", ["Layer", "MACs"], rows, 30) and foldable(["Layer", "MACs"], [False, True], rows, 30)
    assert max(len(line) for line in text.splitlines()) <= 30
    assert "118,013,952" in text  # whole, on one line
    assert text.splitlines()[0] == text.splitlines()[0].rstrip()


def test_too_wide_even_folded_is_drawn_whole():
    """When the numbers alone are wider than the console, the table keeps its natural width: the
    terminal wraps whole lines, and no number is cut."""
    rows = [["a", "1,000,000,000,000", "2,000,000,000,000"]]
    out = Console(file=io.StringIO(), width=30)
    print_box_table(out, None, ["L", "A", "B"], [False, True, True], rows)
    text = out.file.getvalue()
    assert "1,000,000,000,000" in text and "2,000,000,000,000" in text
    assert len(text.splitlines()) == 5


def test_control_characters_are_shown_escaped():
    rows = [["\x1b]8;;http://x\x07evil\x1b[2J", "1"]]
    out = Console(file=io.StringIO(), width=80)
    print_box_table(out, "net\x1b[31m", ["Layer", "P"], [False, True], rows)
    text = out.file.getvalue()
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]8;;http://x\\x07evil\\x1b[2J" in text and "net\\x1b[31m" in text
    folded = Console(file=io.StringIO(), width=20)
    print_box_table(folded, "net\x1b", ["Layer", "P"], [False, True], rows)
    assert "\x1b" not in folded.file.getvalue()


def test_ascii_rules_match_rich_on_a_legacy_encoding():
    headers, right, rows = ["Layer", "Params"], [False, True], [["conv1", "9,408"], ["fc", "513,000"]]
    assert ascii_only("cp1252") and ascii_only("ascii") and not ascii_only("utf-8") and not ascii_only(None)
    buffer = io.BytesIO()
    file = io.TextIOWrapper(buffer, encoding="cp1252")
    rich_text("net - params", headers, right, rows, 60, file)
    file.flush()
    expected = stripped(buffer.getvalue().decode("cp1252"))
    assert "+" in expected and "┃" not in expected
    assert "\n".join(draw("net - params", headers, right, rows, ascii=True)) + "\n" == expected
    legacy = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    console = Console(file=legacy, width=60)
    print_box_table(console, "net - params", headers, right, rows)  # no UnicodeEncodeError
    legacy.flush()
    assert legacy.buffer.getvalue().decode("cp1252") == expected
