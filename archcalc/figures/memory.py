"""Training and inference memory, from a Report (pure arithmetic, no tensors).

Training = weights (+ buffers) + gradients + optimizer state + activations saved for backward.
Inference = weights (+ buffers) + the peak of live activations in topological order.
The assumptions are spelled out in docs/memory.md.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..analysis import DTYPE_BYTES, Report
from ..errors import UsageError, clip, near_miss
from .memtimeline import ACT_GRADS, ACTIVATIONS, PARAM_GRADS, SCRATCH, Options, Simulation

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
    bytes: int = 0  # their bytes, temporaries included (memory_report; 0 from peak_live)


@dataclass
class MemoryReport:
    name: str
    batch: int
    dtype: str
    optimizer: str
    training: list[Line]
    inference: list[Line]
    peak: PeakPoint
    # the training step's peak per phase (forward, backward, optimizer step), and where it peaks
    phases: dict[str, int] = field(default_factory=dict)
    training_peak: tuple[str, str] = ("", "")

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
            "training_phases": dict(self.phases),
            "training_peak": {"phase": self.training_peak[0], "at": self.training_peak[1]},
        }


def check_optimizer(optimizer: str) -> str:
    name = optimizer.strip().lower()
    if name not in OPTIMIZER_SLOTS:
        raise UsageError(f"unknown optimizer '{optimizer}' (choose from {', '.join(OPTIMIZER_SLOTS)})")
    return name


def memory_options(report: Report, amp: str | None = None, inplace: bool = False, checkpoint: str = "",
                   device: str = "cpu") -> Options:
    """Options from the command line: ``checkpoint`` is NAME[,NAME] of blocks or layers."""
    if amp and report.dtype != "float32":
        raise UsageError(f"--amp keeps float32 master weights; it needs --dtype float32, not {report.dtype}")
    names = [name.strip() for name in checkpoint.split(",") if name.strip()]
    return Options(amp, inplace, checkpoint_segments(report, names), device)


def checkpoint_segments(report: Report, names: list[str]) -> tuple[tuple[str, ...], ...]:
    """Each named block (a group's name: every layer under it) or layer as one segment of
    consecutive rows; unknown names, gaps and overlaps are one-line errors."""
    rows = [row.name for row in report.rows]
    segments, taken = [], set()
    for name in names:
        found = [i for i, row in enumerate(rows) if row == name or row.startswith(name + ".")]
        if not found:
            near = near_miss(name, list(report.graph.groups) + rows, n=3)
            hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
            raise UsageError(f"--checkpoint: no block or layer named '{clip(name)}'{hint}")
        if found != list(range(found[0], found[-1] + 1)):
            raise UsageError(f"--checkpoint: the layers of '{clip(name)}' do not run one after another "
                             f"('{clip(rows[found[0]])}' .. '{clip(rows[found[-1]])}' has others between)")
        if taken & set(found):
            raise UsageError(f"--checkpoint: '{clip(name)}' overlaps another checkpointed block")
        taken |= set(found)
        segments.append(tuple(rows[i] for i in found))
    return tuple(segments)


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


# How each optimizer's torch.optim step (foreach=False) runs, per trainable tensor: whether it keeps
# a float32 'step' count (one scalar tensor) and how many temporaries of the tensor's size it
# allocates at once (Adam: sqrt of the second moment, then that over the bias correction).
OPTIMIZER_STEP = {
    "sgd": (False, 0), "momentum": (False, 0), "nesterov": (False, 1), "adagrad": (True, 1),
    "rmsprop": (True, 1), "adadelta": (True, 2), "adam": (True, 2), "adamw": (True, 2),
}
# The loop's variables outlive an iteration: while a tensor's temporaries are made, the previous
# tensor's last ones (Adam's denom, Adagrad's std, RMSprop's avg; Adadelta's std and delta) are
# still bound. Moments of the largest sum: (temporaries of this tensor, of the previous one).
OPTIMIZER_MOMENTS = {
    "sgd": ((0, 0),), "momentum": ((0, 0),), "nesterov": ((1, 0),), "adagrad": ((1, 1),), "rmsprop": ((1, 1),),
    "adadelta": ((1, 2), (2, 1)), "adam": ((2, 1),), "adamw": ((2, 1),),
}
PHASES = ("forward", "backward", "optimizer step")


def _optimizer_state(report: Report, optimizer: str, size: int, unit: str, device: str) -> Line:
    slots, why = OPTIMIZER_SLOTS[optimizer]
    trainable = report.total.trainable
    counts = OPTIMIZER_STEP[optimizer][0] and device != "cuda"  # on CUDA the step counts stay on the CPU
    steps = len(_trainable_tensors(report)) if counts else 0
    return Line("optimizer state", slots * trainable * size + 4 * steps,
                f"{slots} x {trainable:,} trainable parameters x {unit} ({optimizer}: {why})"
                + (f" + {steps:,} float32 step counts" if steps else ""))


def _optimizer_scratch(report: Report, optimizer: str, size: int) -> int:
    """The optimizer step's largest temporaries: per tensor, one after another, with the previous
    tensor's last ones still bound (OPTIMIZER_MOMENTS)."""
    tensors = _trainable_tensors(report)
    moments = OPTIMIZER_MOMENTS[optimizer]
    return max((now * count + before * previous for count, previous in zip(tensors, [0] + tensors)
                for now, before in moments), default=0) * size


def _layer_at(report: Report, step: int) -> str:
    n = len(report.rows)
    if step < n:
        return report.rows[step].name
    if step == n:
        return "loss"
    if step <= 3 * n:  # two steps per layer: its backward, then the sums of its gradients
        return f"backward of {report.rows[(3 * n - step) // 2].name}"
    return "optimizer step"


def _inference_peak(report: Report, options: Options) -> PeakPoint:
    timeline = Simulation(report, options, training=False).run()
    step, nbytes, _ = timeline.peak(0, timeline.steps - 1)
    live = [(name, elements) for name, first, last, elements in timeline.names if first <= step <= last]
    layer = report.rows[step].name if report.rows else "input"
    return PeakPoint(layer, sum(e for _, e in live), tuple(name for name, _ in live), nbytes)


def _amp_note(options: Options) -> str:
    notes = [f"autocast {options.amp}"] if options.amp else []
    notes += ["in-place activations"] if options.inplace else []
    return f"; {', '.join(notes)}" if notes else ""


def _trainable_tensors(report: Report) -> list[int]:
    return [t.count for row in report.rows if row.trainable for t in row.param_tensors]


def _buffer_bytes(report: Report, size: int) -> tuple[int, int]:
    """(buffer bytes, int64 buffer elements): batch norm's num_batches_tracked is int64 always."""
    integer = sum(t.count for row, node in zip(report.rows, report.graph.nodes) for t in row.buffer_tensors
                  if t.name in node.layer.integer_buffers)
    return (report.total.buffers - integer) * size + integer * 8, integer


@contextmanager
def _no_cycle_collection():
    """The simulations make many small objects and no reference cycles: the cycle collector's
    passes over the whole analysis would be a third of the time on a 10,000-layer net."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def memory_report(report: Report, optimizer: str = "adam", options: Options | None = None) -> MemoryReport:
    """The training step's peak (weights, buffers, optimizer state always; gradients, activations
    and temporaries as they stand at the peak) and inference's (weights, buffers, live activations)."""
    with _no_cycle_collection():
        return _memory_report(report, optimizer, options)


def _memory_report(report: Report, optimizer: str, options: Options | None) -> MemoryReport:
    optimizer = check_optimizer(optimizer)
    options = options or Options()
    size = DTYPE_BYTES[report.dtype]
    unit = f"{size} B ({report.dtype})"
    t = report.total
    weights = Line("weights", t.params * size, f"{t.params:,} parameters x {unit}")
    buffer_bytes, integer = _buffer_bytes(report, size)
    buffers = Line("buffers", buffer_bytes, f"{t.buffers - integer:,} buffer elements x {unit}"
                   + (f" + {integer:,} x 8 B (int64 batch counts)" if integer else "") + " (BN running statistics)")
    state = _optimizer_state(report, optimizer, size, unit, options.device)
    train = Simulation(report, options, training=True).run()
    step_scratch = _optimizer_scratch(report, optimizer, size)
    train.add(SCRATCH, step_scratch, train.steps - 1, train.steps - 1)
    n = len(report.rows)
    phases = {name: train.peak(first, last) for name, (first, last) in
              zip(PHASES, ((0, n), (n + 1, 3 * n), (3 * n + 1, 3 * n + 1)))}
    phase, (step, _, parts) = max(phases.items(), key=lambda item: item[1][1])
    constant = weights.bytes + buffers.bytes + state.bytes
    where = f"at the peak ({_layer_at(report, step)})"
    scratch = (f"the optimizer's largest temporaries ({OPTIMIZER_STEP[optimizer][1]} x a tensor, the previous "
               "tensor's last ones still bound)"
               if phase == PHASES[2] else f"the running op's temporaries {where}")
    training = [weights, buffers,
                Line("gradients", parts.get(PARAM_GRADS, 0), f"parameter gradients computed {where}"),
                state,
                Line("activations saved for backward", parts.get(ACTIVATIONS, 0),
                     f"input batch, tensors autograd keeps, live outputs {where}"),
                Line("activation gradients", parts.get(ACT_GRADS, 0), f"gradients of layer outputs live {where}"),
                Line("temporaries", parts.get(SCRATCH, 0), scratch + _amp_note(options))]
    peak = _inference_peak(report, options)
    inference = [weights, buffers, Line("peak live activations", peak.bytes,
                                        f"{peak.elements:,} elements live while '{peak.step}' runs "
                                        f"({len(peak.live)} tensors){_amp_note(options)}")]
    result = MemoryReport(report.name, report.batch, report.dtype, optimizer, training, inference, peak)
    result.phases = {name: constant + peak_bytes for name, (_, peak_bytes, _) in phases.items()}
    result.training_peak = (phase, _layer_at(report, step))
    return result


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
    phase, at = result.training_peak
    where = phase if at == phase else f"{phase} ({at})"
    console.print(visible(f"optimizer: {result.optimizer}; the training step peaks in the {where}; "
                          f"inference peaks while '{result.peak.step}' runs"), highlight=False, markup=False)


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
