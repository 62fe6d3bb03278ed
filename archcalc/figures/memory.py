"""Training and inference memory, from a Report (pure arithmetic, no tensors).

Training = weights (+ buffers) + gradients + optimizer state + activations saved for backward.
Inference = weights (+ buffers) + the peak of live activations in topological order.
The assumptions are spelled out in docs/memory.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import DTYPE_BYTES, Report
from ..errors import UsageError

# Per-parameter state tensors each optimizer keeps (torch.optim's defaults).
OPTIMIZER_SLOTS = {
    "sgd": (0, "plain SGD keeps no state"),
    "momentum": (1, "SGD with momentum keeps a velocity buffer"),
    "nesterov": (1, "Nesterov momentum keeps a velocity buffer"),
    "adagrad": (1, "Adagrad keeps the sum of squared gradients"),
    "rmsprop": (1, "RMSprop keeps a running mean of squared gradients"),
    "adadelta": (2, "Adadelta keeps running means of squared gradients and of squared updates"),
    "adam": (2, "Adam keeps first and second moments"),
    "adamw": (2, "AdamW keeps first and second moments"),
}


@dataclass(frozen=True)
class Line:
    """One line of the breakdown: what it is, its size in bytes and the formula behind it."""

    name: str
    bytes: int
    formula: str


@dataclass(frozen=True)
class PeakPoint:
    step: str  # the layer running when live activations peak
    elements: int  # live activation elements then (batch included)
    live: tuple[str, ...]  # the tensors live then


@dataclass
class MemoryReport:
    name: str
    batch: int
    dtype: str
    optimizer: str
    training: list[Line]
    inference: list[Line]
    peak: PeakPoint

    @property
    def training_total(self) -> int:
        return sum(line.bytes for line in self.training)

    @property
    def inference_total(self) -> int:
        return sum(line.bytes for line in self.inference)

    def as_json(self) -> dict:
        def lines(items):
            return [{"name": i.name, "bytes": i.bytes, "formula": i.formula} for i in items]

        return {
            "name": self.name, "batch": self.batch, "dtype": self.dtype, "optimizer": self.optimizer,
            "training": lines(self.training), "training_total": self.training_total,
            "inference": lines(self.inference), "inference_total": self.inference_total,
            "peak": {"layer": self.peak.step, "elements": self.peak.elements, "live": list(self.peak.live)},
        }


def check_optimizer(optimizer: str) -> str:
    name = optimizer.strip().lower()
    if name not in OPTIMIZER_SLOTS:
        raise UsageError(f"unknown optimizer '{optimizer}' (choose from {', '.join(OPTIMIZER_SLOTS)})")
    return name


def elements_of(shape) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


def _lifetimes(report: Report) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Each tensor's size (elements, batch included), the step producing it (-1 for the net
    input) and the step of its last use (len(rows) for the net's output: it outlives the walk)."""
    rows = report.rows
    sizes = {"input": elements_of(report.input) * report.batch}
    produced = {"input": -1}
    last_use = {"input": -1}
    for index, row in enumerate(rows):
        sizes[row.name] = row.activations
        produced[row.name] = index
        last_use[row.name] = index
        for source in row.inputs:
            last_use[source] = max(last_use[source], index)
    graph = report.graph
    final = graph.output.name if graph is not None and graph.output is not None else "input"
    last_use[final] = len(rows)
    return sizes, produced, last_use


def peak_live(report: Report) -> PeakPoint:
    """Walk the layers in topological order; a tensor is live from its producer until its last
    consumer has run (the net's output until the end). The peak counts, while a layer runs, its
    inputs, its output and everything still waiting for a later consumer: live at step i are the
    tensors with produced <= i <= last_use.

    One sweep with a running sum (add a tensor at the step producing it, drop it after its last
    use), so 100,000 layers cost 100,000 steps; the first step with the largest sum wins."""
    sizes, produced, last_use = _lifetimes(report)
    dying: dict[int, int] = {}  # step -> elements whose last use it is
    for name, step in last_use.items():
        dying[step] = dying.get(step, 0) + sizes[name]
    live_sum = sizes["input"] - dying.get(-1, 0)
    best_step, best_sum = None, sizes["input"]
    for index, row in enumerate(report.rows):
        live_sum += sizes[row.name]
        if live_sum > best_sum:
            best_step, best_sum = index, live_sum
        live_sum -= dying.get(index, 0)
    if best_step is None:
        return PeakPoint("input", best_sum, ("input",))
    live = tuple(name for name in sizes if produced[name] <= best_step <= last_use[name])
    return PeakPoint(report.rows[best_step].name, best_sum, live)


def memory_report(report: Report, optimizer: str = "adam") -> MemoryReport:
    optimizer = check_optimizer(optimizer)
    size = DTYPE_BYTES[report.dtype]
    unit = f"{size} B ({report.dtype})"
    t = report.total
    slots, why = OPTIMIZER_SLOTS[optimizer]
    weights = Line("weights", t.params * size, f"{t.params:,} parameters x {unit}")
    buffers = Line("buffers", t.buffers * size, f"{t.buffers:,} buffer elements x {unit} (BN running statistics)")
    input_elements = elements_of(report.input) * report.batch
    saved = saved_activation_elements(report)
    training = [
        weights,
        buffers,
        Line("gradients", t.trainable * size, f"{t.trainable:,} trainable parameters x {unit}"),
        Line("optimizer state", slots * t.trainable * size,
             f"{slots} x {t.trainable:,} trainable parameters x {unit} ({optimizer}: {why})"),
        Line("activations saved for backward", saved * size,
             f"({input_elements:,} input + {t.activations:,} layer outputs) elements, batch {report.batch} included, x {unit}"),
    ]
    peak = peak_live(report)
    inference = [
        weights,
        buffers,
        Line("peak live activations", peak.elements * size,
             f"{peak.elements:,} elements live while '{peak.step}' runs ({len(peak.live)} tensors), x {unit}"),
    ]
    return MemoryReport(report.name, report.batch, report.dtype, optimizer, training, inference, peak)


def saved_activation_elements(report: Report) -> int:
    """The net input plus every layer's output, once each, batch included."""
    return elements_of(report.input) * report.batch + report.total.activations


def print_memory(result: MemoryReport, console) -> None:
    from ..render import human_bytes
    from ..render.boxtable import print_box_table
    from ..render.escape import visible

    for title, lines, total in (("training", result.training, result.training_total),
                                ("inference", result.inference, result.inference_total)):
        rows = [[line.name, f"{line.bytes:,}", human_bytes(line.bytes), line.formula] for line in lines]
        rows.append(["total", f"{total:,}", human_bytes(total), ""])
        print_box_table(console, f"{result.name} - {title} memory (batch {result.batch}, {result.dtype})",
                        ["Part", "Bytes", "Size", "Formula"], [False, True, True, False], rows)
    console.print(visible(f"optimizer: {result.optimizer}; peak live activations while '{result.peak.step}' runs"),
                  highlight=False, markup=False)


def render_memory(result: MemoryReport, fmt: str) -> str:
    from ..render.escape import markdown_text, strong
    from ..render.writers import csv_text, json_text, markdown_table

    if fmt == "json":
        return json_text(result.as_json())
    rows = [("training", line) for line in result.training] + [("inference", line) for line in result.inference]
    totals = [("training", "total", result.training_total), ("inference", "total", result.inference_total)]
    if fmt == "csv":  # the formula of the peak names a layer
        return csv_text(["phase", "part", "bytes", "formula"],
                        [(phase, line.name, line.bytes, line.formula) for phase, line in rows]
                        + [(phase, name, value, "") for phase, name, value in totals], names=[3])
    table = markdown_table(["Phase", "Part", "Bytes", "Formula"], [False, False, True, False],
                           [(phase, line.name, f"{line.bytes:,}", line.formula) for phase, line in rows]
                           + [(phase, strong(name), strong(f"{value:,}"), "") for phase, name, value in totals])
    title = f"## {markdown_text(result.name)} memory (batch {result.batch}, {result.dtype}, {result.optimizer})"
    return "\n".join([title, "", *table]) + "\n"
