"""The fast table renderer draws exactly what rich's Table draws whenever the table fits; it hands
wider tables to rich, which folds cells."""

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table

from archcalc.render.boxtable import draw, fits, print_box_table

# cells as archcalc writes them: no leading or trailing blanks (rich would strip those)
cell = st.text(alphabet=st.sampled_from("abcxyz0123456789,.-_ =()/"), max_size=14).map(str.strip)


def rich_text(title, headers, right, rows, width):
    console = Console(file=io.StringIO(), width=width)
    table = Table(title=title, header_style="bold")
    for header, flush_right in zip(headers, right):
        table.add_column(header, justify="right" if flush_right else "left", overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table, markup=False, highlight=False, emoji=False)
    return console.file.getvalue()


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
    if title is not None and not title.strip():
        title = None
    expected = rich_text(title, headers, right, rows, width)
    out = Console(file=io.StringIO(), width=width)
    print_box_table(out, title, headers, right, rows)
    assert out.file.getvalue() == expected  # the fast drawing or rich's own when it does not fit
    if fits(title, headers, rows, width):
        assert "\n".join(draw(title, headers, right, rows)) + "\n" == expected


def test_wide_tables_fold_as_rich_does():
    rows = [["layer" * 8, "1" * 40]]
    out = Console(file=io.StringIO(), width=40)
    print_box_table(out, "t", ["Layer", "Params"], [False, True], rows)
    assert not fits("t", ["Layer", "Params"], rows, 40)
    assert max(len(line) for line in out.file.getvalue().splitlines()) <= 40
