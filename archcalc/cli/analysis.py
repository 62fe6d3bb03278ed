"""The analysis views: params, flops, rf, summary; and the layer-type listing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .app import (BatchOpt, DepthOpt, DType, DTypeOpt, Format, FormatOpt, InputOpt, LayoutOpt, Mode, ModeOpt, PartialOpt, Pass, SetOpt, SpecArg, app,
                  build_report, console, input_json, note, output_width, run_guarded, typed_input)

ColumnsOpt = typer.Option(None, "--columns", "-c", help="Columns to show, in order, e.g. layer,output,params,formula "
                          "(layer type output weights bias params buffers formula macs flops share ops grad_input grad_weight "
                          "backward train rf stride padding activations). [default: the view's; on a narrow terminal the less important ones are left out]")


# the flops view of each pass (render.columns.COLUMNS)
PASS_VIEWS = {Pass.forward: "flops", Pass.backward: "backward", Pass.train: "train"}
PassOpt = typer.Option(Pass.forward, "--pass", help="forward; backward (loss.backward() on output.sum(): "
                       "gradients w.r.t. inputs that need one and w.r.t. trainable weights); train = forward + backward.")


def show(view: str, spec: str, input_shape, layout, batch, fmt: Format, depth, columns: Optional[str],
         dtype: DType = DType.float32, settings: Optional[List[str]] = None, mode: Mode = Mode.eval,
         partial: bool = False) -> None:
    def work():
        from ..analysis import fold
        from ..render import choose_columns, render

        chosen = choose_columns(view, columns) if columns is not None else None
        given = typed_input(input_shape, layout)
        report = build_report(spec, given, batch, dtype.value, settings=settings, mode=mode, partial=partial)
        rows = fold(report, depth)
        if fmt is Format.table:
            hidden, width = print_view(report, rows, view, chosen)
            if hidden:
                note(f"left out to fit {width} columns: {', '.join(hidden)} (--columns chooses; a wider terminal shows all)")
        else:
            sys.stdout.write(render(report, rows, view, fmt.value, chosen, input_json(given)))

    run_guarded(work)


def print_view(report, rows, view: str, columns) -> tuple[list[str], int]:
    """The table on stdout; piped, the same text without styling and without loading rich (a
    tenth of the run). Returns the headers of the columns left out, and the width they did not fit."""
    from ..render import plain_table, print_table
    from ..render.boxtable import ascii_only

    if not sys.stdout.isatty():
        width = output_width()
        text, hidden = plain_table(report, rows, view, width, ascii_only(sys.stdout.encoding), columns)
        if text is not None:
            sys.stdout.write(text)
            return hidden, width
    out = console()
    return print_table(report, rows, view, out, columns), out.width


@app.command()
def params(spec: str = SpecArg, input: Optional[str] = InputOpt, layout: Optional[str] = LayoutOpt,
           batch: Optional[int] = BatchOpt, format: Format = FormatOpt, depth: Optional[int] = DepthOpt,
           columns: Optional[str] = ColumnsOpt, set_: Optional[List[str]] = SetOpt,
           mode: Mode = ModeOpt, partial: bool = PartialOpt) -> None:
    """Per-layer parameters with the formula behind each; totals (trainable, non-trainable, buffers)."""
    show("params", spec, input, layout, batch, format, depth, columns, settings=set_, mode=mode, partial=partial)


ConventionOpt = typer.Option(None, "--convention", help="Count as a peer tool does: torch, torchinfo, fvcore, thop, "
                             "... (`all`, or a comma-separated list, for a column per tool and a row per layer type). "
                             "docs/conventions.md says what each counts.")


@app.command()
def flops(spec: str = SpecArg, input: Optional[str] = InputOpt, layout: Optional[str] = LayoutOpt,
          batch: Optional[int] = BatchOpt, format: Format = FormatOpt, depth: Optional[int] = DepthOpt,
          columns: Optional[str] = ColumnsOpt, pass_: Pass = PassOpt, convention: Optional[str] = ConventionOpt,
          set_: Optional[List[str]] = SetOpt, mode: Mode = ModeOpt, partial: bool = PartialOpt) -> None:
    """Per-layer MACs and FLOPs (as torch's FlopCounterMode counts them) and each layer's share; with --pass,
    the backward pass (gradient w.r.t. input and weights) or a whole training step; with --convention, the
    count of a peer tool (torchinfo, fvcore, thop, ...), per layer, or per layer type for several."""
    if convention is None:
        show(PASS_VIEWS[pass_], spec, input, layout, batch, format, depth, columns, settings=set_, mode=mode,
             partial=partial)
    else:
        show_conventions(convention, spec, input, layout, batch, format, depth, columns, pass_, set_, mode, partial)


def show_conventions(names: str, spec: str, input_shape, layout, batch, fmt: Format, depth, columns, pass_: Pass,
                     settings: Optional[List[str]] = None, mode: Mode = Mode.eval, partial: bool = False) -> None:
    def work():
        from ..analysis import fold
        from ..errors import UsageError
        from ..figures.conventions import convention_counts, resolve_conventions
        from ..render import conventions as view
        from ..render.boxtable import ascii_only

        if pass_ is not Pass.forward:
            raise UsageError("--convention counts the forward pass, as the peer tools do; leave out --pass")
        if columns is not None:
            raise UsageError("--columns does not apply to --convention (its columns are the tools)")
        chosen = resolve_conventions(names)
        given = typed_input(input_shape, layout)
        report = build_report(spec, given, batch, settings=settings, mode=mode, partial=partial)
        rows, counted = fold(report, depth), convention_counts(report, chosen)
        if fmt is not Format.table:
            sys.stdout.write(view.render_text(report, rows, counted, fmt.value, input_json(given)))
        elif sys.stdout.isatty() or (text := view.plain_text(report, rows, counted, output_width(),
                                                             ascii_only(sys.stdout.encoding))) is None:
            view.print_rich(report, rows, counted, console())
        else:
            sys.stdout.write(text)

    run_guarded(work)


DrawOpt = typer.Option(None, "--draw", metavar="IMAGE", show_default=False,
                       help="Instead of the table: draw the receptive field of one output position (--layer, --at) on "
                       "this picture, resized to the net's input size; write it to --output (.png, .jpg, .webp). Pillow: "
                       'pip install "archcalc\\[plot]".')
CheckerboardOpt = typer.Option(False, "--checkerboard", help="Like --draw, on a checkerboard of the input's size.")
FieldLayerOpt = typer.Option(None, "--layer", help="With --draw/--checkerboard: the layer whose output position to "
                             "draw. (default: the last layer whose field is a window of the input)", show_default=False)
AtOpt = typer.Option(None, "--at", metavar="ROW,COL", help="With --draw/--checkerboard: the output position, from 0. "
                     "(default: the middle one)", show_default=False)
DrawOutputOpt = typer.Option(None, "--output", "-o", help="With --draw/--checkerboard: the picture to write.",
                             show_default=False)
ScaleOpt = typer.Option(None, "--scale", min=0.01, max=64.0, help="With --draw/--checkerboard: picture pixels per "
                        "input pixel. (default: about 768 pixels on the long side)", show_default=False)


@app.command()
def rf(spec: str = SpecArg, input: Optional[str] = InputOpt, layout: Optional[str] = LayoutOpt,
       batch: Optional[int] = BatchOpt, format: Format = FormatOpt, depth: Optional[int] = DepthOpt,
       columns: Optional[str] = ColumnsOpt, set_: Optional[List[str]] = SetOpt,
       mode: Mode = ModeOpt, draw: Optional[Path] = DrawOpt, checkerboard: bool = CheckerboardOpt,
       layer: Optional[str] = FieldLayerOpt, at: Optional[str] = AtOpt, output: Optional[Path] = DrawOutputOpt,
       scale: Optional[float] = ScaleOpt, partial: bool = PartialOpt) -> None:
    """Per-layer receptive field: size, effective stride, effective padding (per axis when H and W differ).
    With --draw IMAGE or --checkerboard: one output position's field drawn on a picture."""
    if draw is None and not checkerboard:
        if layer is not None or at is not None or output is not None or scale is not None:
            run_guarded(_needs_draw)
        show("rf", spec, input, layout, batch, format, depth, columns, settings=set_, mode=mode, partial=partial)
        return

    def work():
        from ..errors import UsageError
        from .plots import draw_field

        if draw is not None and checkerboard:
            raise UsageError("--draw IMAGE and --checkerboard each give the picture to draw on; give one")
        draw_field(spec, typed_input(input, layout), batch, set_, mode, draw, layer, at, output, scale)

    run_guarded(work)


def _needs_draw():
    from ..errors import UsageError

    raise UsageError("--layer, --at, --output and --scale draw a field: add --draw IMAGE or --checkerboard")


@app.command()
def summary(spec: str = SpecArg, input: Optional[str] = InputOpt, layout: Optional[str] = LayoutOpt,
            batch: Optional[int] = BatchOpt, format: Format = FormatOpt, depth: Optional[int] = DepthOpt,
            dtype: DType = DTypeOpt, columns: Optional[str] = ColumnsOpt, set_: Optional[List[str]] = SetOpt,
           mode: Mode = ModeOpt, partial: bool = PartialOpt) -> None:
    """One table: output shapes, parameters, MACs, receptive field and activation size."""
    show("summary", spec, input, layout, batch, format, depth, columns, dtype, set_, mode, partial)


@app.command()
def layers(format: Format = typer.Option(Format.table, "--format", "-f", help="Output format; markdown is the full reference.")) -> None:
    """List the layer types a spec can use, with their arguments (markdown: the full reference)."""
    from ..render import reference

    rows = reference.rows()
    headers = ("Type", "Aliases", "Arguments", "What it is")
    if format is Format.markdown:
        sys.stdout.write(reference.markdown())
    elif format is Format.json:
        from ..render.writers import json_text

        sys.stdout.write(json_text([dict(zip(("type", "aliases", "arguments", "summary"), r)) for r in rows]))
    elif format is Format.csv:
        from ..render.writers import csv_text

        sys.stdout.write(csv_text(headers, rows))
    else:
        from ..render.boxtable import print_box_table

        print_box_table(console(), "layer types", headers, [False] * len(headers), rows)
