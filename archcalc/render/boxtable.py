"""A fast plain-text table with the look of rich's default Table (box.HEAVY_HEAD, centred title).

rich lays out every cell through its measuring and wrapping machinery: about 0.45 s for the 515
rows of ResNet-152, more than the whole analysis. A table whose columns fit the console needs
none of that: each column is as wide as its widest cell. This module draws exactly what rich
draws in that case (the tests compare the two; only the title line loses rich's trailing blanks),
and callers fall back to rich's Table, which folds text cells, when the table is wider than the
console. Right-aligned columns hold numbers: they are never folded (a number split over two lines
reads as two numbers). Every string is shown with control characters escaped (render.escape), and
with ASCII rules when the console's encoding is not UTF (as rich does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

from .escape import visible


def cell_len(text: str) -> int:
    """rich's width of a text in terminal cells. Every text measured here is escaped first (see
    ``shown``: no control characters), so ASCII is one cell a character; rich, a tenth of a short
    command's run to import, is loaded only for other text."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len as rich_cell_len

    return rich_cell_len(text)


@dataclass(frozen=True)
class Rules:
    """The box characters: (left, line, joint, right) for the top, header rule and bottom lines."""

    top: tuple[str, str, str, str]
    head: str
    head_rule: tuple[str, str, str, str]
    body: str
    bottom: tuple[str, str, str, str]


HEAVY_HEAD = Rules(("┏", "━", "┳", "┓"), "┃", ("┡", "━", "╇", "┩"), "│", ("└", "─", "┴", "┘"))
ASCII = Rules(("+", "-", "-", "+"), "|", ("|", "-", "+", "|"), "|", ("+", "-", "-", "+"))  # rich's box.ASCII
FOLD_MIN = 10  # a folded text column keeps at least this many characters a line


def ascii_only(encoding: str | None) -> bool:
    """rich's rule: box characters only on a UTF console (cp1252 cannot encode them)."""
    return not (encoding or "utf-8").lower().startswith("utf")


def layout(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    """Each column's content width: its widest cell, header included."""
    widths = [cell_len(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            size = len(cell) if cell.isascii() else cell_len(cell)
            if size > widths[index]:
                widths[index] = size
    return widths


def table_width(widths: Sequence[int]) -> int:
    return sum(widths) + 3 * len(widths) + 1  # one space either side of a cell, plus the rules


def shown(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]]):
    """Title, headers and rows as they reach the screen: control characters escaped, the title
    without surrounding blanks."""
    title = visible(title).strip() if title else None
    return title or None, [visible(h) for h in headers], [[visible(c) for c in row] for row in rows]


def _line(cells: Sequence[str], widths: Sequence[int], right: Sequence[bool], rule: str) -> str:
    parts = []
    for cell, width, flush_right in zip(cells, widths, right):
        if cell.isascii():  # one cell a character (see cell_len): str's own padding
            parts.append(f" {cell.rjust(width)} " if flush_right else f" {cell.ljust(width)} ")
            continue
        pad = " " * (width - cell_len(cell))
        parts.append(f" {pad}{cell} " if flush_right else f" {cell}{pad} ")
    return rule + rule.join(parts) + rule


def _rule(parts: tuple[str, str, str, str], widths: Sequence[int]) -> str:
    left, line, joint, right = parts
    return left + joint.join(line * (w + 2) for w in widths) + right


def centred(title: str, width: int) -> str:
    """The title centred over a table this wide, as rich centres it, without trailing blanks."""
    return " " * ((width - cell_len(title)) // 2) + title


class Measured(NamedTuple):
    """A table as it reaches the screen (control characters escaped, see ``shown``) with each
    column's width: escaped and measured once, then drawn, fitted or folded from that."""

    title: str | None
    headers: list[str]
    right: Sequence[bool]
    rows: list[list[str]]
    widths: list[int]

    def only(self, keep: Sequence[int]) -> "Measured":
        """The same table with only the columns at ``keep``."""
        return Measured(self.title, [self.headers[i] for i in keep], [self.right[i] for i in keep],
                        [[row[i] for i in keep] for row in self.rows], [self.widths[i] for i in keep])


def measure(title: str | None, headers: Sequence[str], right: Sequence[bool], rows: Sequence[Sequence[str]]) -> Measured:
    title, headers, rows = shown(title, headers, rows)
    return Measured(title, headers, right, rows, layout(headers, rows))


def draw(title: str | None, headers: Sequence[str], right: Sequence[bool], rows: Sequence[Sequence[str]],
         width: int | None = None, ascii: bool = False) -> list[str] | None:
    """The table's lines: title (centred), header, rows; None when it is wider than ``width``
    (a cell would fold or the title wrap: rich's Table must lay it out then)."""
    return draw_measured(measure(title, headers, right, rows), width, ascii)


def draw_measured(table: Measured, width: int | None = None, ascii: bool = False) -> list[str] | None:
    total = table_width(table.widths)
    if width is not None and (total > width or (table.title and cell_len(table.title) > total)):
        return None
    rules = ASCII if ascii else HEAVY_HEAD
    lines = [centred(table.title, total)] if table.title else []
    lines.append(_rule(rules.top, table.widths))
    lines.append(_line(table.headers, table.widths, table.right, rules.head))
    lines.append(_rule(rules.head_rule, table.widths))
    lines.extend(_line(row, table.widths, table.right, rules.body) for row in table.rows)
    lines.append(_rule(rules.bottom, table.widths))
    return lines


def fits(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> bool:
    """Whether the table is drawn without folding a cell or wrapping the title at this width."""
    table = measure(title, headers, [False] * len(headers), rows)
    total = table_width(table.widths)
    return total <= width and (not table.title or cell_len(table.title) <= total)


def foldable(headers: Sequence[str], right: Sequence[bool], rows: Sequence[Sequence[str]], width: int) -> bool:
    """Whether folding the text columns (to FOLD_MIN at least) brings the table within ``width``
    while every number keeps its whole width."""
    return _foldable(measure(None, headers, right, rows), width)


def _foldable(table: Measured, width: int) -> bool:
    return table_width([w if numeric else min(w, FOLD_MIN) for w, numeric in zip(table.widths, table.right)]) <= width


def print_box_table(console, title: str | None, headers: Sequence[str], right: Sequence[bool],
                    rows: Sequence[Sequence[str]]) -> None:
    """Print on a rich console: the fast drawing when it fits; rich's Table folding the text
    columns when that is enough; else the whole table at its natural width (the terminal wraps
    whole lines, never a number). On a terminal the title is italic and the header bold."""
    print_measured(console, measure(title, headers, right, rows))


def print_measured(console, table: Measured) -> None:
    ascii = console.options.ascii_only
    lines = draw_measured(table, console.width, ascii)
    if lines is None and _foldable(table, console.width):
        _print_folded(console, table)
        return
    if lines is None:
        lines = draw_measured(table, None, ascii)
    head = 1 if table.title else 0
    if console.is_terminal and not console.no_color:
        from rich.text import Text

        if head:
            console.print(Text(lines[0], style="italic"), soft_wrap=True)
        console.print(lines[head], markup=False, highlight=False, emoji=False, soft_wrap=True)
        console.print(_styled_header(lines[head + 1], (ASCII if ascii else HEAVY_HEAD).head), soft_wrap=True)
        start = head + 2
    else:
        start = 0
    # the body goes out in one write: rich's per-line rendering would cost as much as its Table
    console.file.write("\n".join(lines[start:]) + "\n")


def _print_folded(console, table: Measured) -> None:
    from rich.table import Table
    from rich.text import Text

    folded = Table(header_style="bold")
    for header, flush_right, width in zip(table.headers, table.right, table.widths):
        if flush_right:  # a number keeps its width and its line
            folded.add_column(Text(header), justify="right", no_wrap=True, min_width=width)
        else:
            folded.add_column(Text(header), justify="left", overflow="fold")
    for row in table.rows:
        folded.add_row(*(Text(cell) for cell in row))
    if table.title:
        drawn = min(console.measure(folded).maximum, console.width)
        style = "italic" if console.is_terminal and not console.no_color else ""
        console.print(Text(centred(table.title, drawn), style=style), soft_wrap=True)
    console.print(folded)


def _styled_header(line: str, rule: str):
    from rich.text import Text

    text = Text(line)
    start = 0
    for index, char in enumerate(line):
        if char == rule:
            if index > start + 1:
                text.stylize("bold", start + 1, index)
            start = index
    return text
