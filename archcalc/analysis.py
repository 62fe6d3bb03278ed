"""Walks the graph in topological order and produces a Report: pure Python, no tensors."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .errors import ArchcalcError, SpecError
from .graph import Graph, Node
from .layers import IDENTITY, MERGE, UNKNOWN, WHOLE, Tensor
from .layers.base import elements
from .rf import AxisField, as_number, merge_axis

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}


@dataclass(frozen=True)
class ReceptiveField:
    """Per-axis (H, W) receptive field of one output, relative to the net input."""

    axes: tuple[AxisField, AxisField] | None
    # "whole": every output sees the whole input; "unknown": not expressible (with reason)
    kind: str = "field"
    reason: str = ""
    same_stride: bool = True
    aligned: bool = True

    @property
    def size(self) -> tuple[int, int]:
        return tuple(a.size for a in self.axes)  # type: ignore[return-value]

    @property
    def stride(self) -> tuple[Fraction, Fraction]:
        return tuple(a.stride for a in self.axes)  # type: ignore[return-value]

    @property
    def padding(self) -> tuple[Fraction, Fraction]:
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


@dataclass
class Row:
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
class Totals:
    params: int
    trainable: int
    buffers: int
    macs: int
    flops: int
    ops: int
    activations: int

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

    @property
    def dtype_bytes(self) -> int:
        return DTYPE_BYTES[self.dtype]

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
            },
            "output": list(self.output),
            "rf": self.final_rf.as_json(),
            "warnings": self.warnings,
        }


def _input_field(shape: tuple[int, ...]) -> ReceptiveField:
    if len(shape) == 3:
        return ReceptiveField((AxisField.identity(), AxisField.identity()))
    return WHOLE_FIELD


def _field_after(rule: Any, fields: list[ReceptiveField], node: Node) -> tuple[ReceptiveField, list[str]]:
    if any(f.kind == "whole" for f in fields) or rule == WHOLE:
        return WHOLE_FIELD, []
    unknown = next((f for f in fields if f.kind == "unknown"), None)
    if unknown is not None:
        return unknown, []
    if rule == UNKNOWN:
        return ReceptiveField(None, "unknown", f"not uniform after {node.type_name} (non-integer scale or align_corners)"), []
    if rule == IDENTITY or rule is None:
        return fields[0], []
    if rule == MERGE:
        axes, notes, same, aligned = [], [], True, True
        for axis in range(2):
            merged, s, a = merge_axis(f.axes[axis] for f in fields)  # type: ignore[index]
            axes.append(merged)
            same, aligned = same and s, aligned and a
        if not same:
            notes.append("paths joined here have different effective strides")
        elif not aligned:
            notes.append("paths joined here are not aligned (their receptive-field centres differ)")
        return ReceptiveField(tuple(axes), same_stride=same, aligned=aligned), notes  # type: ignore[arg-type]
    field_in = fields[0]
    try:
        axes = tuple(axis.through(window) for axis, window in zip(field_in.axes, rule))  # type: ignore[arg-type]
    except ValueError as exc:
        return ReceptiveField(None, "unknown", str(exc)), []
    return ReceptiveField(axes, same_stride=field_in.same_stride, aligned=field_in.aligned), []  # type: ignore[arg-type]


def _reads_nothing(windows: list, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> bool:
    """Whether some output position reads no real input position along an axis (padding only,
    a transposed conv's output_padding or dilation gaps)."""
    for window, size_in, size_out in zip(windows, in_shape[1:], out_shape[1:]):
        if any(not any(0 <= p < size_in for p in window.positions(o)) for o in range(size_out)):
            return True
    return False


def analyze(graph: Graph, *, input_shape=None, batch: int | None = None, dtype: str = "float32") -> Report:
    """Analyse every node: shapes, parameters, buffers, MACs/FLOPs/ops, receptive field."""
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"unknown dtype '{dtype}' (choose from {', '.join(DTYPE_BYTES)})")
    input_shape = tuple(input_shape or graph.input_shape)
    batch = batch or graph.batch
    shapes: dict[int, tuple[int, ...]] = {}
    fields: dict[int, ReceptiveField] = {}
    net_field = _input_field(input_shape)
    rows: list[Row] = []
    for node in graph.nodes:
        in_shapes = [input_shape if p is None else shapes[id(p)] for p in node.inputs]
        try:
            result = node.layer.infer(node.args, in_shapes)
        except ArchcalcError as exc:
            raise exc.located(file=graph.file, line=node.line, column=node.column, layer=node.name)
        shapes[id(node)] = result.output
        in_fields = [net_field if p is None else fields[id(p)] for p in node.inputs]
        if len(result.output) != 3:
            field_out, notes = WHOLE_FIELD, []
        else:
            field_out, notes = _field_after(result.rf, in_fields, node)
            if field_out.kind == "whole" and isinstance(result.rf, list) and _reads_nothing(result.rf, in_shapes[0], result.output):
                field_out = ReceptiveField(None, "unknown", "some outputs read only padding (or nothing), so not every output sees the whole input")
        fields[id(node)] = field_out
        params = result.param_count
        rows.append(
            Row(
                name=node.name,
                type=node.type_name,
                output=result.output,
                params=params,
                trainable=params if node.trainable else 0,
                buffers=result.buffer_count,
                macs=result.macs * batch,
                flops=result.flops * batch,
                ops=result.ops * batch,
                activations=elements(result.output) * batch,
                rf=field_out,
                param_tensors=result.params,
                buffer_tensors=result.buffers,
                inputs=["input" if p is None else p.name for p in node.inputs],
                notes=notes,
                depth=node.name.count(".") + 1,
            )
        )
    total = Totals(
        params=sum(r.params for r in rows),
        trainable=sum(r.trainable for r in rows),
        buffers=sum(r.buffers for r in rows),
        macs=sum(r.macs for r in rows),
        flops=sum(r.flops for r in rows),
        ops=sum(r.ops for r in rows),
        activations=sum(r.activations for r in rows),
    )
    out_node = graph.output
    output = input_shape if out_node is None else shapes[id(out_node)]
    final_rf = net_field if out_node is None else fields[id(out_node)]
    warnings = [f"{r.name}: {note}" for r in rows for note in r.notes]
    return Report(graph.name, graph.file, input_shape, batch, dtype, rows, total, output, final_rf, graph, warnings)


def fold(report: Report, depth: int | None) -> list[Row]:
    """Rows with every layer deeper than ``depth`` folded into its enclosing group."""
    if not depth or depth < 1:
        return report.rows
    folded: dict[str, Row] = {}
    order: list[str] = []
    groups = report.graph.groups if report.graph else {}
    for row in report.rows:
        parts = row.name.split(".")
        if len(parts) <= depth:
            folded[row.name] = row
            order.append(row.name)
            continue
        key = ".".join(parts[:depth])
        if key not in folded:
            kind = groups[key].kind if key in groups else "group"
            folded[key] = Row(key, kind, row.output, 0, 0, 0, 0, 0, 0, 0, row.rf, depth=depth, folded=0)
            order.append(key)
        group = folded[key]
        group.params += row.params
        group.trainable += row.trainable
        group.buffers += row.buffers
        group.macs += row.macs
        group.flops += row.flops
        group.ops += row.ops
        group.activations += row.activations
        group.output = row.output  # the group's last layer in topological order is its output
        group.rf = row.rf
        group.param_tensors.extend(row.param_tensors)
        group.buffer_tensors.extend(row.buffer_tensors)
        group.notes.extend(row.notes)
        group.folded += 1
    return [folded[k] for k in order]
