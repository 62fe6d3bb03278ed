"""The one writer of CSV, Markdown and JSON text: every command's machine-readable output goes
through these functions, so quoting and escaping rules live in one place."""

from __future__ import annotations

import io
from typing import Any, Collection, Iterable, Sequence

from .escape import markdown_cell, spreadsheet_safe


def csv_text(headers: Sequence[Any], rows: Iterable[Sequence[Any]], names: Collection[int] = ()) -> str:
    """CSV with a header row; '\\n' line ends, quoting only where needed (the csv module's rules).
    Header cells and the cells of the ``names`` columns (user text: layer and net names) are made
    spreadsheet-safe; numbers and the program's own text are written as they are."""
    buffer = io.StringIO()
    import csv  # lazily, like json: the table view needs neither

    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([spreadsheet_safe(str(h)) for h in headers])
    for row in rows:
        writer.writerow([spreadsheet_safe(c) if i in names and isinstance(c, str) else c for i, c in enumerate(row)])
    return buffer.getvalue()


def plain_number(cell: str) -> str:
    """'1,234' -> '1234': a thousands-separated figure as a spreadsheet reads it."""
    return cell.replace(",", "")


def markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(markdown_cell(cell) for cell in cells) + " |"


def markdown_table(headers: Sequence[str], numeric: Sequence[bool], rows: Iterable[Sequence[str]]) -> list[str]:
    """The lines of a Markdown table: header, alignment row (numbers flush right), one line per row."""
    lines = [markdown_row(headers), "|" + "|".join("---:" if number else "---" for number in numeric) + "|"]
    lines += [markdown_row(row) for row in rows]
    return lines


def json_text(data: Any) -> str:
    """Indented JSON with a final newline."""
    import json

    return json.dumps(data, indent=2) + "\n"


def script_json(data: Any) -> str:
    """Compact JSON that is also safe inside an HTML <script> element and as a JavaScript literal
    (the report's data, archcalc graph's call): no '<', '>' or '&' (nothing can close the element
    or open a comment) and every non-ASCII character, U+2028 included, as an escape."""
    import json

    return (json.dumps(data, ensure_ascii=True, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
