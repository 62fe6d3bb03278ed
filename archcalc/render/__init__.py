"""Turn a Report into a table, JSON, CSV or Markdown. Columns are plain functions of a Row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from ..analysis import ReceptiveField, Report, Row
from ..analysis.rf import as_text
from .writers import csv_text, json_text, markdown_table, plain_number

FORMATS = ("table", "json", "csv", "markdown")


def human(value: float, unit: str = "") -> str:
    """61,100,840 -> '61.1 M'; 714,188,480 MACs -> '0.71 G' (readable units beside exact numbers)."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale * (0.1 if prefix == "G" else 1):
            digits = 2 if prefix in ("G", "T") else 1
            return f"{value / scale:.{digits}f} {prefix}{unit}"
    return f"{value:,.0f} {unit}".rstrip()


def human_bytes(value: float) -> str:
    for scale, prefix in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if value >= scale:
            return f"{value / scale:.2f} {prefix}"
    return f"{int(value)} B"


def shape_text(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


def _axis_pair(values) -> str:
    texts = [as_text(v) if not isinstance(v, int) else str(v) for v in values]
    return texts[0] if texts[0] == texts[1] else f"{texts[0]}x{texts[1]}"


def rf_cells(rf: ReceptiveField) -> tuple[str, str, str]:
    if rf.kind == "whole":
        return ("whole input", "-", "-")
    if rf.kind == "unknown":
        return ("n/a", "-", "-")
    mark = "" if rf.aligned else " *"
    return (_axis_pair(rf.size) + mark, _axis_pair(rf.stride), _axis_pair(rf.padding))


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[Row, Report], str]
    numeric: bool = True


def _share(value: int, total: int) -> str:
    return f"{100 * value / total:.1f}%" if total else "-"


NAME = Column("Layer", lambda r, rep: r.name, False)
TYPE = Column("Type", lambda r, rep: r.type, False)
OUTPUT = Column("Output", lambda r, rep: shape_text(r.output), False)
COLUMNS = {
    "params": [
        NAME, TYPE, OUTPUT,
        Column("Weights", lambda r, rep: f"{r.weights:,}"),
        Column("Bias", lambda r, rep: f"{r.biases:,}"),
        Column("Params", lambda r, rep: f"{r.params:,}"),
        Column("Buffers", lambda r, rep: f"{r.buffers:,}"),
        Column("Formula", lambda r, rep: r.formula, False),
    ],
    "flops": [
        NAME, TYPE, OUTPUT,
        Column("MACs", lambda r, rep: f"{r.macs:,}"),
        Column("FLOPs", lambda r, rep: f"{r.flops:,}"),
        Column("Share", lambda r, rep: _share(r.flops, rep.total.flops)),
        Column("All ops", lambda r, rep: f"{r.ops:,}"),
    ],
    "rf": [
        NAME, TYPE, OUTPUT,
        Column("RF size", lambda r, rep: rf_cells(r.rf)[0]),
        Column("Eff. stride", lambda r, rep: rf_cells(r.rf)[1]),
        Column("Eff. padding", lambda r, rep: rf_cells(r.rf)[2]),
    ],
    "summary": [
        NAME, TYPE, OUTPUT,
        Column("Params", lambda r, rep: f"{r.params:,}"),
        Column("Formula", lambda r, rep: r.formula, False),
        Column("MACs", lambda r, rep: f"{r.macs:,}"),
        Column("RF", lambda r, rep: rf_cells(r.rf)[0]),
        Column("Stride", lambda r, rep: rf_cells(r.rf)[1]),
        Column("Activations", lambda r, rep: human_bytes(r.activations * rep.dtype_bytes)),
    ],
}


def total_lines(report: Report, view: str) -> list[str]:
    t = report.total
    lines = [f"Input {shape_text(report.input)} (CxHxW), batch {report.batch} -> output {shape_text(report.output)}"]
    if view in ("params", "summary"):
        lines.append(
            f"Parameters: {t.params:,} ({human(t.params)}) - trainable {t.trainable:,}, "
            f"non-trainable {t.non_trainable:,}; buffers {t.buffers:,}"
        )
    if view in ("flops", "summary"):
        lines.append(f"MACs: {t.macs:,} ({human(t.macs, 'MACs')}); FLOPs: {t.flops:,} ({human(t.flops, 'FLOPs')}); all ops: {t.ops:,}")
    if view in ("rf", "summary"):
        size, stride, padding = rf_cells(report.final_rf)
        if report.final_rf.kind == "field":
            lines.append(f"Final receptive field: {size}, effective stride {stride}, effective padding {padding}")
        else:
            lines.append(f"Final receptive field: {report.final_rf.reason}")
    if view == "summary":
        lines.append(
            f"Activations: {t.activations:,} elements ({human_bytes(t.activations * report.dtype_bytes)} as {report.dtype})"
        )
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    return lines


def render(report: Report, rows: list[Row], view: str, fmt: str) -> str:
    if fmt == "json":
        return json_text(report.as_json(rows))
    _, headers, numeric, cells = table_parts(report, rows, view)
    if fmt == "csv":
        return csv_text(headers, [[plain_number(cell) if number else cell for number, cell in zip(numeric, row)]
                                  for row in cells])
    if fmt == "markdown":
        lines = [f"## {report.name}", "", *markdown_table(headers, numeric, cells), ""]
        lines += [f"- {line}" for line in total_lines(report, view)]
        return "\n".join(lines) + "\n"
    raise ValueError(fmt)


PIPED_WIDTH = 220  # piped output is laid out this wide (cli.console), so tables do not wrap


def table_parts(report: Report, rows: list[Row], view: str):
    """(title, headers, right-aligned flags, cells) of a view's per-layer table."""
    columns = COLUMNS[view]
    cells = [[c.cell(r, report) for c in columns] for r in rows]
    return f"{report.name} - {view}", [c.header for c in columns], [c.numeric for c in columns], cells


def plain_table(report: Report, rows: list[Row], view: str) -> str | None:
    """The table and totals as plain text for piped output, without loading rich; None when the
    table is wider than PIPED_WIDTH (rich then folds it)."""
    from .boxtable import draw

    lines = draw(*table_parts(report, rows, view), width=PIPED_WIDTH)
    return None if lines is None else "\n".join(lines + total_lines(report, view)) + "\n"


def print_table(report: Report, rows: list[Row], view: str, console) -> None:
    from .boxtable import print_box_table

    print_box_table(console, *table_parts(report, rows, view))
    for line in total_lines(report, view):
        console.print(line, highlight=False, markup=False)
