"""The Report: per-layer rows, totals and receptive fields (plain data, JSON contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..graph import Graph
from ..layers import Tensor
from .rf import AxisField, as_number

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}


@dataclass(frozen=True)
class ReceptiveField:
    """Per-axis receptive field of one output, relative to the net input: one AxisField per
    spatial axis of the input (L; H, W; T, H, W)."""

    axes: tuple[AxisField, ...] | None
    # "whole": every output sees the whole input; "unknown": not expressible (with reason)
    kind: str = "field"
    reason: str = ""
    same_stride: bool = True
    aligned: bool = True

    @property
    def size(self) -> tuple[int, ...]:
        return tuple(a.size for a in self.axes)  # type: ignore[return-value]

    @property
    def stride(self) -> tuple[Fraction, ...]:
        return tuple(a.stride for a in self.axes)  # type: ignore[return-value]

    @property
    def padding(self) -> tuple[Fraction, ...]:
        return tuple(a.padding for a in self.axes)  # type: ignore[return-value]

    def as_json(self) -> dict | None:
        if self.axes is None:
            return None
        return {
            "size": list(self.size),
            "stride": [as_number(s) for s in self.stride],
            "padding": [as_number(p) for p in self.padding],
        }


WHOLE_FIELD = ReceptiveField(None, "whole", "sees the whole input")


class TrainingFigures:
    """Backward and training-step FLOPs from a row's (or the totals') forward and backward parts."""

    flops: int
    backward_input_flops: int
    backward_weight_flops: int

    @property
    def backward_flops(self) -> int:
        return self.backward_input_flops + self.backward_weight_flops

    @property
    def train_flops(self) -> int:
        """One training step: forward and backward."""
        return self.flops + self.backward_flops


@dataclass
class Row(TrainingFigures):
    name: str
    type: str
    output: tuple[int, ...]
    params: int
    trainable: int
    buffers: int
    macs: int
    flops: int
    ops: int
    activations: int  # output elements, batch included
    rf: ReceptiveField
    param_tensors: list[Tensor] = field(default_factory=list)
    buffer_tensors: list[Tensor] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    depth: int = 1
    folded: int = 1  # how many layers this row stands for
    # the backward pass (archcalc.analysis.backward): FLOPs of the gradient w.r.t. the input and
    # w.r.t. the weights, each 0 where autograd does not compute it
    backward_input_flops: int = 0
    backward_weight_flops: int = 0
    input_needs_grad: bool = False
    # False: the layer runs only in the other mode (archcalc.analysis.modes): parameters, no work
    active: bool = True
    # which input spatial axis each output dimension runs along, None for channels
    # (archcalc.layers.layout); empty for a folded group
    layout: tuple = ()

    @property
    def weights(self) -> int:
        return sum(t.count for t in self.param_tensors if t.name != "bias")

    @property
    def biases(self) -> int:
        return sum(t.count for t in self.param_tensors if t.name == "bias")

    @property
    def formula(self) -> str:
        """The parameter formula, e.g. '3x3x128x64 = 73,728' or '... + 64 = 73,792'."""
        if not self.param_tensors:
            return ""
        if self.folded > 1:
            return ""
        terms = [t.formula.split(" = ")[0].split(" (")[0] for t in self.param_tensors]
        if len(terms) == 1:
            return self.param_tensors[0].formula.split(" (")[0]
        if len(set(terms)) == 1:
            return f"{len(terms)}x{terms[0]} = {self.params:,}"
        return f"{' + '.join(terms)} = {self.params:,}"


@dataclass
class Totals(TrainingFigures):
    params: int
    trainable: int
    buffers: int
    macs: int
    flops: int
    ops: int
    activations: int
    backward_input_flops: int = 0
    backward_weight_flops: int = 0

    @property
    def non_trainable(self) -> int:
        return self.params - self.trainable


@dataclass
class Report:
    name: str
    file: str
    input: tuple[int, ...]
    batch: int
    dtype: str
    rows: list[Row]
    total: Totals
    output: tuple[int, ...]
    final_rf: ReceptiveField
    graph: Graph | None = None
    warnings: list[str] = field(default_factory=list)
    mode: str = "eval"
    not_counted: list[str] = field(default_factory=list)  # an imported model's operations left out (--partial)
    # each node's LayerResult as the walk inferred it (in graph order), so figures that need a
    # layer's result again (flops --convention, compare) do not infer every layer twice
    layer_results: list | None = field(default=None, repr=False, compare=False)

    @property
    def dtype_bytes(self) -> int:
        return DTYPE_BYTES[self.dtype]

    def __repr__(self) -> str:
        """A few readable lines (a Python prompt, a notebook's text view); the figures are in rows/total."""
        t, shape = self.total, "x".join(map(str, self.input))
        lines = [f"<archcalc Report {self.name!r}: {len(self.rows):,} layers, input {shape}, batch {self.batch} -> "
                 f"output {'x'.join(map(str, self.output))}",
                 f" parameters {t.params:,} (trainable {t.trainable:,}), buffers {t.buffers:,}",
                 f" MACs {t.macs:,}, FLOPs {t.flops:,}, activations {t.activations:,} elements"]
        lines += [f" not counted: {line}" for line in self.not_counted]
        lines += [f" warning: {line}" for line in self.warnings]
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        """Jupyter's view: the layers as an HTML table (names escaped) and the totals."""
        from html import escape

        def cells(values, tag="td"):
            return "".join(f"<{tag}>{escape(str(v))}</{tag}>" for v in values)

        head = cells(("layer", "type", "output", "params", "MACs", "FLOPs"), "th")
        body = "".join(f"<tr>{cells((r.name, r.type, 'x'.join(map(str, r.output)), f'{r.params:,}', f'{r.macs:,}', f'{r.flops:,}'))}</tr>"
                       for r in self.rows)
        t = self.total
        notes = "".join(f"<p>not counted: {escape(line)}</p>" for line in self.not_counted)
        return (f"<div><b>{escape(self.name)}</b> - input {escape('x'.join(map(str, self.input)))}, batch {self.batch}"
                f"{notes}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                f"<p>parameters {t.params:,}; buffers {t.buffers:,}; MACs {t.macs:,}; FLOPs {t.flops:,}</p></div>")

    def row_json(self, r: Row) -> dict[str, Any]:
        return {
            "name": r.name,
            "type": r.type,
            "output": list(r.output),
            "params": r.params,
            "buffers": r.buffers,
            "macs": r.macs,
            "flops": r.flops,
            "ops": r.ops,
            "rf": r.rf.as_json(),
            "activations": r.activations,
            "activation_bytes": r.activations * self.dtype_bytes,
            "formula": r.formula,
            "notes": r.notes,
            "input_needs_grad": r.input_needs_grad,
            "backward_input_flops": r.backward_input_flops,
            "backward_weight_flops": r.backward_weight_flops,
            "backward_flops": r.backward_flops,
            "train_flops": r.train_flops,
            "active": r.active,
        }

    def as_json(self, rows: list[Row] | None = None) -> dict[str, Any]:
        """The JSON contract: name, input, layers[...], total (keys kept stable)."""
        return {
            "name": self.name,
            "input": list(self.input),
            "batch": self.batch,
            "dtype": self.dtype,
            "layers": [self.row_json(r) for r in (self.rows if rows is None else rows)],
            "total": {
                "params": self.total.params,
                "trainable": self.total.trainable,
                "non_trainable": self.total.non_trainable,
                "buffers": self.total.buffers,
                "macs": self.total.macs,
                "flops": self.total.flops,
                "ops": self.total.ops,
                "activations": self.total.activations,
                "activation_bytes": self.total.activations * self.dtype_bytes,
                "backward_input_flops": self.total.backward_input_flops,
                "backward_weight_flops": self.total.backward_weight_flops,
                "backward_flops": self.total.backward_flops,
                "train_flops": self.total.train_flops,
            },
            "output": list(self.output),
            "rf": self.final_rf.as_json(),
            "warnings": self.warnings,
            "mode": self.mode,
            "outputs": self.outputs_json(),
            **({"not_counted": self.not_counted} if self.not_counted else {}),
        }

    def outputs_json(self) -> list[dict[str, Any]]:
        """The declared outputs (the first is the main one) and the mode each exists in."""
        outputs = (self.graph.outputs or [(self.graph.output, "all")]) if self.graph is not None else []
        return [{"name": "input" if node is None else node.name, "mode": mode} for node, mode in outputs]
