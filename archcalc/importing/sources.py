"""The SOURCE dispatch: which arguments name a model to import rather than a spec, and turning one
into spec text. Every command that takes a SPEC goes through ``import_source`` first:

- ``torchvision:NAME`` and ``timm:NAME`` (built without weights), optionally with constructor
  arguments: ``torchvision:resnet50(num_classes=10)``;
- ``path/to/file.py:ClassOrFactory`` or ``file.py:Net(width=64)``: the file is run as a module
  and the object called (a module instance is taken as it is); the arguments are Python
  literals, read with ast.literal_eval, never evaluated as code;
- ``model.onnx``: an ONNX file (archcalc.importing.onnx_reader); ``model.pt2``: a program saved
  with torch.export.save, read through the ATen table (archcalc.pytorch.pt2_source).

An existing file that is not ``.pt2``/``.onnx`` is a spec, and a name that is not one of these
forms goes on to the bundled nets, as before. Nothing here imports torch; the PyTorch side is
reached lazily."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecError, UsageError, clip

MODEL_FILE_SUFFIXES = (".pt2", ".onnx")
_CALL = re.compile(r"^(?P<target>[A-Za-z_][A-Za-z0-9_.]*)\s*(?:\((?P<args>.*)\))?\s*$", re.DOTALL)
_PYFILE = re.compile(r"^(?P<path>.+?\.py):(?P<call>[A-Za-z_].*)$", re.DOTALL)
ZOOS = ("torchvision", "timm")


@dataclass(frozen=True)
class Source:
    """A model to import: ``kind`` (torchvision, timm, python, pt2, onnx), what names it
    (``target``: a model name, an object in a file), the file, the constructor arguments."""

    kind: str
    text: str
    target: str = ""
    file: str = ""
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.text

    @property
    def name(self) -> str:
        """The net's name in the written spec."""
        if self.kind in ("pt2", "onnx"):
            return Path(self.file).stem
        return self.target.rpartition(".")[2]


def _exists(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def parse_source(argument: str) -> Source | None:
    """The model an argument names, or None when it is a spec (a file, a bundled name)."""
    path = Path(argument)
    if _exists(path):
        suffix = path.suffix.lower()
        return Source(suffix[1:], argument, file=argument) if suffix in MODEL_FILE_SUFFIXES else None
    zoo, colon, rest = argument.partition(":")
    if colon and zoo in ZOOS:
        target, args, kwargs = parse_call(rest, argument)
        return Source(zoo, argument, target=target, args=args, kwargs=kwargs)
    match = _PYFILE.match(argument)
    if match:
        target, args, kwargs = parse_call(match["call"], argument)
        return Source("python", argument, target=target, file=match["path"], args=args, kwargs=kwargs)
    if path.suffix.lower() in MODEL_FILE_SUFFIXES:
        raise SpecError("file not found", file=argument)
    return None


def parse_call(text: str, argument: str) -> tuple[str, tuple, dict]:
    """``Net`` or ``Net(64, width=2, sizes=[1, 2])``: the name and the literal arguments."""
    match = _CALL.match(text.strip())
    if not match:
        raise UsageError(f"'{clip(argument)}': expected NAME or NAME(arguments) after ':'")
    target, inner = match["target"], match["args"]
    if inner is None or not inner.strip():
        return target, (), {}
    try:
        call = ast.parse(f"f({inner})", mode="eval").body
    except SyntaxError:
        raise UsageError(f"'{clip(argument)}': the arguments are not valid Python") from None
    if not isinstance(call, ast.Call) or any(isinstance(a, ast.Starred) for a in call.args) or \
            any(k.arg is None for k in call.keywords):
        raise UsageError(f"'{clip(argument)}': the arguments must be plain values (name=value)")
    try:
        args = tuple(ast.literal_eval(a) for a in call.args)
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise UsageError(f"'{clip(argument)}': arguments must be Python literals (numbers, strings, True/False/None, "
                         "lists, tuples, dicts); nothing is evaluated") from None
    return target, args, kwargs


@dataclass
class ImportedSpec:
    """A source turned into a spec: its YAML text, the name to show, what was not counted, and
    the imported net (for verify)."""

    source: Source
    text: str
    not_counted: list[str]
    result: Any = None


def import_source(source: Source, input_shape=None, partial: bool = False) -> ImportedSpec:
    """Import a model source into spec text (``input_shape``: CxHxW, or the source's default)."""
    if source.kind == "onnx":
        return _import_onnx(source, input_shape)
    from ..pytorch.verify import require_torch

    require_torch()
    if source.kind == "pt2":
        from ..pytorch.pt2_source import import_pt2

        result = import_pt2(source, input_shape, partial)
        return ImportedSpec(source, result.text, list(result.not_counted), result)
    from ..pytorch.fx_sources import import_torch_source

    result = import_torch_source(source, input_shape, partial)
    return ImportedSpec(source, result.text, list(result.not_counted), result)


def _import_onnx(source: Source, input_shape) -> ImportedSpec:
    import importlib

    try:
        reader = importlib.import_module("archcalc.importing.onnx_reader")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("archcalc"):
            raise UsageError("ONNX import is not available in this version") from None
        raise UsageError(f"ONNX import needs the '{exc.name}' package (pip install onnx)") from None
    from .yaml_writer import write_yaml

    data = reader.spec_from_onnx(source.file, input_shape=tuple(input_shape) if input_shape else None)
    return ImportedSpec(source, write_yaml(data, header=f"{source.name}: imported from {source.file} by archcalc"), [])
