"""`archcalc graph`: the report's graph view as an SVG or PNG file. The layout is the report's own
(assets/graph.js over the vendored dagre), run in an embedded V8 (mini-racer), so the picture and
the report cannot disagree; PNG is that SVG rasterised by CairoSVG. Both come with the `graph`
extra and are imported only here, only by this command."""

from __future__ import annotations

import re
from pathlib import Path

from ...analysis import Report
from ...errors import ArchcalcError, UsageError
from ..writers import script_json
from .assets import asset
from .model import FIGURES, graph_model, visible_count

EXTRA_HINT = 'pip install "archcalc[graph]"'
# dagre's recursion overflows V8's stack on a chain of about 2,000 nodes (1,500 lay out), and
# after that overflow mini-racer's thread may never answer: the command would hang, so longer
# views are refused before the engine starts.
MAX_LAID_OUT = 1_500


def graph_svg(report: Report, color_by: str = "params", depth: int | None = None) -> str:
    """The graph as standalone SVG text; ``depth``: expand blocks down to that level (None: the
    report's initial view, 0: every block collapsed)."""
    if color_by not in FIGURES:
        raise UsageError(f"--color: choose from {', '.join(FIGURES)}, not '{color_by}'")
    try:
        from py_mini_racer import MiniRacer
        from py_mini_racer import JSEvalException
    except ImportError:
        raise UsageError(f"archcalc graph lays the net out with dagre in an embedded JavaScript engine: {EXTRA_HINT}") from None
    model = graph_model(report)
    if depth is None:
        expanded = model["initial"]
    else:
        expanded = [i for i, g in enumerate(model["groups"]) if g["name"].count(".") + 1 <= depth]
    shown = visible_count(model, expanded)
    if shown > MAX_LAID_OUT:
        raise UsageError(f"archcalc graph lays out at most {MAX_LAID_OUT:,} nodes and this view has {shown:,} "
                         "(dagre runs out of V8's stack on longer chains); --depth 0 shows fewer where the net has blocks")
    engine = MiniRacer()
    # bare V8 lacks the browser's structuredClone, which dagre uses to copy plain label objects
    engine.eval("globalThis.structuredClone = globalThis.structuredClone || (v => JSON.parse(JSON.stringify(v)));")
    engine.eval(asset("dagre.min.js"))
    engine.eval(asset("graph.js"))
    call = f"ArchGraph.standalone({script_json(model)}, {script_json(expanded)}, {script_json(color_by)})"
    try:
        return engine.eval(call)
    except JSEvalException as exc:  # dagre's recursion runs out of V8's stack on a net of thousands of layers
        raise ArchcalcError(f"the layout engine (dagre in V8) failed on this graph of {len(report.rows):,} layers: "
                            f"{js_error_line(exc)} (--depth 0 draws fewer nodes where the net has blocks)") from None


def js_error_line(exc: Exception) -> str:
    """The JavaScript error's own line ('RangeError: Maximum call stack size exceeded'), without
    the source text V8 appends to it."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return re.sub(r"^<anonymous>:\d+:\s*", "", first)[:200]


def write_picture(svg: str, path: Path) -> None:
    """SVG as it is, or PNG through CairoSVG, by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".svg":
        path.write_text(svg, encoding="utf-8")
        return
    if suffix != ".png":
        raise UsageError(f"-o {path.name}: archcalc graph writes .svg or .png")
    try:
        import cairosvg
    except (ImportError, OSError):  # OSError: the package is there but the cairo library is not
        raise UsageError(f"PNG output needs CairoSVG and the cairo library: {EXTRA_HINT} (or write .svg)") from None
    cairosvg.svg2png(bytestring=svg.encode("utf-8"), write_to=str(path), scale=1.5)
