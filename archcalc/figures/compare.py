"""Compare nets side by side: each figure and its ratio to the first net."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..analysis import DTYPE_BYTES, Report
from ..layers.conventions import CONVENTIONS
from .conventions import convention_counts
from .memory import peak_live, saved_activation_elements
from ..render import human, human_bytes, rf_cells, shape_text
from ..render.escape import markdown_text
from ..render.writers import csv_text, json_text, markdown_table


@dataclass(frozen=True)
class Figures:
    """The compared figures of one net."""

    name: str
    file: str
    params: int
    macs: int
    flops: int
    rf: str
    peak_activation_bytes: int
    total_activation_bytes: int
    output: tuple[int, ...]
    # each peer tool's total (flops --convention), by convention name
    conventions: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"name": self.name, "file": self.file, "params": self.params, "macs": self.macs, "flops": self.flops,
                "rf": self.rf, "peak_activation_bytes": self.peak_activation_bytes,
                "total_activation_bytes": self.total_activation_bytes, "output": list(self.output),
                "conventions": dict(self.conventions)}


NUMERIC = ("params", "macs", "flops", "peak_activation_bytes", "total_activation_bytes")
LABELS = {"params": "Parameters", "macs": "MACs", "flops": "FLOPs", "rf": "Final receptive field",
          "peak_activation_bytes": "Peak activations", "total_activation_bytes": "All activations (input + outputs)",
          "output": "Output"}


def figures(report: Report) -> Figures:
    size = DTYPE_BYTES[report.dtype]
    if report.final_rf.kind == "field":
        rf = rf_cells(report.final_rf)[0]
    else:
        rf = "whole input" if report.final_rf.kind == "whole" else "n/a"
    totals = {c.convention.name: c.total for c in convention_counts(report, list(CONVENTIONS.values()))}
    return Figures(report.name, report.file, report.total.params, report.total.macs, report.total.flops, rf,
                   peak_live(report).elements * size, saved_activation_elements(report) * size, report.output, totals)


def convention_label(name: str) -> str:
    convention = CONVENTIONS[name]
    return f"{name} ({convention.unit})"


def figure_rows(items: list[Figures], exact: bool = False, conventions: Sequence[str] = ()) -> list[list[str]]:
    """The table's rows: each figure, then the named peer tools' counts (flops --convention)."""
    first = items[0]
    rows = [[LABELS[key]] + [cell(key, f, first, exact) for f in items] for key in LABELS]
    for name in conventions:
        values = [f.conventions.get(name, 0) for f in items]
        if exact:
            rows.append([convention_label(name)] + [str(v) for v in values])
        else:
            rows.append([convention_label(name)] + [f"{v:,}" if i == 0 else f"{v:,} ({ratio(v, values[0])})"
                                                    for i, v in enumerate(values)])
    return rows


def ratio(value: int, first: int) -> str:
    if first == 0:
        return "-" if value == 0 else "n/a"
    return f"{value / first:.2f}x"


def warnings(items: list[Figures]) -> list[str]:
    first = items[0]
    return [
        f"output shapes differ: {first.name} gives {shape_text(first.output)}, {f.name} gives {shape_text(f.output)}; "
        "the comparison is not like for like"
        for f in items[1:] if f.output != first.output
    ]


def cell(key: str, item: Figures, first: Figures, exact: bool = False) -> str:
    value = getattr(item, key)
    if key == "output":
        return shape_text(value)
    if key == "rf":
        return value
    if exact:
        return str(value)
    text = human_bytes(value) if key.endswith("bytes") else f"{value:,}"
    if item is first:
        return text
    return f"{text} ({ratio(value, getattr(first, key))})"


def render_text(items: list[Figures], fmt: str, conventions: Sequence[str] = ()) -> str:
    """JSON (every figure, every tool's total), CSV or Markdown (the figures, and a row for each
    of ``conventions``)."""
    first = items[0]
    if fmt == "json":
        nets = []
        for f in items:
            data = f.as_json()
            data["ratio"] = {k: (getattr(f, k) / getattr(first, k) if getattr(first, k) else None) for k in NUMERIC}
            data["conventions_ratio"] = {k: (v / first.conventions[k] if first.conventions.get(k) else None)
                                         for k, v in f.conventions.items()}
            nets.append(data)
        return json_text({"nets": nets, "warnings": warnings(items)})
    headers = ["Figure"] + [f.name for f in items]
    if fmt == "csv":
        return csv_text(headers, figure_rows(items, True, conventions))
    if fmt == "markdown":
        rows = figure_rows(items, False, conventions)
        lines = markdown_table(headers, [False] + [True] * len(items), rows)
        lines.append("")
        lines += [f"- ratios are to {markdown_text(first.name)}"] + [f"- warning: {markdown_text(w)}" for w in warnings(items)]
        return "\n".join(lines) + "\n"
    raise ValueError(fmt)


def print_table(items: list[Figures], console, conventions: Sequence[str] = ()) -> None:
    from ..render.boxtable import print_box_table
    from ..render.escape import visible

    first = items[0]
    rows = figure_rows(items, False, conventions)
    print_box_table(console, "comparison (ratios to the first net)", ["Figure"] + [f.name for f in items],
                    [False] + [True] * len(items), rows)
    for f in items[1:]:
        console.print(visible(f"{f.name}: {human(f.params)} parameters, {human(f.macs, 'MACs')} "
                              f"({ratio(f.params, first.params)} and {ratio(f.macs, first.macs)} of {first.name})"),
                      highlight=False, markup=False)
    for w in warnings(items):
        console.print(visible(f"warning: {w}"), highlight=False, markup=False)
