"""Figures built on Reports: compare (nets side by side) and memory (training and inference)."""

from __future__ import annotations

import sys
from enum import Enum
from typing import List, Optional

import typer

from .app import (BatchOpt, DType, DTypeOpt, Format, FormatOpt, InputOpt, LayoutOpt, app, build_report, console, run_guarded,
                  typed_input)


@app.command()
def compare(specs: List[str] = typer.Argument(..., help="Two or more spec files, bundled nets or comparisons "
                                               "(architectures/compare/*.yaml, also as compare/NAME or NAME).",
                                               show_default=False),
            input: Optional[str] = InputOpt, layout: Optional[str] = LayoutOpt, batch: Optional[int] = BatchOpt,
            format: Format = FormatOpt, dtype: DType = DTypeOpt,
            convention: Optional[str] = typer.Option(None, "--convention", help="Add rows with peer tools' counts "
                                                     "(torchinfo, fvcore, thop, ...; a comma-separated list or all). "
                                                     "JSON always holds every tool's total.")) -> None:
    """Nets side by side: parameters, MACs, FLOPs, final RF, peak and total activations, output; ratios to the first."""

    def work():
        from ..figures.compare import figures, print_table, render_text
        from ..figures.conventions import resolve_conventions
        from ..spec.bundled import resolve_compare_spec
        from ..errors import UsageError

        if len(specs) < 2:
            raise UsageError("compare needs at least two nets")
        shown = [c.name for c in resolve_conventions(convention)] if convention is not None else []
        given = typed_input(input, layout)
        items = [figures(build_report(spec, given, batch, dtype.value, resolve_compare_spec)) for spec in specs]
        if format is Format.table:
            print_table(items, console(), shown)
        else:
            sys.stdout.write(render_text(items, format.value, shown))

    run_guarded(work)


class Optimizer(str, Enum):
    sgd = "sgd"
    momentum = "momentum"
    nesterov = "nesterov"
    adagrad = "adagrad"
    adadelta = "adadelta"
    rmsprop = "rmsprop"
    adam = "adam"
    adamw = "adamw"


@app.command()
def memory(spec: str = typer.Argument(..., help="A spec file, bundled net or comparison.", show_default=False),
           input: Optional[str] = InputOpt, layout: Optional[str] = LayoutOpt, batch: Optional[int] = BatchOpt,
           dtype: DType = DTypeOpt,
           optimizer: Optimizer = typer.Option(Optimizer.adam, "--optimizer", "-O", help="Optimizer whose state to count."),
           format: Format = FormatOpt) -> None:
    """Training memory (weights, gradients, optimizer state, saved activations) and inference memory
    (weights plus peak live activations), each with its formula. Assumptions: docs/memory.md."""

    def work():
        from ..spec.bundled import resolve_compare_spec
        from ..figures.memory import memory_report, print_memory, render_memory

        given = typed_input(input, layout)
        result = memory_report(build_report(spec, given, batch, dtype.value, resolve_compare_spec), optimizer.value)
        if format is Format.table:
            print_memory(result, console())
        else:
            sys.stdout.write(render_memory(result, format.value))

    run_guarded(work)
