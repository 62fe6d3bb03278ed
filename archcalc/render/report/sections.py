"""The report's per-net sections as HTML text: the headline figures, the per-layer table with its
totals, and the plots (parameters and FLOPs per layer and per stage, activation memory, the
receptive field against depth, the training-memory breakdown). Names are escaped here, once,
with html.escape (quotes too: some land in attributes)."""

from __future__ import annotations

from html import escape
from typing import Any

from ...analysis import Report, fold
from ...figures.memory import MemoryReport
from ..cells import human, human_bytes, rf_cells, shape_text
from ..escape import visible
from .charts import bar_chart, breakdown_chart, line_chart
from .model import rf_size, short_name, stage_depth


def text(value: Any) -> str:
    """Untrusted text made inert in HTML (element content and quoted attributes)."""
    return escape(visible(str(value)), quote=True)


def source_text(file: str) -> str:
    """Where the net came from, without the machine's own folders: a bundled spec by its place
    among the bundled ones, a file under the working directory relative to it."""
    from pathlib import Path

    from ...spec.bundled import architectures_dir

    path = Path(file)
    for base, prefix in ((architectures_dir(), "bundled: "), (Path.cwd(), "")):
        try:
            return prefix + str(path.resolve().relative_to(base.resolve()))
        except (ValueError, OSError):
            continue
    return file


def headline(report: Report) -> str:
    t = report.total
    rf = rf_cells(report.final_rf)[0]
    facts = [("input", shape_text(report.input)), ("batch", str(report.batch)), ("dtype", report.dtype),
             ("mode", report.mode), ("parameters", f"{t.params:,} ({human(t.params)})"),
             ("MACs", f"{t.macs:,} ({human(t.macs)})"), ("FLOPs", f"{t.flops:,} ({human(t.flops)})"),
             ("activations", human_bytes(t.activations * report.dtype_bytes)), ("output", shape_text(report.output)),
             ("final receptive field", rf)]
    items = "".join(f"<div><dt>{text(k)}</dt><dd>{text(v)}</dd></div>" for k, v in facts)
    warnings = "".join(f'<p class="warning">{text(w)}</p>' for w in report.warnings)
    return f'<dl class="headline">{items}</dl>{warnings}'


# (header, key, numeric) of the per-layer table
COLUMNS = (("#", "index", True), ("layer", "name", False), ("type", "type", False), ("output", "output", False),
           ("params", "params", True), ("formula", "formula", False), ("MACs", "macs", True), ("FLOPs", "flops", True),
           ("activations", "activations", True), ("RF", "rf", True), ("stride", "stride", False))


def layer_table(report: Report) -> str:
    """The sortable, filterable table: each numeric cell carries its exact value in data-v (the
    sort key) and shows it with thousands separators; the totals in readable units below."""
    head = "".join(f'<th data-key="{key}" data-numeric="{int(numeric)}" tabindex="0">{header}</th>'
                   for header, key, numeric in COLUMNS)
    body = []
    size = report.dtype_bytes
    for i, row in enumerate(report.rows):
        rf, stride, _ = rf_cells(row.rf)
        rf_value = rf_size(report, row)
        cells = [(i, str(i)), (None, row.name), (None, row.type), (None, shape_text(row.output)),
                 (row.params, f"{row.params:,}"), (None, row.formula), (row.macs, f"{row.macs:,}"),
                 (row.flops, f"{row.flops:,}"), (row.activations * size, human_bytes(row.activations * size)),
                 (rf_value if rf_value is not None else -1, rf), (None, stride)]
        tds = "".join(f'<td data-v="{value}">{text(shown)}</td>' if value is not None else f"<td>{text(shown)}</td>"
                      for value, shown in cells)
        body.append(f'<tr data-name="{text(row.name.lower())}">{tds}</tr>')
    t = report.total
    foot = (f'<tr><td></td><td>total ({len(report.rows)} layers)</td><td></td><td>{text(shape_text(report.output))}</td>'
            f"<td>{text(human(t.params))}</td><td>{t.params:,} parameters, {t.trainable:,} trainable</td>"
            f"<td>{text(human(t.macs))}</td><td>{text(human(t.flops))}</td>"
            f"<td>{text(human_bytes(t.activations * size))}</td><td>{text(rf_cells(report.final_rf)[0])}</td><td></td></tr>")
    return (f'<div class="table-tools"><input type="search" class="filter" placeholder="filter layers by name" '
            f'aria-label="filter layers by name"> <span class="shown"></span></div>'
            f'<div class="table-wrap"><table class="layers"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            f'<tfoot>{foot}</tfoot></table></div>')


def _bytes(value: float) -> str:
    return human_bytes(value)


def plots(report: Report, memory: MemoryReport) -> str:
    rows = report.rows
    names = [visible(r.name) for r in rows]
    ticks = [visible(short_name(r.name)) for r in rows]
    charts = [bar_chart("Parameters per layer", names, [r.params for r in rows], "parameters", "layer", human, ticks=ticks),
              bar_chart("FLOPs per layer", names, [r.flops for r in rows], "FLOPs", "layer", human, ticks=ticks)]
    depth = stage_depth(report)
    if depth is not None:
        stages = fold(report, depth)
        labels = [visible(r.name) for r in stages]
        short = [visible(short_name(r.name)) for r in stages]
        charts += [bar_chart("Parameters per stage", labels, [r.params for r in stages], "parameters", "stage", human, ticks=short),
                   bar_chart("FLOPs per stage", labels, [r.flops for r in stages], "FLOPs", "stage", human, ticks=short)]
    size = report.dtype_bytes
    charts.append(bar_chart(f"Activation memory per layer (batch {report.batch}, {report.dtype})", names,
                            [r.activations * size for r in rows], "bytes", "layer", _bytes, lambda v: f"{int(v):,} B", ticks))
    fields = [r.rf.size if r.rf.kind == "field" else None for r in rows]
    strides = [float(max(r.rf.stride)) if r.rf.kind == "field" else None for r in rows]
    side = max(report.input[1:]) if len(report.input) > 1 else None
    series = [("RF size (largest side)", [max(f) if f else None for f in fields]), ("effective stride", strides)]
    charts.append(line_chart("Receptive field and effective stride against depth", series, "pixels", "layer (depth)",
                             lambda v: f"{v:g}", (side, f"input {shape_text(report.input[1:])}") if side else None))
    charts.append(breakdown_chart(f"Training memory ({memory.optimizer}, batch {memory.batch})",
                                  [(visible(line.name), line.bytes, visible(line.formula)) for line in memory.training],
                                  _bytes))
    charts.append(breakdown_chart("Inference memory",
                                  [(visible(line.name), line.bytes, visible(line.formula)) for line in memory.inference],
                                  _bytes))
    return "".join(f'<figure class="plot">{chart}</figure>' for chart in charts)


def net_section(report: Report, memory: MemoryReport, index: int) -> str:
    return (f'<section class="net" id="net-{index}" data-index="{index}">'
            f'<h2>{text(report.name)}</h2><p class="file">{text(source_text(report.file))}</p>{headline(report)}'
            f'<h3>Graph</h3><div class="graph-tools"><label>colour by <select class="color-by">'
            '<option value="params">parameters</option><option value="flops">FLOPs</option>'
            '<option value="activations">activations</option><option value="rf">receptive-field size</option>'
            '</select></label> <button type="button" class="expand-all">expand all</button> '
            '<button type="button" class="collapse-all">collapse all</button> '
            '<span class="hint">click a node for its figures and formulas; [+] opens a block, [\u2212] closes it</span></div>'
            '<div class="graph-area"><div class="graph"></div><aside class="details"><p class="hint">No node selected.</p></aside></div>'
            f'<h3>Layers</h3>{layer_table(report)}<h3>Plots</h3><div class="plots">{plots(report, memory)}</div></section>')
