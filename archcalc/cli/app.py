"""The one typer app, the options commands share, the guarded runner (every user mistake: one
line, exit 2) and SPEC loading. Command modules register on ``app``; archcalc.cli imports them."""

from __future__ import annotations

import copy
from enum import Enum
from pathlib import Path
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


def command_app(args: list[str]) -> typer.Typer:
    """The app to run ``args`` with: where they start with a command's name, the app with that
    command alone. typer builds a Click command (signature, type hints, every option) for each
    registered command on every run; for `archcalc params` the twenty others were a tenth of the
    run. The command's own help, errors and output do not depend on its siblings; anything else
    (`--help`, `--version`, a misspelt command and its suggestions) gets the whole app."""
    if args:
        wanted = [info for info in app.registered_commands
                  if (info.name or info.callback.__name__.lower().replace("_", "-")) == args[0]]
        if len(wanted) == 1:
            narrowed = copy.copy(app)
            narrowed.registered_commands = wanted
            return narrowed
    return app


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


class Pass(str, Enum):
    """Which pass `flops` counts and `verify` proves: forward, backward (loss.backward()) or train (both)."""

    forward = "forward"
    backward = "backward"
    train = "train"


def fail(exc: BaseException) -> None:
    from ..render.escape import visible

    typer.echo(f"error: {visible(str(exc))}", err=True)  # one line, and no terminal escapes from a name
    raise typer.Exit(2)


_pending_notes: list[str] | None = None  # notes of the guarded command running now


def run_guarded(function):
    """Every user mistake becomes one line on stderr and exit status 2; the command's notes
    (see note) are shown only when it succeeds, so a failure is that one line alone."""
    global _pending_notes
    outer, _pending_notes = _pending_notes, []
    try:
        result = function()
        notes = _pending_notes
    except ArchcalcError as exc:
        fail(exc)
    except RecursionError:
        fail(ArchcalcError("the spec nests too deeply"))
    except MemoryError:
        fail(ArchcalcError("out of memory while reading the spec"))
    finally:
        _pending_notes = outer
    for line in notes:
        note(line)
    return result


def note(line: str) -> None:
    """A remark about how the command read its input or laid out its table: on stderr, so piped
    output stays the data; inside run_guarded it waits for the command to succeed."""
    from ..render.escape import visible

    if _pending_notes is not None:
        _pending_notes.append(line)
        return
    typer.echo(visible(line), err=True)


def _show_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"archcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                          help="Print the version and exit.")) -> None:
    pass


SpecArg = typer.Argument(..., help="A spec file, or the name of a bundled net (see `archcalc zoo`).", show_default=False)
InputOpt = typer.Option(None, "--input", "-i", help="Input shape, CxHxW by default (e.g. 3x224x224; see --layout); CxL "
                        "(64x1000) and CxTxHxW (3x16x112x112) for 1-D and 3-D nets; overrides the spec.")
LayoutOpt = typer.Option(None, "--layout", "-l", help="How --input is written: chw = PyTorch's CxHxW (the default), hwc = HxWxC. "
                         "Without it, a shape that looks like HxWxC (224x224x3) is refused.")
BatchOpt = typer.Option(None, "--batch", "-b", min=1, max=1 << 20, help="Batch size: scales MACs, FLOPs and activations, never parameters. [default: the spec's, else 1]")
FormatOpt = typer.Option(Format.table, "--format", "-f", help="Output format.")
DepthOpt = typer.Option(None, "--depth", "-d", min=1, help="Fold layers deeper than N into their block's row.")
DTypeOpt = typer.Option(DType.float32, "--dtype", help="Element type for activation bytes.")
class Mode(str, Enum):
    """Which of a net's outputs exist: eval (inference) or train (auxiliary heads too)."""

    eval = "eval"
    train = "train"


ModeOpt = typer.Option(Mode.eval, "--mode", help="eval, or train: also run the layers only train-mode outputs use "
                       "(GoogLeNet's auxiliary heads); their parameters count in both.")
SetOpt = typer.Option(None, "--set", metavar="NAME=VALUE", show_default=False,
                      help="Set one of the net's arguments (its 'args'), e.g. --set num_classes=10; repeatable. VALUE is "
                      "a YAML number, true/false, list, or an expression over the net's other arguments.")


def output_width() -> int:
    """Piped output is laid out PIPED_WIDTH wide so tables do not wrap, unless COLUMNS says otherwise."""
    import os

    from ..render import PIPED_WIDTH

    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH


def console():
    """A rich console that never reads text as markup (names are user text: '[/x]' is a name,
    not a closing tag); when output is piped, output_width() wide."""
    from rich.console import Console

    out = Console(markup=False, highlight=False, emoji=False)
    return out if out.is_terminal else Console(width=output_width(), markup=False, highlight=False, emoji=False)


def typed_input(text: Optional[str], layout: Optional[str]):
    """--input as an InputMap (CxHxW unless --layout hwc), or None; says on stderr how it was read.
    Without --layout, a shape that looks like HxWxC is refused (homework.notation.check_layout)."""
    if text is None:
        if layout is not None:
            from ..homework.notation import parse_layout

            parse_layout(layout)
        return None
    from ..homework.notation import read_as_line, read_map

    given = read_map(text, layout, "chw", "--input", other_maps=True)  # CxL and CxTxHxW too
    note(read_as_line(given))
    return given


def load_spec(spec: str, given, batch: Optional[int], resolve=None, settings: Optional[list] = None,
              partial: bool = False):
    """(graph, input shape) for a SPEC argument and a typed_input() result; ``resolve`` maps the
    argument to a file (default archcalc.spec.bundled.resolve_spec); ``settings``: the --set texts.
    A model to import (torchvision:NAME, timm:NAME, file.py:Class, .onnx, .pt2) is imported first
    (archcalc.importing.sources); the graph then carries the import as ``graph.imported``."""
    from ..graph import load_graph
    from ..spec.bundled import resolve_spec
    from ..spec.variants import parse_settings

    shape = given.shape if given is not None else None
    values = parse_settings(settings)
    imported = import_spec(spec, shape, partial)
    if imported is not None:
        graph = load_graph(spec, text=imported.text, input_shape=shape, batch=batch, settings=values)
        graph.imported = imported
        return graph, shape
    if partial:
        from ..errors import UsageError

        raise UsageError("--partial applies to an imported model (torchvision:NAME, timm:NAME, file.py:Class, .onnx, .pt2)")
    return load_graph((resolve or resolve_spec)(spec), input_shape=shape, batch=batch, settings=values), shape


def import_spec(spec: str, shape, partial: bool = False):
    """The import of a SPEC argument that names a model (archcalc.importing.sources), or None."""
    if ":" not in spec and Path(spec).suffix.lower() in ("", ".yaml", ".yml"):
        return None  # a spec file or a bundled name: no need to load the import machinery
    from ..importing.sources import import_source, parse_source

    source = parse_source(spec)
    if source is None:
        return None
    imported = import_source(source, shape, partial)
    for line in getattr(imported.result, "notes", ()) or ():
        note(line)
    return imported


PartialOpt = typer.Option(False, "--partial", help="For an imported model: analyse the operations archcalc can "
                          "express and list, above the totals, exactly what was not counted (default: stop at the first).")


def build_report(spec: str, given, batch: Optional[int], dtype: str = "float32", resolve=None,
                 settings: Optional[list] = None, mode: Mode = Mode.eval, partial: bool = False):
    from ..analysis import analyze

    graph, shape = load_spec(spec, given, batch, resolve, settings, partial)
    report = analyze(graph, input_shape=shape, batch=batch, dtype=dtype, mode=Mode(mode).value)
    imported = getattr(graph, "imported", None)
    if imported is not None:
        report.not_counted = list(imported.not_counted)
    return report


def input_json(given) -> dict:
    """JSON keys saying how --input was read (none without --input: the spec's own CxHxW)."""
    return {} if given is None else {"layout": given.layout, "read_input_as": given.describe()}
