"""A spec file's top level, validated: name, input, batch, net arguments, blocks, layers, output.
Every mistake is a SpecError with the file and the line of the offending key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecError, brief, clip, near_miss
from .blockimports import imported_blocks
from .loader import PosDict, parse_yaml, read_text
from .shapes import parse_shape
from .variants import Override, check_variants, setting_overrides, variant_overrides

TOP_KEYS = ("name", "description", "input", "inputs", "batch", "args", "variants", "blocks", "blocks_from", "layers", "output",
            "outputs")
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
    variants: dict = field(default_factory=dict)  # name -> the variant's mapping
    variant: str | None = None  # the variant read, if any
    overrides: dict[str, Override] = field(default_factory=dict)  # net argument -> its chosen value
    outputs: list[tuple[str, str, Any]] | None = None  # 'outputs': (name, mode, where), mode 'all', 'train' or 'eval'
    block_files: dict[str, str] = field(default_factory=dict)  # an imported block (blocks_from) -> its file
    # 'inputs': the first is the main input (input_shape, its name here); the others as
    # (name, shape, line); an input declared with the main input's shape follows --input
    input_name: str = "input"
    other_inputs: list[tuple[str, tuple[int, ...], Any]] = field(default_factory=list)

    def position_of(self, key: str) -> tuple[int | None, int | None]:
        return self.data.position_of(key)


def read_document(source: str | Path, *, text: str | None = None, input_shape=None, batch: int | None = None,
                  variant: str | None = None, settings: dict | None = None) -> SpecDocument:
    """Read and validate a spec's top level (``input_shape``/``batch`` override the spec's;
    ``variant`` picks one of its ``variants``; ``settings`` replace net arguments, as --set)."""
    file = str(source)
    data = parse_yaml(read_text(source) if text is None else text, file)
    _check_top_keys(data, file)
    if "layers" not in data:
        raise SpecError("spec has no 'layers'", file=file, line=1)
    net_args = data.get("args") or {}
    if not isinstance(net_args, dict):
        raise SpecError("'args' must be a mapping of names to values", file=file, line=data.position_of("args")[0])
    variants = check_variants(data, file)
    chosen, overrides = variant_overrides(variants, variant, file) if variant is not None else ({}, {})
    overrides.update(setting_overrides(settings or {}, net_args, file))
    declared = _declared_inputs(data, file)
    if declared and input_shape is None:
        input_shape = declared[0][1]
    if input_shape is None:
        input_shape = _input_shape(chosen, file) if "input" in chosen else _input_shape(data, file)
    if batch is None:
        batch = _batch(data, file)
    blocks = data.get("blocks") or {}
    _check_blocks(blocks, data, file)
    imported, block_files = imported_blocks(data, file, _check_blocks)
    twice = next((name for name in blocks if name in imported), None)
    if twice is not None:
        where = blocks.position_of(twice) if isinstance(blocks, PosDict) else (None, None)
        raise SpecError(f"block '{clip(twice)}' is also imported from {clip(block_files[twice])} (blocks_from): "
                        "rename one", file=file, line=where[0], column=where[1])
    described = chosen if "description" in chosen else data
    return SpecDocument(file=file, name=variant or (_text(data, "name", file) if data.get("name") else Path(file).stem),
                        description=_text(described, "description", file) if "description" in described else "",
                        input_shape=tuple(input_shape), batch=batch, net_args=net_args, blocks={**imported, **blocks},
                        layers=data["layers"], output=data.get("output"), data=data, variants=variants,
                        variant=variant, overrides=overrides, outputs=_outputs(data, file), block_files=block_files,
                        **_input_fields(declared, tuple(input_shape)))


OUTPUT_MODES = ("train", "eval")
_INPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _declared_inputs(data: PosDict, file: str) -> list[tuple[str, tuple[int, ...], Any]]:
    """``inputs: {left: 3x224x224, right: 3x224x224}``: (name, shape, line) for each, in order."""
    if "inputs" not in data:
        return []
    line = data.position_of("inputs")[0]
    if "input" in data:
        raise SpecError("give 'input' or 'inputs', not both", file=file, line=line)
    entries = data["inputs"]
    if not isinstance(entries, dict) or not entries:
        raise SpecError("'inputs' must map input names to shapes (inputs: {left: 3x224x224, right: 3x224x224})",
                        file=file, line=line)
    result = []
    for name, shape in entries.items():
        where = entries.position_of(name) if isinstance(entries, PosDict) else (line, None)
        if not isinstance(name, str) or not _INPUT_NAME.fullmatch(name) or name == "input":
            raise SpecError(f"input name {brief(name)} must be a plain name (letters, digits, _; not 'input')",
                            file=file, line=where[0], column=where[1])
        try:
            result.append((name, parse_shape(shape), where[0]))
        except SpecError as exc:
            raise exc.located(file=file, line=where[0], column=where[1])
    return result


def _input_fields(declared: list, main_shape: tuple[int, ...]) -> dict:
    """The main input's name and the other inputs; one declared with the main input's shape takes
    the shape given for the main input (--input), so a Siamese net's two images stay alike."""
    if not declared:
        return {}
    first = declared[0][1]
    others = [(name, main_shape if shape == first else shape, line) for name, shape, line in declared[1:]]
    return {"input_name": declared[0][0], "other_inputs": others}


def _outputs(data: PosDict, file: str) -> list[tuple[str, str, Any]] | None:
    """``outputs: [fc, {name: aux1, mode: train, when: aux_logits}]``: (name, mode, where) for
    each (``when``, an expression over the net arguments, is read by the graph); the first is the
    net's main output and exists in every mode."""
    if "outputs" not in data:
        return None
    line = data.position_of("outputs")[0]
    if "output" in data:
        raise SpecError("give 'output' or 'outputs', not both", file=file, line=line)
    entries = data["outputs"]
    if not isinstance(entries, list) or not entries:
        raise SpecError("'outputs' must be a list of layer names, or of {name, mode} (mode: train or eval)", file=file, line=line)
    result = []
    for index, entry in enumerate(entries):
        where = entry if isinstance(entry, PosDict) else data
        if isinstance(entry, dict):
            extra = sorted(set(entry) - {"name", "mode", "when"}, key=str)
            if extra or "name" not in entry:
                problem = f"unknown key '{clip(str(extra[0]))}'" if extra else "no 'name'"
                raise SpecError(f"output {index + 1}: {problem} (an output is a name or {{name, mode, when}})", file=file,
                                line=getattr(where, "line", line))
            name, mode = entry["name"], entry.get("mode", "all")
            if mode not in OUTPUT_MODES and mode != "all":
                raise SpecError(f"output {index + 1}: mode must be train or eval, got {brief(mode)}", file=file,
                                line=where.position_of("mode")[0])
            if index == 0 and (mode != "all" or "when" in entry):
                raise SpecError("the first output is the net's main output and exists in every mode: give it no "
                                "'mode' or 'when'", file=file, line=where.position_of("mode" if "mode" in entry else "when")[0])
        else:
            name, mode = entry, "all"
        if not isinstance(name, str):
            raise SpecError(f"output {index + 1} must be a layer name, got {brief(name)}", file=file, line=getattr(where, "line", line))
        result.append((name, mode, where))
    return result


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
