"""The one typer app, the options commands share, the guarded runner (every user mistake: one
line, exit 2) and SPEC loading. Command modules register on ``app``; archcalc.cli imports them."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Optional

import typer

from ..errors import ArchcalcError

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

    from ..render import PIPED_WIDTH

    out = Console()
    return out if out.is_terminal else Console(width=PIPED_WIDTH)


def load_spec(spec: str, input_shape: Optional[str], batch: Optional[int], resolve=None):
    """(graph, parsed --input) for a SPEC argument; ``resolve`` maps the argument to a file
    (default archcalc.spec.bundled.resolve_spec)."""
    from ..graph import load_graph
    from ..spec import parse_cli_shape
    from ..spec.bundled import resolve_spec

    shape = parse_cli_shape(input_shape) if input_shape else None
    return load_graph((resolve or resolve_spec)(spec), input_shape=shape, batch=batch), shape


def build_report(spec: str, input_shape: Optional[str], batch: Optional[int], dtype: str = "float32", resolve=None):
    from ..analysis import analyze

    graph, shape = load_spec(spec, input_shape, batch, resolve)
    return analyze(graph, input_shape=shape, batch=batch, dtype=dtype)
