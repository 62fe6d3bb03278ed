"""`flops --convention`: the peer tools' counts as a table, CSV, Markdown or JSON.

One convention: the per-layer table in that tool's count, under a line saying what it counts,
with the total. Two or more (or ``all``): one table, a column per tool and a row per layer type,
with the totals row, so the spread between the tools is explained type by type."""

from __future__ import annotations

from ..analysis import Report, Row
from ..figures.conventions import ConventionCounts, counts_by_row, counts_by_type
from .cells import human, input_form
from .escape import markdown_text, visible
from .writers import csv_text, json_text, markdown_table

TOTAL = "total"


def about_lines(counted: list[ConventionCounts]) -> list[str]:
    """One line per convention: its name, the tool it reproduces, its unit and what it counts."""
    return [f"{c.convention.name} counts {c.convention.unit}: {c.convention.counts} [{c.convention.tool}]" for c in counted]


def total_lines(report: Report, counted: list[ConventionCounts]) -> list[str]:
    head = f"Input {'x'.join(map(str, report.input))} ({input_form(report.input)}), batch {report.batch}; archcalc: MACs {report.total.macs:,}"
    totals = [f"{c.convention.name}: {c.total:,} {c.convention.unit} ({human(c.total)})" for c in counted]
    return [head] + totals


def is_per_layer(counted: list[ConventionCounts]) -> bool:
    return len(counted) == 1


def table_cells(report: Report, rows: list[Row], counted: list[ConventionCounts]):
    """(title, headers, right-aligned flags, cell rows) of the view: per layer for one
    convention, per layer type for several; the last row holds the totals."""
    names = [c.convention.name for c in counted]
    if is_per_layer(counted):
        values = counts_by_row(counted[0], rows)
        body = [[row.name, row.type, f"{value:,}"] for row, value in zip(rows, values)]
        body.append([TOTAL, "", f"{counted[0].total:,}"])
        headers = ["Layer", "Type", f"{names[0]} ({counted[0].convention.unit})"]
        return f"{report.name} - flops as {names[0]} counts", headers, [False, False, True], body
    by_type = counts_by_type(report, counted)
    body = [[type_name] + [f"{v:,}" for v in values] for type_name, values in by_type.items()]
    body.append([TOTAL] + [f"{c.total:,}" for c in counted])
    return f"{report.name} - flops as each tool counts", ["Type"] + names, [False] + [True] * len(names), body


def fitted_tables(report: Report, rows: list[Row], counted: list[ConventionCounts], width: int | None,
                  ascii: bool = False) -> list[list[str]] | None:
    """The drawn table, or where the tools' columns do not fit ``width``, as many tables (each
    with the row labels) as it takes, the tools in order: a number is never split and no tool is
    left out. None when even one tool's column does not fit."""
    from .boxtable import draw

    whole = draw(*table_cells(report, rows, counted), width=width, ascii=ascii)
    if whole is not None or width is None or len(counted) < 2:
        return None if whole is None else [whole]
    tables, rest = [], list(counted)
    while rest:
        for size in range(len(rest), 0, -1):
            title, headers, right, body = table_cells(report, rows, rest[:size])
            lines = draw(title if not tables else None, headers, right, body, width=width, ascii=ascii)
            if lines is not None:
                break
        else:
            return None
        tables.append(lines)
        rest = rest[size:]
    return tables


def plain_text(report: Report, rows: list[Row], counted: list[ConventionCounts], width: int | None,
               ascii: bool = False) -> str | None:
    """The table(s), the one-liners and the totals as plain text; None when wider than ``width``."""
    tables = fitted_tables(report, rows, counted, width, ascii)
    if tables is None:
        return None
    lines = [line for table in tables for line in table]
    return "\n".join(lines + [visible(line) for line in about_lines(counted) + total_lines(report, counted)]) + "\n"


def print_rich(report: Report, rows: list[Row], counted: list[ConventionCounts], console) -> None:
    from .boxtable import print_box_table

    tables = fitted_tables(report, rows, counted, console.width, console.options.ascii_only)
    if tables is not None and len(tables) > 1:  # several tools' columns, in as many tables as fit
        for table in tables:
            console.print("\n".join(table), markup=False, highlight=False, emoji=False, soft_wrap=True)
    else:
        print_box_table(console, *table_cells(report, rows, counted))
    for line in about_lines(counted) + total_lines(report, counted):
        console.print(visible(line), highlight=False, markup=False)


def conventions_json(counted: list[ConventionCounts]) -> dict:
    """The top-level key: each convention's tool, unit, one-liner and total."""
    return {c.convention.name: {"tool": c.convention.tool, "unit": c.convention.unit, "counts": c.convention.counts,
                                "total": c.total} for c in counted}


def add_to_json(data: dict, report: Report, rows: list[Row], counted: list[ConventionCounts]) -> dict:
    """The JSON contract with new keys only: total.conventions, each layer's conventions
    ({name: count}), conventions (tool, unit, what it counts, total) and conventions_by_type."""
    per_row = [counts_by_row(c, rows) for c in counted]
    for i, layer in enumerate(data["layers"]):
        layer["conventions"] = {c.convention.name: values[i] for c, values in zip(counted, per_row)}
    data["total"]["conventions"] = {c.convention.name: c.total for c in counted}
    data["conventions"] = conventions_json(counted)
    data["conventions_by_type"] = {type_name: dict(zip((c.convention.name for c in counted), values))
                                   for type_name, values in counts_by_type(report, counted).items()}
    return data


def render_text(report: Report, rows: list[Row], counted: list[ConventionCounts], fmt: str,
                extra: dict | None = None) -> str:
    """JSON (the report's contract plus the conventions' keys), CSV or Markdown of the view."""
    if fmt == "json":
        from . import report_json

        return json_text({**add_to_json(report_json(report, rows), report, rows, counted), **(extra or {})})
    title, headers, numeric, body = table_cells(report, rows, counted)
    if fmt == "csv":
        plain = [[cell.replace(",", "") if number else cell for cell, number in zip(row, numeric)] for row in body]
        return csv_text(headers, plain, [0])
    if fmt == "markdown":
        lines = [f"## {markdown_text(title)}", "", *markdown_table(headers, numeric, body), ""]
        lines += [f"- {markdown_text(line)}" for line in about_lines(counted) + total_lines(report, counted)]
        return "\n".join(lines) + "\n"
    raise ValueError(fmt)
