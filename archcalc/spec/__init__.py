"""Spec loading: YAML text -> validated top level -> expanded Graph."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from ..errors import SpecError, UsageError
from .loader import PosDict, parse_yaml, read_text

TOP_KEYS = ("name", "description", "input", "batch", "args", "blocks", "layers", "output")
MAX_DIM = 1 << 20  # a side or channel count beyond a million is a typo, not a net
MAX_BATCH = 1 << 20


def parse_shape(value: Any, what: str = "input") -> tuple[int, ...]:
    """CxHxW as '3x224x224', [3, 224, 224], {channels, height, width}, or a flat [features]."""
    if isinstance(value, dict):
        keys = {"channels": "c", "c": "c", "height": "h", "h": "h", "width": "w", "w": "w", "features": "f"}
        got = {}
        for key, v in value.items():
            if key not in keys:
                near = difflib.get_close_matches(key, list(keys), n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                raise SpecError(f"unknown {what} key '{key}'{hint} (use channels, height, width)")
            got[keys[key]] = v
        if "f" in got:
            dims = [got["f"]]
        else:
            missing = [k for k, full in (("c", "channels"), ("h", "height"), ("w", "width")) if k not in got]
            if missing:
                raise SpecError(f"{what} needs channels, height and width")
            dims = [got["c"], got["h"], got["w"]]
    elif isinstance(value, str):
        parts = re.split(r"\s*[x×,*]\s*", value.strip().lower())
        try:
            dims = [int(p) for p in parts]
        except ValueError:
            raise SpecError(f"{what} '{value}' is not of the form CxHxW, e.g. 3x224x224") from None
    elif isinstance(value, list):
        dims = value
    elif isinstance(value, int) and not isinstance(value, bool):
        dims = [value]
    else:
        raise SpecError(f"{what} must be CxHxW, e.g. 3x224x224 or [3, 224, 224]")
    if len(dims) not in (1, 3):
        raise SpecError(f"{what} must have 3 dimensions (CxHxW) or 1 (features), got {len(dims)}")
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise SpecError(f"{what} sizes must be positive integers, got {d!r}")
        if d > MAX_DIM:
            raise SpecError(f"{what} size {d:,} exceeds the limit of {MAX_DIM:,}")
    return tuple(dims)


def load_graph(source: str | Path, *, text: str | None = None, input_shape=None, batch: int | None = None):
    """Load a spec file (or ``text``) and expand it into a Graph."""
    from ..graph import Endpoint, Expander, Graph, _Scope, resolve, topological_order

    file = str(source)
    if text is None:
        text = read_text(source)
    data = parse_yaml(text, file)
    for key in data:
        if key not in TOP_KEYS:
            near = difflib.get_close_matches(key, TOP_KEYS, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            line, column = data.position_of(key)
            raise SpecError(f"unknown top-level key '{key}'{hint} (keys: {', '.join(TOP_KEYS)})", file=file, line=line, column=column)
    if "layers" not in data:
        raise SpecError("spec has no 'layers'", file=file, line=1)
    if input_shape is None:
        if "input" not in data:
            raise SpecError("spec has no 'input' (e.g. input: 3x224x224); or pass --input", file=file, line=1)
        try:
            input_shape = parse_shape(data["input"])
        except SpecError as exc:
            line, column = data.position_of("input")
            raise exc.located(file=file, line=line, column=column)
    if batch is None:
        batch = data.get("batch", 1)
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
            line, column = data.position_of("batch")
            raise SpecError(f"batch must be a whole number from 1 to {MAX_BATCH:,}", file=file, line=line, column=column)
    blocks = data.get("blocks") or {}
    if not isinstance(blocks, dict):
        raise SpecError("'blocks' must map block names to definitions", file=file, line=data.position_of("blocks")[0])
    for block_name, definition in blocks.items():
        where = blocks.position_of(block_name) if isinstance(blocks, PosDict) else (None, None)
        if not isinstance(definition, dict) or "layers" not in definition:
            raise SpecError(f"block '{block_name}' needs 'layers'", file=file, line=where[0], column=where[1])
        for key in definition:
            if key not in ("args", "layers", "output", "comment"):
                line, column = definition.position_of(key)
                raise SpecError(f"unknown key '{key}' in block '{block_name}' (args, layers, output)", file=file, line=line, column=column)
        declared = definition.get("args")
        if declared is not None and not isinstance(declared, (dict, list)):
            raise SpecError(f"args of block '{block_name}' must be a mapping of defaults or a list of names",
                            file=file, line=definition.position_of("args")[0])
        from ..layers import lookup

        if lookup(block_name) is not None or block_name == "sequential":
            raise SpecError(f"block name '{block_name}' is already a layer type", file=file, line=where[0], column=where[1])
    expander = Expander(file, blocks)
    env: dict[str, Any] = {}
    net_args = data.get("args") or {}
    if not isinstance(net_args, dict):
        raise SpecError("'args' must be a mapping of names to values", file=file, line=data.position_of("args")[0])
    for key, value in net_args.items():
        env[key] = expander.value(value, env, where=net_args, key=key)
    net_input = Endpoint(is_input=True)
    scope = _Scope(net_input, "")
    output_endpoint = expander.expand(data["layers"], scope, env, data)
    if "output" in data:
        if data["output"] not in scope.names:
            raise SpecError(f"output '{data['output']}' is not a top-level layer", file=file, line=data.position_of("output")[0])
        output_endpoint = scope.names[data["output"]]
    nodes = expander.nodes
    if not nodes:
        raise SpecError("spec has no layers", file=file, line=data.position_of("layers")[0])
    for node in nodes:
        node.inputs = [resolve(source, file, node) for source in node.sources]
    ordered = topological_order(nodes, file)
    probe = output_endpoint
    output = resolve(probe, file, nodes[-1]) if probe is not net_input else None
    name = data.get("name") or Path(file).stem
    return Graph(
        name=str(name),
        file=file,
        nodes=ordered,
        output=output,
        groups=expander.groups,
        input_shape=input_shape,
        batch=batch,
        description=str(data.get("description", "")),
    )


def parse_cli_shape(text: str) -> tuple[int, ...]:
    try:
        return parse_shape(text, "--input")
    except SpecError as exc:
        raise UsageError(exc.message) from None
