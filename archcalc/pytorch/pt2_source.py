"""torch.export programs as an import source: a ``.pt2`` file saved with ``torch.export.save``
(loaded with ``torch.export.load``, torch's own format: it unpickles the weights, so a .pt2 file
is trusted like any pickle), and a module exported with ``torch.export.export`` where torch.fx
cannot trace its code (a loop over a tensor's parts, ``torch.cond``). Either program is read
through the ATen table (aten_import), then nested, folded, written and checked like an fx import
(imported.finish_import), and its totals checked against the program's own tensors."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
import zipfile
from pathlib import Path

import torch

from ..errors import SpecError, UsageError, clip
from .aten_import import read_program
from .aten_program import program_input
from .fx_trace import ImportError_, on_meta
from .imported import Imported, finish_import


_UNPACK_RATIO = 20  # unpacked size / file size past which an archive is refused (a zip bomb), above
_UNPACK_FREE = 1 << 30  # bytes any archive may unpack to


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {clip(text, 300)}" if text else type(exc).__name__


@contextlib.contextmanager
def _quiet():
    """torch's deprecation chatter and logged errors while it loads or exports (the user cannot act
    on them; a failure is reported as one line)."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):  # export prints the graph it failed on
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def load_program(file: str):
    """The ExportedProgram saved in ``file``: a zip archive torch.export.load reads; anything
    else (not a zip, truncated, another kind of archive) is one line."""
    path = Path(file)
    if not path.is_file():
        raise SpecError("file not found", file=file)
    if not zipfile.is_zipfile(path):
        raise SpecError("not a saved torch.export program (.pt2 is a zip archive written by torch.export.save)",
                        file=file)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise SpecError(f"a damaged archive ({_reason(exc)})", file=file) from None
    names = [m.filename for m in members]
    unpacked = sum(m.file_size for m in members)
    if unpacked > max(_UNPACK_RATIO * path.stat().st_size, _UNPACK_FREE):  # torch stores, never compresses much
        raise SpecError(f"the archive unpacks to {unpacked:,} bytes, {unpacked // max(path.stat().st_size, 1):,} times "
                        "its size; refused (a saved program's weights are stored, not compressed)", file=file)
    if not any(name.rstrip("/").endswith(".json") or "/models/" in name for name in names):
        raise SpecError("a zip archive but not a saved torch.export program (no serialized model in it)", file=file)
    try:
        with _quiet():
            return torch.export.load(str(path))
    except Exception as exc:  # noqa: BLE001  torch raises many kinds for files it cannot read
        raise SpecError(f"torch.export.load cannot read it: {_reason(exc)}", file=file) from None


def import_pt2(source, input_shape=None, partial: bool = False) -> Imported:
    """Import a .pt2 source: its input shape is the one it was exported for."""
    program = load_program(source.file)
    exported = program_input(program)
    if input_shape and tuple(input_shape) != exported[1:]:
        shape = "x".join(map(str, exported[1:]))
        raise UsageError(f"{source.file} was exported for a {shape} input; --input cannot change a saved program's "
                         "sizes (export it again at the size you want)")
    return import_program(program, name=source.name, partial=partial,
                          description=f"imported from {Path(source.file).name}")


def import_program(program, *, name: str, partial: bool = False, blocks: bool = True, description: str = "") -> Imported:
    from ..analysis import analyze

    net = read_program(program, name, partial=partial)
    net.description = description
    result = finish_import(net, name, blocks, batch=program_input(program)[0])
    if not partial:
        _check_totals(program, analyze(result.graph), name)
    return result


def _check_totals(program, report, name: str) -> None:
    """The analysis holds exactly the program's parameters and buffers (never a silent miscount)."""
    params = sum(int(t.numel()) for t in _placeholders(program, "PARAMETER"))
    buffers = sum(int(t.numel()) for t in _placeholders(program, "BUFFER"))
    if (report.total.params, report.total.buffers) != (params, buffers):
        raise ImportError_(f"{name}: the import holds {report.total.params:,} parameters and {report.total.buffers:,} "
                           f"buffer elements, the program {params:,} and {buffers:,}")


def _placeholders(program, *kinds: str):
    names = {s.arg.name for s in program.graph_signature.input_specs if s.kind.name in kinds}
    return [n.meta["val"] for n in program.graph.nodes if n.op == "placeholder" and n.name in names]


def export_module(module: torch.nn.Module, input_shape, batch: int = 1):
    """torch.export.export of the module on one example (meta for a module built there)."""
    device = "meta" if on_meta(module) else "cpu"
    example = torch.empty(batch, *input_shape, device=device)
    was_training = module.training
    module.eval()
    try:
        with _quiet():
            return torch.export.export(module, (example,))
    finally:
        module.train(was_training)


def import_by_export(module: torch.nn.Module, input_shape, cannot: ImportError_, *, name: str, batch: int = 1,
                     partial: bool = False, blocks: bool = True, description: str = "") -> Imported:
    """The fallback where torch.fx cannot trace: torch.export and the ATen table; where export
    fails as well, one line saying why each failed."""
    try:
        program = export_module(module, input_shape, batch)
    except Exception as exc:  # noqa: BLE001  export raises many kinds for code it cannot follow
        raise ImportError_(f"{cannot}; torch.export cannot either: {_reason(exc)}") from None
    if program_input(program)[0] != batch:
        raise ImportError_(f"{name}: the exported program changed the batch size")
    result = import_program(program, name=name, partial=partial, blocks=blocks, description=description)
    result.notes.append(f"read through torch.export (torch.fx cannot trace {type(module).__name__})")
    return result
