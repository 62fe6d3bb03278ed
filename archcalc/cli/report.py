"""`archcalc report` (one self-contained HTML file: graph, table, plots, comparison) and
`archcalc graph` (the same graph as SVG or PNG); registered on archcalc.cli.app."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .app import BatchOpt, DType, DTypeOpt, InputOpt, LayoutOpt, Mode, ModeOpt, SetOpt, app, build_report, note, run_guarded, typed_input


def _output_path(output: Path, suffixes: tuple[str, ...]) -> Path:
    from ..errors import UsageError

    if output.suffix.lower() not in suffixes:
        raise UsageError(f"-o {output.name}: write a {' or '.join(suffixes)} file")
    if output.parent and not output.parent.is_dir():
        raise UsageError(f"-o {output}: no directory '{output.parent}'")
    return output


@app.command()
def report(specs: List[str] = typer.Argument(..., help="One or more spec files, bundled nets or comparisons; two or "
                                              "more add the comparison with ratios to the first.", show_default=False),
           output: Path = typer.Option(..., "--output", "-o", help="The HTML file to write.", show_default=False),
           input: Optional[str] = InputOpt, layout: Optional[str] = LayoutOpt, batch: Optional[int] = BatchOpt,
           dtype: DType = DTypeOpt, set_: Optional[List[str]] = SetOpt, mode: Mode = ModeOpt,
           optimizer: str = typer.Option("adam", "--optimizer", "-O", help="Optimizer of the training-memory plot.")) -> None:
    """One self-contained HTML file (opens offline): each net's graph (blocks collapsed and expandable, shapes on
    the edges, nodes coloured by a figure, click for formulas), per-layer table, plots and, for several nets, the
    comparison."""

    def work():
        from ..figures.memory import check_optimizer, memory_options, memory_report
        from ..render.report import report_html
        from ..spec.bundled import resolve_compare_spec

        path = _output_path(output, (".html", ".htm"))
        chosen = check_optimizer(optimizer)
        given = typed_input(input, layout)
        reports = [build_report(spec, given, batch, dtype.value, resolve_compare_spec, set_, mode) for spec in specs]
        memories = [memory_report(r, chosen, memory_options(r)) for r in reports]
        path.write_text(report_html(reports, memories), encoding="utf-8")
        note(f"wrote {path} ({path.stat().st_size:,} bytes)")

    run_guarded(work)


@app.command()
def graph(spec: str = typer.Argument(..., help="A spec file, bundled net or comparison.", show_default=False),
          output: Path = typer.Option(..., "--output", "-o", help="The picture to write: .svg or .png.", show_default=False),
          input: Optional[str] = InputOpt, layout: Optional[str] = LayoutOpt, batch: Optional[int] = BatchOpt,
          dtype: DType = DTypeOpt, set_: Optional[List[str]] = SetOpt, mode: Mode = ModeOpt,
          color: str = typer.Option("params", "--color", help="Colour nodes by params, flops, activations or rf."),
          depth: Optional[int] = typer.Option(None, "--depth", "-d", min=0, help="Expand blocks down to this level "
                                              "(0: all collapsed). [default: the report's first view]")) -> None:
    """The net's graph alone, as the report draws it (dagre layout, shapes on edges, joins marked), to SVG or PNG
    (needs the graph extra: pip install "archcalc[graph]")."""

    def work():
        from ..render.report.picture import graph_svg, write_picture
        from ..spec.bundled import resolve_compare_spec

        path = _output_path(output, (".svg", ".png"))
        given = typed_input(input, layout)
        result = build_report(spec, given, batch, dtype.value, resolve_compare_spec, set_, mode)
        write_picture(graph_svg(result, color, depth), path)
        note(f"wrote {path}")

    run_guarded(work)
