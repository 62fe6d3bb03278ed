"""Command line: thin typer commands over spec -> graph -> analysis -> render."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Optional

import typer

from .errors import ArchcalcError

app = typer.Typer(
    name="archcalc",
    help="Analyse CNN architectures exactly: shapes, parameters (with formulas), MACs/FLOPs, "
    "receptive fields and memory, from a YAML spec, without building the net.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class DType(str, Enum):
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"
    float64 = "float64"


def fail(exc: BaseException) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(2)


def run_guarded(function):
    """Every user mistake becomes one line on stderr and exit status 2."""
    try:
        return function()
    except ArchcalcError as exc:
        fail(exc)
    except RecursionError:
        fail(ArchcalcError("the spec nests too deeply"))
    except MemoryError:
        fail(ArchcalcError("out of memory while reading the spec"))


SpecArg = typer.Argument(..., help="A spec file, or the name of a bundled net (see `archcalc zoo`).", show_default=False)
InputOpt = typer.Option(None, "--input", "-i", help="Input shape CxHxW (e.g. 3x224x224); overrides the spec.")
BatchOpt = typer.Option(None, "--batch", "-b", min=1, max=1 << 20, help="Batch size: scales MACs, FLOPs and activations, never parameters. [default: the spec's, else 1]")
FormatOpt = typer.Option(Format.table, "--format", "-f", help="Output format.")
DepthOpt = typer.Option(None, "--depth", "-d", min=1, help="Fold layers deeper than N into their block's row.")
DTypeOpt = typer.Option(DType.float32, "--dtype", help="Element type for activation bytes.")


def console():
    """A rich console; when output is piped, wide enough that tables do not wrap."""
    from rich.console import Console

    from .render import PIPED_WIDTH

    out = Console()
    return out if out.is_terminal else Console(width=PIPED_WIDTH)


def load_spec(spec: str, input_shape: Optional[str], batch: Optional[int], resolve=None):
    """(graph, parsed --input) for a SPEC argument; ``resolve`` maps the argument to a file
    (default archcalc.zoo.resolve_spec)."""
    from .spec import load_graph, parse_cli_shape
    from .zoo import resolve_spec

    shape = parse_cli_shape(input_shape) if input_shape else None
    return load_graph((resolve or resolve_spec)(spec), input_shape=shape, batch=batch), shape


def build_report(spec: str, input_shape: Optional[str], batch: Optional[int], dtype: str = "float32", resolve=None):
    from .analysis import analyze

    graph, shape = load_spec(spec, input_shape, batch, resolve)
    return analyze(graph, input_shape=shape, batch=batch, dtype=dtype)


def show(view: str, spec: str, input_shape, batch, fmt: Format, depth, dtype: DType = DType.float32) -> None:
    def work():
        from .analysis import fold
        from .render import plain_table, print_table, render

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
    from .render import reference

    if format is Format.markdown:
        sys.stdout.write(reference.markdown())
        return
    if format is Format.json:
        import json

        sys.stdout.write(json.dumps([dict(zip(("type", "aliases", "arguments", "summary"), r)) for r in reference.rows()], indent=2) + "\n")
        return
    from rich.table import Table

    table = Table(title="layer types", header_style="bold")
    for header in ("Type", "Aliases", "Arguments", "What it is"):
        table.add_column(header, overflow="fold")
    for row in reference.rows():
        table.add_row(*row)
    console().print(table)


def main() -> None:
    app()


# Command groups live in their own modules; importing them registers their commands on `app`.
from . import cli_homework, cli_torch, cli_zoo  # noqa: E402,F401
