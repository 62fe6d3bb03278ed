"""A spec file's top level, validated: name, input, batch, net arguments, blocks, layers, output.
Every mistake is a SpecError with the file and the line of the offending key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SpecError, clip, near_miss
from .loader import PosDict, parse_yaml, read_text
from .shapes import parse_shape

TOP_KEYS = ("name", "description", "input", "batch", "args", "blocks", "layers", "output")
BLOCK_KEYS = ("args", "layers", "output", "comment")
MAX_BATCH = 1 << 20


@dataclass
class SpecDocument:
    """The validated top level of a spec; ``layers`` and block bodies are expanded by
    archcalc.graph."""

    file: str
    name: str
    description: str
    input_shape: tuple[int, ...]
    batch: int
    net_args: PosDict | dict
    blocks: PosDict | dict
    layers: Any
    output: Any  # a top-level layer name, or None for the last layer
    data: PosDict  # the whole mapping, for source positions

    def position_of(self, key: str) -> tuple[int | None, int | None]:
        return self.data.position_of(key)


def read_document(source: str | Path, *, text: str | None = None, input_shape=None, batch: int | None = None) -> SpecDocument:
    """Read and validate a spec's top level (``input_shape``/``batch`` override the spec's)."""
    file = str(source)
    data = parse_yaml(read_text(source) if text is None else text, file)
    _check_top_keys(data, file)
    if "layers" not in data:
        raise SpecError("spec has no 'layers'", file=file, line=1)
    if input_shape is None:
        input_shape = _input_shape(data, file)
    if batch is None:
        batch = _batch(data, file)
    blocks = data.get("blocks") or {}
    _check_blocks(blocks, data, file)
    net_args = data.get("args") or {}
    if not isinstance(net_args, dict):
        raise SpecError("'args' must be a mapping of names to values", file=file, line=data.position_of("args")[0])
    return SpecDocument(file=file, name=_text(data, "name", file) if data.get("name") else Path(file).stem,
                        description=_text(data, "description", file) if "description" in data else "",
                        input_shape=tuple(input_shape), batch=batch, net_args=net_args, blocks=blocks,
                        layers=data["layers"], output=data.get("output"), data=data)


def _text(data: PosDict, key: str, file: str) -> str:
    """A name or description: a text (or a number), never a structure to be printed."""
    value = data[key]
    if isinstance(value, (dict, list)):
        line, column = data.position_of(key)
        raise SpecError(f"'{key}' must be a text, not a {'mapping' if isinstance(value, dict) else 'list'}",
                        file=file, line=line, column=column)
    return str(value)


def _check_top_keys(data: PosDict, file: str) -> None:
    for key in data:
        if key not in TOP_KEYS:
            near = near_miss(key, TOP_KEYS)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            line, column = data.position_of(key)
            raise SpecError(f"unknown top-level key '{clip(key)}'{hint} (keys: {', '.join(TOP_KEYS)})", file=file, line=line, column=column)


def _input_shape(data: PosDict, file: str) -> tuple[int, ...]:
    if "input" not in data:
        raise SpecError("spec has no 'input' (e.g. input: 3x224x224); or pass --input", file=file, line=1)
    try:
        return parse_shape(data["input"])
    except SpecError as exc:
        line, column = data.position_of("input")
        raise exc.located(file=file, line=line, column=column)


def _batch(data: PosDict, file: str) -> int:
    batch = data.get("batch", 1)
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        line, column = data.position_of("batch")
        raise SpecError(f"batch must be a whole number from 1 to {MAX_BATCH:,}", file=file, line=line, column=column)
    return batch


def _check_blocks(blocks: Any, data: PosDict, file: str) -> None:
    from ..layers import lookup  # block names must not shadow layer types

    if not isinstance(blocks, dict):
        raise SpecError("'blocks' must map block names to definitions", file=file, line=data.position_of("blocks")[0])
    for block_name, definition in blocks.items():
        where = blocks.position_of(block_name) if isinstance(blocks, PosDict) else (None, None)
        if not isinstance(definition, dict) or "layers" not in definition:
            raise SpecError(f"block '{clip(block_name)}' needs 'layers'", file=file, line=where[0], column=where[1])
        for key in definition:
            if key not in BLOCK_KEYS:
                line, column = definition.position_of(key)
                raise SpecError(f"unknown key '{clip(key)}' in block '{clip(block_name)}' (args, layers, output)", file=file, line=line, column=column)
        declared = definition.get("args")
        if declared is not None and not isinstance(declared, (dict, list)):
            raise SpecError(f"args of block '{clip(block_name)}' must be a mapping of defaults or a list of names",
                            file=file, line=definition.position_of("args")[0])
        if lookup(block_name) is not None or block_name == "sequential":
            raise SpecError(f"block name '{clip(block_name)}' is already a layer type", file=file, line=where[0], column=where[1])
