"""The analysis views: params, flops, rf, summary; and the layer-type listing."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from .app import (BatchOpt, DepthOpt, DType, DTypeOpt, Format, FormatOpt, InputOpt, SpecArg, app, build_report, console,
                  run_guarded)


def show(view: str, spec: str, input_shape, batch, fmt: Format, depth, dtype: DType = DType.float32) -> None:
    def work():
        from ..analysis import fold
        from ..render import plain_table, print_table, render

        report = build_report(spec, input_shape, batch, dtype.value)
        rows = fold(report, depth)
        if fmt is Format.table:
            # piped: the same text without styling, and without loading rich (a tenth of the run)
            text = None if sys.stdout.isatty() else plain_table(report, rows, view)
            if text is None:
                print_table(report, rows, view, console())
            else:
                sys.stdout.write(text)
        else:
            sys.stdout.write(render(report, rows, view, fmt.value))

    run_guarded(work)


@app.command()
def params(spec: str = SpecArg, input: Optional[str] = InputOpt, batch: Optional[int] = BatchOpt,
           format: Format = FormatOpt, depth: Optional[int] = DepthOpt) -> None:
    """Per-layer parameters with the formula behind each; totals (trainable, non-trainable, buffers)."""
    show("params", spec, input, batch, format, depth)


@app.command()
def flops(spec: str = SpecArg, input: Optional[str] = InputOpt, batch: Optional[int] = BatchOpt,
          format: Format = FormatOpt, depth: Optional[int] = DepthOpt) -> None:
    """Per-layer MACs and FLOPs (as torch's FlopCounterMode counts them) and each layer's share."""
    show("flops", spec, input, batch, format, depth)


@app.command()
def rf(spec: str = SpecArg, input: Optional[str] = InputOpt, batch: Optional[int] = BatchOpt,
       format: Format = FormatOpt, depth: Optional[int] = DepthOpt) -> None:
    """Per-layer receptive field: size, effective stride, effective padding (per axis when H and W differ)."""
    show("rf", spec, input, batch, format, depth)


@app.command()
def summary(spec: str = SpecArg, input: Optional[str] = InputOpt, batch: Optional[int] = BatchOpt,
            format: Format = FormatOpt, depth: Optional[int] = DepthOpt, dtype: DType = DTypeOpt) -> None:
    """One table: output shapes, parameters, MACs, receptive field and activation size."""
    show("summary", spec, input, batch, format, depth, dtype)


@app.command()
def layers(format: Format = typer.Option(Format.table, "--format", "-f", help="table, or markdown for the full reference")) -> None:
    """List the layer types a spec can use, with their arguments (markdown: the full reference)."""
    from ..render import reference

    if format is Format.markdown:
        sys.stdout.write(reference.markdown())
        return
    if format is Format.json:
        from ..render.writers import json_text

        sys.stdout.write(json_text([dict(zip(("type", "aliases", "arguments", "summary"), r)) for r in reference.rows()]))
        return
    from rich.table import Table

    table = Table(title="layer types", header_style="bold")
    for header in ("Type", "Aliases", "Arguments", "What it is"):
        table.add_column(header, overflow="fold")
    for row in reference.rows():
        table.add_row(*row)
    console().print(table)
