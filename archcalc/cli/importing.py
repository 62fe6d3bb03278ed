"""`archcalc import SOURCE -o net.yaml`: a model (torchvision:NAME, timm:NAME, file.py:Class,
an .onnx or .pt2 file) written as a readable spec."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from .app import InputOpt, LayoutOpt, app, note, run_guarded, typed_input

SourceArg = typer.Argument(..., show_default=False, help="torchvision:NAME, timm:NAME, path/to/file.py:Class (or "
                           "'file.py:Net(width=64)'), an .onnx file or a torch.export .pt2 file.")


@app.command("import")
def import_(source: str = SourceArg, output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the spec "
            "to this file (default: stdout)."), input: Optional[str] = InputOpt, layout: Optional[str] = LayoutOpt,
            partial: bool = typer.Option(False, "--partial", help="Write the operations archcalc can express; list "
                                         "those left out at the top of the spec and on stderr.")) -> None:
    """Import a model as a spec: layers named after the module's paths, repeated modules written once as blocks;
    analysing the written spec gives exactly the import's figures."""
    def work():
        from ..errors import UsageError
        from ..importing.sources import import_source, parse_source

        parsed = parse_source(source)
        if parsed is None:
            raise UsageError(f"'{source}' is a spec or a bundled net, not a model to import (torchvision:NAME, "
                             "timm:NAME, file.py:Class, .onnx, .pt2)")
        given = typed_input(input, layout)
        imported = import_source(parsed, given.shape if given is not None else None, partial)
        text = imported.text
        if imported.not_counted:
            text = "".join(f"# not counted: {line}\n" for line in imported.not_counted) + text
        for line in getattr(imported.result, "notes", ()) or ():
            note(line)
        for line in imported.not_counted:
            note(f"not counted: {line}")
        if output is None:
            sys.stdout.write(text)
            return
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
        note(f"wrote {output}")

    run_guarded(work)
