"""Turn a Report into a table, JSON, CSV or Markdown: views of its per-layer rows (the columns
are in render.columns), with the totals under them."""

from __future__ import annotations

from typing import Sequence

from ..analysis import Report, Row
from .cells import human, human_bytes, input_form, rf_cells, shape_text
from .columns import COLUMNS, Column, choose_columns, fit_columns
from .escape import markdown_text, visible
from .writers import csv_text, json_text, markdown_table, plain_number

__all__ = ["COLUMNS", "FORMATS", "PIPED_WIDTH", "Column", "choose_columns", "human", "human_bytes", "plain_table",
           "print_table", "render", "report_json", "rf_cells", "shape_text", "table_parts", "total_lines"]

FORMATS = ("table", "json", "csv", "markdown")
PIPED_WIDTH = 220  # piped output is laid out this wide (cli.console), so tables do not wrap


def figure_lines(report: Report, view: str) -> list[str]:
    t = report.total
    lines = [f"Input {shape_text(report.input)} ({input_form(report.input)}), batch {report.batch} -> output {shape_text(report.output)}"]
    if view in ("params", "summary"):
        lines.append(
            f"Parameters: {t.params:,} ({human(t.params)}) - trainable {t.trainable:,}, "
            f"non-trainable {t.non_trainable:,}; buffers {t.buffers:,}"
        )
    if view in ("flops", "summary", "train"):
        lines.append(f"MACs: {t.macs:,} ({human(t.macs, 'MACs')}); FLOPs: {t.flops:,} ({human(t.flops, 'FLOPs')}); all ops: {t.ops:,}")
    if view in ("backward", "train"):
        lines.append(f"Backward FLOPs: {t.backward_flops:,} ({human(t.backward_flops, 'FLOPs')}) - gradients w.r.t. "
                     f"inputs {t.backward_input_flops:,}, w.r.t. weights {t.backward_weight_flops:,} "
                     "(loss = output.sum(); trainable layers and the inputs that need a gradient)")
    if view == "train":
        lines.append(f"Train FLOPs (forward + backward): {t.train_flops:,} ({human(t.train_flops, 'FLOPs')})")
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
    return lines


def mode_lines(report: Report) -> list[str]:
    """A note on the layers idle in this mode (rows marked '(train only)'), if there are any."""
    idle = [r.name for r in report.rows if not r.active]
    if not idle:
        return []
    other = "train" if report.mode == "eval" else "eval"
    parts = list(dict.fromkeys(name.split(".")[0] for name in idle))
    shown = ", ".join(parts[:6]) + (", ..." if len(parts) > 6 else "")
    return [f"Mode {report.mode}: {len(idle):,} layers ({shown}) run only in {other} mode: their parameters are counted, "
            f"their FLOPs and activations are not (--mode {other} counts them)"]


def not_counted_lines(report: Report) -> list[str]:
    return [f"not counted: {line}" for line in report.not_counted]


def total_lines(report: Report, view: str) -> list[str]:
    """What an imported model's analysis left out (--partial), the totals under a view's table,
    then the analysis' warnings (which name layers)."""
    return not_counted_lines(report) + figure_lines(report, view) + mode_lines(report) + [f"warning: {warning}" for warning in report.warnings]


def report_json(report: Report, rows: list[Row] | None = None) -> dict:
    """The JSON contract (Report.as_json) plus each layer's weights/biases split, as the params
    table shows it."""
    rows = report.rows if rows is None else rows
    data = report.as_json(rows)
    for layer, row in zip(data["layers"], rows):
        layer["weights"], layer["biases"] = row.weights, row.biases
    return data


def table_parts(report: Report, rows: list[Row], view: str, columns: Sequence[Column] | None = None):
    """(title, headers, right-aligned flags, cells) of a view's per-layer table."""
    columns = COLUMNS[view] if columns is None else columns
    cells = [[c.cell(r, report) for c in columns] for r in rows]
    return f"{report.name} - {view}", [c.header for c in columns], [c.numeric for c in columns], cells


def _csv(report: Report, rows: list[Row], view: str, columns: Sequence[Column]) -> str:
    def value(column: Column, row: Row):
        if column.csv_value is not None:
            return column.csv_value(row, report)
        text = column.cell(row, report)
        return plain_number(text) if column.numeric else text

    body = [[value(c, r) for c in columns] for r in rows]
    if view == "params":  # the totals as one more row, so a spreadsheet needs no SUM
        body.append([c.total(report) if c.total else "" for c in columns])
    names = [i for i, c in enumerate(columns) if c.user_text]
    return csv_text([c.csv_header or c.header for c in columns], body, names)


def render(report: Report, rows: list[Row], view: str, fmt: str, columns: Sequence[Column] | None = None,
           extra: dict | None = None) -> str:
    """JSON (every figure; ``extra`` adds keys), CSV or Markdown of a view."""
    if fmt == "json":
        return json_text({**report_json(report, rows), **(extra or {})})
    columns = COLUMNS[view] if columns is None else columns
    if fmt == "csv":
        return _csv(report, rows, view, columns)
    if fmt == "markdown":
        _, headers, numeric, cells = table_parts(report, rows, view, columns)
        lines = [f"## {markdown_text(report.name)}", "", *markdown_table(headers, numeric, cells), ""]
        lines += [f"- {markdown_text(line)}" for line in not_counted_lines(report)]
        lines += [f"- {line}" for line in figure_lines(report, view)]
        lines += [f"- {markdown_text(line)}" for line in mode_lines(report)]
        lines += [f"- warning: {markdown_text(warning)}" for warning in report.warnings]
        return "\n".join(lines) + "\n"
    raise ValueError(fmt)


def fitted_table(report: Report, rows: list[Row], view: str, width: int, columns: Sequence[Column] | None = None):
    """The view's table, escaped and measured once, with only the columns that fit this width,
    and the headers of the columns left out. Columns the user chose (``columns``) are all shown."""
    from .boxtable import measure

    table = measure(*table_parts(report, rows, view, columns))
    if columns is not None:
        return table, []
    keep = fit_columns(view, COLUMNS[view], table.widths, width)
    return table.only(keep), [h for i, h in enumerate(table.headers) if i not in keep]


def plain_table(report: Report, rows: list[Row], view: str, width: int = PIPED_WIDTH, ascii: bool = False,
                columns: Sequence[Column] | None = None) -> tuple[str | None, list[str]]:
    """The table and totals as plain text for piped output, without loading rich, and the columns
    left out to fit ``width``; the text is None when the table is still wider (rich then folds it)."""
    from .boxtable import draw_measured

    table, hidden = fitted_table(report, rows, view, width, columns)
    lines = draw_measured(table, width=width, ascii=ascii)
    if lines is None:
        return None, hidden
    return "\n".join(lines + [visible(line) for line in total_lines(report, view)]) + "\n", hidden


def print_table(report: Report, rows: list[Row], view: str, console, columns: Sequence[Column] | None = None) -> list[str]:
    """Print the table and totals on a rich console; returns the columns left out to fit it."""
    from .boxtable import print_measured

    table, hidden = fitted_table(report, rows, view, console.width, columns)
    print_measured(console, table)
    for line in total_lines(report, view):
        console.print(visible(line), highlight=False, markup=False)
    return hidden
