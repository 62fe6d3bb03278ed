"""A short chain of layers typed on the command line, e.g.

    archcalc chain 32x32x3 "conv 5x5 4" "pool 2" "conv 3x3 16 pad=1" fc:10
    archcalc chain "256x256x128 -> conv 1x1 32 bias=false"

Each step is one layer: a kind, positional sizes, then key=value arguments (any argument the
layer type takes, by its PyTorch name or alias). The chain becomes an ordinary spec and runs
through the normal analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..layers import REGISTRY, LayerType, lookup
from .notation import InputMap, analyze_layers, parse_value, read_map, shape_in_layout

FILLER = {"to", "->", "filters", "of"}
MAX_STEPS = 200

SYNTAX = (
    "steps: 'conv KxK OUT [key=value ...]' (also 'conv 5x5x4', 'conv 3 16', 'conv 1x1 to 32'), "
    "'deconv KxK OUT stride=2', 'pool K [STRIDE]' / 'avgpool K', 'fc N' (dense; flattens a map first), "
    "'gap', 'bn', 'relu', 'dropout p=0.5', 'flatten', or any layer type with key=value arguments; "
    "':' may stand for a space (fc:10)"
)


@dataclass(frozen=True)
class Step:
    index: int
    text: str
    entry: dict[str, Any]


def split_steps(arguments: list[str]) -> tuple[str, list[str]]:
    """The input shape and the step texts; any argument may hold several steps joined by '->'."""
    pieces = [p.strip() for argument in arguments for p in re.split(r"->|→", argument)]
    pieces = [p for p in pieces if p]
    if not pieces:
        raise UsageError("chain needs an input shape and at least one layer, e.g. 32x32x3 \"conv 5x5 4\"")
    if len(pieces) < 2:
        raise UsageError(f"chain needs at least one layer after the input {pieces[0]}; {SYNTAX}")
    if len(pieces) - 1 > MAX_STEPS:
        raise UsageError(f"chain has {len(pieces) - 1} steps; write a spec file for more than {MAX_STEPS}")
    return pieces[0], pieces[1:]


def _sizes(token: str) -> list[int] | None:
    if re.fullmatch(r"\d+(\s*[x×]\s*\d+)*", token):
        return [int(t) for t in re.split(r"\s*[x×]\s*", token)]
    return None


def layer_for_word(word: str) -> type[LayerType] | None:
    """A step's first word: a layer type's name or alias, or a chain shorthand ('pool', 'gmp')."""
    shorthand = {w: layer for layer in REGISTRY.values() for w in layer.shorthand}
    return shorthand.get(word) or lookup(word)


def parse_step(index: int, text: str) -> Step:
    tokens = [t for t in re.split(r"[\s:]+", text.strip()) if t and t.lower() not in FILLER]
    layer = layer_for_word(tokens[0].lower())
    if layer is None:
        raise UsageError(f"step {index} '{text}': unknown layer kind '{tokens[0]}'; {SYNTAX}")
    entry: dict[str, Any] = {"type": layer.name}
    positional: list[list[int]] = []
    for token in tokens[1:]:
        if "=" in token:
            key, _, raw = token.partition("=")
            if not key or not raw:
                raise UsageError(f"step {index} '{text}': '{token}' should be key=value")
            entry[key.strip().lower()] = parse_value(raw)
            continue
        sizes = _sizes(token)
        if sizes is None:
            raise UsageError(f"step {index} '{text}': cannot read '{token}' (sizes like 3x3 or 16, or key=value)")
        positional.append(sizes)
    if positional:
        where = f"step {index} '{text}'"
        place = PLACERS.get(layer.chain_positional)
        if place is None:
            raise UsageError(f"{where}: {layer.name} takes only key=value arguments")
        place(where, row_word(layer), positional, entry)
    return Step(index, text, entry)


def _one_or_pair(sizes: list[int]) -> int | list[int]:
    return sizes if len(sizes) == 2 else sizes[0]


def _place_kernel_out(where: str, word: str, positional: list[list[int]], entry: dict[str, Any]) -> None:
    """'KxK OUT', 'K OUT', 'KxKxOUT' or 'KxKxINxOUT' (a convolution)."""
    kernel, rest = positional[0], positional[1:]
    if len(kernel) == 1:
        entry["kernel_size"] = kernel[0]
    elif len(kernel) in (2, 3, 4):
        entry["kernel_size"] = kernel[:2] if kernel[0] != kernel[1] else kernel[0]
        if len(kernel) == 3:
            entry["out_channels"] = kernel[2]
        if len(kernel) == 4:
            entry["in_channels"], entry["out_channels"] = kernel[2], kernel[3]
    else:
        raise UsageError(f"{where}: '{'x'.join(map(str, kernel))}' is not KxK, KxKxOUT or KxKxINxOUT")
    for sizes in rest:
        if len(sizes) != 1 or "out_channels" in entry:
            raise UsageError(f"{where}: too many sizes; write '{word} KxK OUT' and key=value for the rest")
        entry["out_channels"] = sizes[0]


def _place_kernel_stride(where: str, word: str, positional: list[list[int]], entry: dict[str, Any]) -> None:
    """'K [STRIDE]', each a number or HxW (a pooling window)."""
    if len(positional) > 2 or any(len(s) > 2 for s in positional):
        raise UsageError(f"{where}: write '{word} K [STRIDE]' and key=value for the rest")
    entry["kernel_size"] = _one_or_pair(positional[0])
    if len(positional) == 2:
        entry["stride"] = _one_or_pair(positional[1])


def _place_features(where: str, word: str, positional: list[list[int]], entry: dict[str, Any]) -> None:
    """'N' output features (a dense layer)."""
    if len(positional) != 1 or len(positional[0]) != 1:
        raise UsageError(f"{where}: write '{word} N' (N outputs)")
    entry["out_features"] = positional[0][0]


# LayerType.chain_positional -> how a step's bare sizes fill the layer's arguments
PLACERS = {"kernel_out": _place_kernel_out, "kernel_stride": _place_kernel_stride, "features": _place_features}


def row_word(layer: type[LayerType]) -> str:
    return layer.short_name or layer.name


@dataclass(frozen=True)
class Chain:
    """The parsed command line: the input, the steps, the spec's layer entries, and which step
    each layer (by name) came from: a dense step on a map owns the flatten put in front of it."""

    given: InputMap
    steps: list[Step]
    layers: list[dict[str, Any]]
    step_of: dict[str, Step]


def build_chain(arguments: list[str], layout: str | None = None) -> Chain:
    """Parse the command line into the input map, the steps and the spec's layer entries.

    A dense step after a feature map gets a flatten in front of it, as a student would assume.
    """
    input_text, texts = split_steps(arguments)
    given = read_map(input_text, layout)
    steps = [parse_step(i, t) for i, t in enumerate(texts, start=1)]
    flatten = next(layer for layer in REGISTRY.values() if layer.flat_output)
    layers: list[dict[str, Any]] = []
    step_of: dict[str, Step] = {}

    def add(layer: type[LayerType], step: Step, entry: dict[str, Any]) -> None:
        name = f"{row_word(layer)}{step.index}"
        if name in step_of:  # 'relu6' at step 1 and 'relu' at step 61
            name = f"{row_word(layer)}_{step.index}"
        step_of[name] = step
        layers.append({**entry, "name": name})

    spatial = len(given.shape) == 3
    for step in steps:
        layer = lookup(step.entry["type"])
        if layer.flattens_map_first and spatial:
            add(flatten, step, {"type": flatten.name})
            spatial = False
        if layer.flat_output:
            spatial = False
        add(layer, step, step.entry)
    return Chain(given, steps, layers, step_of)


def analyze_chain(arguments: list[str], layout: str | None = None, batch: int = 1, dtype: str = "float32"):
    chain = build_chain(arguments, layout)

    def describe(name: str) -> str:
        step = chain.step_of.get(name)
        return f"step {step.index} '{step.text}'" if step else f"layer '{name}'"

    report = analyze_layers(chain.layers, chain.given.shape, "chain", batch=batch, dtype=dtype, describe=describe)
    return chain.given, chain.steps, report


# --------------------------------------------------------------------------- output
HEADERS = ("Layer", "Type", "Output", "Params", "Formula", "MACs", "RF", "Stride")
NUMBERS = (False, False, False, True, False, True, True, True)  # flush right in Markdown, no commas in CSV


def chain_cells(report, given: InputMap) -> list[list[str]]:
    from ..render import rf_cells

    return [[r.name, r.type, shape_in_layout(r.output, given.layout), f"{r.params:,}", r.formula, f"{r.macs:,}",
             *rf_cells(r.rf)[:2]] for r in report.rows]


def chain_totals(report, given: InputMap) -> list[str]:
    from ..render import human, rf_cells

    t = report.total
    order = "HxWxC" if given.layout == "hwc" else "CxHxW"
    size, stride, padding = rf_cells(report.final_rf)
    rf = (f"{size}, effective stride {stride}, effective padding {padding}" if report.final_rf.kind == "field"
          else report.final_rf.reason)
    return [
        f"input {given.describe()}; shapes above are {order}; batch {report.batch}",
        f"output: {shape_in_layout(report.output, given.layout)}",
        f"parameters: {t.params:,} ({human(t.params)})",
        f"MACs: {t.macs:,}; FLOPs: {t.flops:,}",
        f"final receptive field: {rf}",
    ] + [f"warning: {w}" for w in report.warnings]


def print_chain(report, given: InputMap, console) -> None:
    from ..render.boxtable import print_box_table
    from ..render.escape import visible

    print_box_table(console, "chain", HEADERS, [h not in ("Layer", "Type", "Formula") for h in HEADERS],
                    chain_cells(report, given))
    for line in chain_totals(report, given):
        console.print(visible(line), highlight=False, markup=False)


def chain_json(report, given: InputMap) -> dict:
    """The JSON contract (CxHxW, as the spec format writes shapes) plus how the input was read."""
    from ..render import report_json

    return {**report_json(report), "read_input_as": given.describe(), "layout": given.layout}


def render_chain(report, given: InputMap, fmt: str, notes: list[str] | None = None) -> str:
    """JSON, CSV or Markdown of a report built from the command line, shapes in the input's
    layout; Markdown ends with ``notes`` (default: the chain's totals) as a list."""
    from ..render.escape import markdown_text
    from ..render.writers import csv_text, json_text, markdown_table, plain_number

    if fmt == "json":
        return json_text(chain_json(report, given))
    cells = chain_cells(report, given)
    if fmt == "csv":
        rows = [[plain_number(c) if number else c for number, c in zip(NUMBERS, row)] for row in cells]
        return csv_text(HEADERS, rows, names=[0])
    if fmt == "markdown":
        notes = chain_totals(report, given) if notes is None else notes
        lines = markdown_table(HEADERS, NUMBERS, cells)
        return "\n".join(lines + [""] + [f"- {markdown_text(line)}" for line in notes]) + "\n"
    raise ValueError(fmt)
