"""`archcalc report`: one self-contained HTML file (no network request: scripts, styles and data
inline, a Content-Security-Policy that forbids fetching anything) with each net's graph (laid out
by the vendored dagre in the browser; blocks collapse and expand), its per-layer table, its plots,
and with several nets the comparison with ratios. Data comes from the Report, figures.memory and
figures.compare; nothing here needs a library beyond the standard one."""

from __future__ import annotations

from typing import Sequence

from ...analysis import Report
from ...figures.compare import NUMERIC, figure_rows, figures, warnings
from ...figures.memory import MemoryReport
from ..escape import visible
from ..writers import script_json
from .assets import asset
from .charts import ratio_chart
from .model import graph_model
from .sections import net_section, text

# Nothing may be fetched: every script and style is inline, images are data: URLs at most.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
       "connect-src 'none'; form-action 'none'; base-uri 'none'")

SHORT_LABELS = {"params": "parameters", "macs": "MACs", "flops": "FLOPs", "peak_activation_bytes": "peak activations",
                "total_activation_bytes": "all activations"}


def compare_section(reports: Sequence[Report]) -> str:
    """The nets side by side: every figure with its ratio to the first, and a bar per net."""
    items = [figures(r) for r in reports]
    head = "".join(f"<th>{text(f.name)}</th>" for f in items)
    rows = "".join("<tr>" + "".join(f"<td>{text(cell)}</td>" for cell in row) + "</tr>" for row in figure_rows(items))
    notes = "".join(f'<p class="warning">{text(w)}</p>' for w in warnings(items))
    first = items[0]
    ratios = [[getattr(f, key) / getattr(first, key) if getattr(first, key) else None for f in items] for key in NUMERIC]
    chart = ratio_chart(f"Each figure as a ratio to {visible(first.name)}", [SHORT_LABELS[k] for k in NUMERIC],
                        [visible(f.name) for f in items], ratios)
    plots = f'<figure class="plot">{chart}</figure>'
    return (f'<section class="compare" id="compare"><h2>Comparison</h2><p>Ratios are to {text(items[0].name)}.</p>'
            f'<table class="compare-table"><thead><tr><th>figure</th>{head}</tr></thead><tbody>{rows}</tbody></table>'
            f'{notes}<div class="plots">{plots}</div></section>')


def report_html(reports: Sequence[Report], memories: Sequence[MemoryReport]) -> str:
    title = " vs ".join(r.name for r in reports)
    data = {"nets": [graph_model(r) for r in reports]}
    sections = "".join(net_section(r, m, i) for i, (r, m) in enumerate(zip(reports, memories)))
    compare = compare_section(reports) if len(reports) > 1 else ""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>archcalc report: {text(title)}</title><style>{asset('report.css')}</style></head>"
            f'<body><header><h1>archcalc report: {text(title)}</h1></header>{compare}'
            f'<main class="nets" style="--nets:{len(reports)}">{sections}</main>'
            f'<script type="application/json" id="archcalc-data">{script_json(data)}</script>'
            f"<script>{_inline_script(asset('dagre.min.js'))}</script>"
            f"<script>{_inline_script(asset('graph.js'))}</script>"
            f"<script>{_inline_script(asset('report.js'))}</script></body></html>")


def _inline_script(source: str) -> str:
    """A script's text safe to inline: '</script' cannot occur in it (the vendored code has none
    today; this keeps it so)."""
    return source.replace("</script", "<\\/script").replace("<!--", "<\\!--")


__all__ = ["report_html"]
