"""A fast plain-text table with the look of rich's default Table (box.HEAVY_HEAD, centred title).

rich lays out every cell through its measuring and wrapping machinery: about 0.45 s for the 515
rows of ResNet-152, more than the whole analysis. A table whose columns fit the console needs
none of that: each column is as wide as its widest cell. This module draws exactly what rich
draws in that case (the tests compare the two), and callers fall back to rich's Table, which
folds cells, when the table is wider than the console.
"""

from __future__ import annotations

from typing import Sequence

from rich.cells import cell_len


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


def _line(cells: Sequence[str], widths: Sequence[int], right: Sequence[bool], rule: str) -> str:
    parts = []
    for cell, width, flush_right in zip(cells, widths, right):
        pad = " " * (width - (len(cell) if cell.isascii() else cell_len(cell)))
        parts.append(f" {pad}{cell} " if flush_right else f" {cell}{pad} ")
    return rule + rule.join(parts) + rule


def draw(title: str | None, headers: Sequence[str], right: Sequence[bool], rows: Sequence[Sequence[str]],
         width: int | None = None) -> list[str] | None:
    """The table's lines: title (centred), header, rows; None when it is wider than ``width``
    (a cell would fold or the title wrap: rich's Table must lay it out then)."""
    widths = layout(headers, rows)
    total = table_width(widths)
    title = title.rstrip() if title else title  # as rich centres it (trailing blanks dropped)
    if width is not None and (total > width or (title and cell_len(title) > total)):
        return None
    lines = []
    if title:
        excess = total - cell_len(title)
        left = excess // 2
        lines.append(" " * left + title + " " * (excess - left))
    lines.append("┏" + "┳".join("━" * (w + 2) for w in widths) + "┓")
    lines.append(_line(headers, widths, right, "┃"))
    lines.append("┡" + "╇".join("━" * (w + 2) for w in widths) + "┩")
    lines.extend(_line(row, widths, right, "│") for row in rows)
    lines.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
    return lines


def fits(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> bool:
    """Whether the table is drawn without folding a cell or wrapping the title at this width."""
    total = table_width(layout(headers, rows))
    return total <= width and (not title or cell_len(title.rstrip()) <= total)


def print_box_table(console, title: str | None, headers: Sequence[str], right: Sequence[bool],
                    rows: Sequence[Sequence[str]]) -> None:
    """Print on a rich console: the fast drawing when it fits, else rich's own (folding) Table.
    On a terminal the title is italic and the header bold, as rich styles them."""
    lines = draw(title, headers, right, rows, console.width)
    if lines is None:
        from rich.table import Table

        table = Table(title=title, header_style="bold")
        for header, flush_right in zip(headers, right):
            table.add_column(header, justify="right" if flush_right else "left", overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table, markup=False, highlight=False, emoji=False)
        return
    if console.is_terminal and not console.no_color:
        from rich.text import Text

        head = 0
        if title:
            console.print(Text(lines[0], style="italic"), soft_wrap=True)
            head = 1
        console.print(lines[head], markup=False, highlight=False, emoji=False, soft_wrap=True)
        console.print(_styled_header(lines[head + 1]), soft_wrap=True)
        start = head + 2
    else:
        start = 0
    # the body goes out in one write: rich's per-line rendering would cost as much as its Table
    console.file.write("\n".join(lines[start:]) + "\n")


def _styled_header(line: str):
    from rich.text import Text

    text = Text(line)
    start = 0
    for index, char in enumerate(line):
        if char == "┃":
            if index > start + 1:
                text.stylize("bold", start + 1, index)
            start = index
    return text
