"""One-line layer arithmetic: one conv / pool / linear / transposed conv on a typed input,
explained line by line, and a student's answer checked against it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..analysis import Report, Row
from ..errors import UsageError
from ..layers import REGISTRY, LayerType, lookup
from .notation import InputMap, analyze_layers, parse_map, parse_value, read_map, shape_in_layout
from ..render import rf_cells


@dataclass
class Answer:
    """The analysed layer: its report, its row and the input as typed."""

    input: InputMap
    report: Report
    row: Row
    flattened: bool = False
    lines: list[str] = field(default_factory=list)

    @property
    def output_text(self) -> str:
        return shape_in_layout(self.row.output, self.input.layout)


def pair_option(text: str | None, what: str) -> Any:
    """'3' -> 3, '3x5' -> [3, 5], 'same'/'valid' kept; anything else is a usage error."""
    if text is None:
        return None
    value = parse_value(str(text))
    if isinstance(value, bool) or isinstance(value, float):
        raise UsageError(f"--{what.split()[-1]} must be a whole number or HxW like 3x5, got '{text}'")
    if isinstance(value, str) and not (what == "padding" and value in ("same", "valid")):
        hint = ", 'same' or 'valid'" if what == "padding" else ""
        option = what.split()[-1]
        raise UsageError(f"--{option} must be a whole number or HxW like 3x5{hint}, got '{text}'")
    return value


def solve_layer(command: str, input_text: str, layout: str | None, options: dict[str, Any]) -> Answer:
    """Analyse one layer. ``command`` names its type (a name or alias: what the user typed) and
    names the layer; ``layout`` None is HxWxC with the look-alike check (notation.read_map);
    ``options`` are registry argument names -> raw values (None = default)."""
    layer = lookup(command)
    if layer is None:
        raise UsageError(f"unknown layer type '{command}'")
    given = read_map(input_text, layout)
    args = {k: v for k, v in options.items() if v is not None}
    layers: list[dict[str, Any]] = []
    flattened = False
    if layer.flattens_map_first and len(given.shape) == 3:
        flatten = next(t for t in REGISTRY.values() if t.flat_output)
        layers.append({"type": flatten.name, "name": flatten.name})
        flattened = True
    elif not layer.flattens_map_first and len(given.shape) != 3:
        raise UsageError(f"{command} needs a feature map like 40x50x128, got a flat vector of {given.shape[0]:,} features")
    layers.append({"type": layer.name, "name": command, **args})
    report = analyze_layers(layers, given.shape, command, describe=lambda name: command)
    answer = Answer(given, report, report.rows[-1], flattened)
    answer.lines = explain(answer, layer)
    return answer


def explain(answer: Answer, layer: type[LayerType]) -> list[str]:
    row, given = answer.row, answer.input
    lines = [f"{layer.title or layer.name} on input {given.describe()}"]
    if answer.flattened:
        lines.append(f"flattened first: {given.text()} -> {answer.report.rows[0].output[0]:,} features")
    out = row.output
    if len(out) == 3:
        c, h, w = out
        lines.append(f"output: {answer.output_text} (H={h} W={w} C={c})")
    else:
        lines.append(f"output: {out[0]:,} features")
    lines.append(parameters_line(row, layer))
    lines.append(f"MACs: {row.macs:,}   FLOPs: {row.flops:,} (2 x MACs for conv/linear, as torch counts them)")
    if row.rf.kind == "whole":
        lines.append("receptive field: every output sees the whole input")
    else:
        size, stride, padding = rf_cells(row.rf)
        size = size if "x" in size else f"{size}x{size}"
        lines.append(f"receptive field of one output: {size} on the input (effective stride {stride}, padding {padding})")
    return lines


def parameters_line(row: Row, layer: type[LayerType]) -> str:
    if not row.param_tensors:
        return f"parameters: 0 ({layer.family} has no weights)"
    weight = next(t for t in row.param_tensors if t.name == "weight")
    if row.biases:
        return f"parameters: {weight.formula}, + {row.biases:,} bias = {row.params:,}"
    return f"parameters: {weight.formula} (no bias)"


@dataclass(frozen=True)
class Verdict:
    correct: bool
    line: str


def check_number(what: str, option: str, given: str, right: int, formula: str = "", also: dict[str, int] | None = None) -> Verdict:
    """Compare a student's number with the right one ('73,728', '73728', '7.3e4' all read)."""
    try:
        value = float(str(given).replace(",", "").replace("_", "").strip())
    except ValueError:
        raise UsageError(f"{option}: '{given}' is not a number") from None
    if not value.is_integer():
        return Verdict(False, f"INCORRECT {what}: {given} is not a whole number; the right answer is {right:,}{formula}")
    value = int(value)
    if value == right:
        return Verdict(True, f"CORRECT {what}: {value:,}{formula}")
    for label, other in (also or {}).items():
        if value == other:
            return Verdict(True, f"CORRECT {what} ({label}): {value:,}; counting everything it is {right:,}{formula}")
    return Verdict(False, f"INCORRECT {what}: you said {value:,}, the right answer is {right:,}{formula}")


def check_shape(given: str, answer: Answer) -> Verdict:
    out = answer.row.output
    try:
        value = parse_map(given, answer.input.layout, "--check-shape").shape
    except UsageError as exc:
        raise UsageError(exc.message) from None
    order = "HxWxC" if answer.input.layout == "hwc" else "CxHxW"
    right = answer.output_text
    if value == out:
        return Verdict(True, f"CORRECT shape: {right}")
    return Verdict(False, f"INCORRECT shape: you said {given} ({order}), the right answer is {right}")


def run_checks(answer: Answer, params: str | None, shape: str | None, macs: str | None, flops: str | None) -> list[Verdict]:
    row = answer.row
    verdicts = []
    if params is not None:
        formula = f" ({row.formula})" if row.formula else ""
        also = {"weights only, without the bias": row.weights} if row.biases else {}
        verdicts.append(check_number("parameters", "--check", params, row.params, formula, also))
    if shape is not None:
        verdicts.append(check_shape(shape, answer))
    if macs is not None:
        verdicts.append(check_number("MACs", "--check-macs", macs, row.macs))
    if flops is not None:
        verdicts.append(check_number("FLOPs", "--check-flops", flops, row.flops, " (2 x MACs)" if row.macs else ""))
    return verdicts


def render_answer(answer: Answer, verdicts: list[Verdict], fmt: str) -> str:
    """The explanation and verdicts as plain lines (table), JSON (the report, how the input was
    read, the checks), or the layer table in CSV / Markdown (Markdown adds the lines below it)."""
    from ..render.escape import visible
    from .chain import chain_json, render_chain

    lines = answer.lines + [v.line for v in verdicts]
    if fmt == "table":
        return "".join(visible(line) + "\n" for line in lines)
    if fmt == "json":
        from ..render.writers import json_text

        checks = [{"correct": v.correct, "message": v.line} for v in verdicts]
        return json_text({**chain_json(answer.report, answer.input), "checks": checks})
    return render_chain(answer.report, answer.input, fmt, notes=lines)
