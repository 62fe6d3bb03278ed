"""Walks the graph in topological order and produces a Report: pure Python, no tensors."""

from __future__ import annotations

from dataclasses import replace

from ..errors import ArchcalcError, ShapeError, SpecError
from ..graph import Graph, Node
from ..layers import IDENTITY, FieldRule, Identity, Merge, Unknown, Whole, Windows
from ..layers.base import elements, is_map, shape_text
from ..layers.layout import check_permuted_input, is_standard, standard
from ..spec.shapes import MAX_DIM
from .backward import gradient_flow
from .coverage import reads_nothing
from .modes import check_mode, inactive_note, mode_plan, unused_warning
from .reach import node_reach
from .sharing import check_sharing, own_tensors
from .report import DTYPE_BYTES, WHOLE_FIELD, ReceptiveField, Report, Row, Totals
from .rf import AxisField, RfBudget, merge_axis


def _input_field(shape: tuple[int, ...]) -> ReceptiveField:
    """One axis field per spatial axis of the net input (L; H, W; T, H, W); a flat input is whole."""
    if is_map(shape):
        return ReceptiveField(tuple(AxisField.identity() for _ in shape[1:]))
    return WHOLE_FIELD


def _field_after(rule: FieldRule, fields: list[ReceptiveField], node: Node, budget: RfBudget) -> tuple[ReceptiveField, list[str]]:
    """The output's field from the inputs' fields and the layer's rule (archcalc.layers.fieldrules)."""
    if type(rule) is Identity and len(fields) == 1:  # element-wise layers, most of a net
        return fields[0], []
    if isinstance(rule, Whole) or any(f.kind == "whole" for f in fields):
        return WHOLE_FIELD, []
    unknown = next((f for f in fields if f.kind == "unknown"), None)
    if unknown is not None:
        return unknown, []
    if isinstance(rule, Unknown):
        return ReceptiveField(None, "unknown", f"not uniform after {node.type_name} ({rule.reason})"), []
    if isinstance(rule, Identity):
        return fields[0], []
    if isinstance(rule, Merge):
        return _merged(rule, fields, budget)
    field_in = fields[0]
    try:
        axes = tuple(axis.through(window, budget) for axis, window in zip(field_in.axes, rule.axes))  # type: ignore[union-attr]
    except ValueError as exc:
        return ReceptiveField(None, "unknown", str(exc)), []
    return ReceptiveField(axes, same_stride=field_in.same_stride, aligned=field_in.aligned), []  # type: ignore[arg-type]


def _merged(rule: Merge, fields: list[ReceptiveField], budget: RfBudget) -> tuple[ReceptiveField, list[str]]:
    """The union of the joined paths' fields (none of them whole here)."""
    if any(rule.broadcast):
        # a map repeated along an axis has one field for every position: no uniform union
        return ReceptiveField(None, "unknown", "a map repeated along a spatial axis (broadcast) whose field is not the "
                                               "whole input"), []
    axes, notes, same, aligned = [], [], True, True
    for axis in range(len(fields[0].axes)):  # type: ignore[arg-type]
        try:
            merged, s, a = merge_axis((f.axes[axis] for f in fields), budget)  # type: ignore[index]
        except ValueError as exc:
            return ReceptiveField(None, "unknown", str(exc)), []
        axes.append(merged)
        same, aligned = same and s, aligned and a
    if not same:
        notes.append("paths joined here have different effective strides")
    elif not aligned:
        notes.append("paths joined here are not aligned (their receptive-field centres differ)")
    return ReceptiveField(tuple(axes), same_stride=same, aligned=aligned), notes  # type: ignore[arg-type]


_PADDING_ONLY = "some outputs read only padding (or nothing), so not every output sees the whole input"
NO_INPUT_FIELD = ReceptiveField(None, "unknown", "every output reads only padding: no output reaches the input")


def _node_field(node: Node, result, in_fields, in_shape, reach, budget: RfBudget) -> tuple[ReceptiveField, list[str]]:
    """The field of a node's output, with notes; "whole" only where an output really reads input."""
    if not is_map(result.output):
        field_out, notes = WHOLE_FIELD, []
    else:
        field_out, notes = _field_after(result.rf, in_fields, node, budget)
        if field_out.kind == "whole" and isinstance(result.rf, Windows):
            try:
                if reads_nothing(result.rf.axes, in_shape, result.output, budget):
                    return ReceptiveField(None, "unknown", _PADDING_ONLY), notes
            except ValueError as exc:
                return ReceptiveField(None, "unknown", str(exc)), notes
    if field_out.kind == "whole" and reach is None:
        return NO_INPUT_FIELD, notes
    return field_out, notes


def _infer(node: Node, in_shapes: list[tuple[int, ...]], file: str):
    """The layer's result, located on error; outputs are bounded like the input (2^20 per
    dimension), so a chain of upsamplings cannot grow sizes, counts or work without limit."""
    try:
        result = node.layer.infer(node.args, in_shapes)
        if max(result.output) > MAX_DIM:
            raise ShapeError(f"output {shape_text(result.output)} has a dimension of {max(result.output):,}; "
                             f"sizes and channel counts are limited to {MAX_DIM:,} (2^20)")
    except ArchcalcError as exc:
        raise exc.located(file=file, line=node.line, column=node.column, layer=node.name)
    return result


def _reads_permuted(node: Node, in_shapes, in_layouts, spatial_axes: int, file: str) -> bool:
    """Whether the node reads a permuted tensor (archcalc.layers.layout); one located line when
    its type does not accept the layout it gets."""
    try:
        return check_permuted_input(node.layer, node.args, in_shapes, in_layouts, spatial_axes)
    except ArchcalcError as exc:
        raise exc.located(file=file, line=node.line, column=node.column, layer=node.name)


def _layout(node: Node, result, in_layouts, permuted: bool):
    """The output's layout, and the result with the field rule it has in the net input's axis
    order: a layer that reads or makes a permuted tensor acts on each spatial position on its
    own (only such layers accept one), so it keeps every field."""
    layout = node.layer.output_layout(node.args, in_layouts, len(result.output))
    if permuted or not is_standard(layout):
        result = replace(result, rf=IDENTITY)
    return layout, result


def _row(node: Node, result, field_out: ReceptiveField, notes: list[str], batch: int) -> Row:
    params = result.param_count
    return Row(
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


def _totals(rows: list[Row]) -> Totals:
    return Totals(
        params=sum(r.params for r in rows),
        trainable=sum(r.trainable for r in rows),
        buffers=sum(r.buffers for r in rows),
        macs=sum(r.macs for r in rows),
        flops=sum(r.flops for r in rows),
        ops=sum(r.ops for r in rows),
        activations=sum(r.activations for r in rows),
        backward_input_flops=sum(r.backward_input_flops for r in rows),
        backward_weight_flops=sum(r.backward_weight_flops for r in rows),
    )


def analyze(graph: Graph, *, input_shape=None, batch: int | None = None, dtype: str = "float32",
            mode: str = "eval") -> Report:
    """Analyse every node: shapes, parameters, buffers, MACs/FLOPs/ops, receptive field; in
    ``mode`` (eval or train), layers that only the other mode's outputs use run nothing."""
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"unknown dtype '{dtype}' (choose from {', '.join(DTYPE_BYTES)})")
    plan, live = mode_plan(graph, check_mode(mode))
    input_shape = tuple(input_shape or graph.input_shape)
    batch = batch or graph.batch
    shapes: dict[int, tuple[int, ...]] = {}
    fields: dict[int, ReceptiveField] = {}
    reaches: dict[int, object] = {}
    layouts: dict[int, tuple] = {}
    net_layout = standard(len(input_shape))
    net_field = _input_field(input_shape)
    net_reach = tuple((0, size - 1) for size in input_shape[1:]) if is_map(input_shape) else True
    budget = RfBudget()
    rows: list[Row] = []
    results = []
    for node in graph.nodes:
        in_shapes = [input_shape if p is None else shapes[id(p)] for p in node.inputs]
        in_layouts = [net_layout if p is None else layouts[id(p)] for p in node.inputs]
        permuted = _reads_permuted(node, in_shapes, in_layouts, len(input_shape) - 1, graph.file)
        result = _infer(node, in_shapes, graph.file)
        layouts[id(node)], result = _layout(node, result, in_layouts, permuted)
        shapes[id(node)] = result.output
        results.append(result)
        in_fields = [net_field if p is None else fields[id(p)] for p in node.inputs]
        reach = node_reach(result.rf, [net_reach if p is None else reaches[id(p)] for p in node.inputs], in_shapes,
                           result.output, budget)
        reaches[id(node)] = reach
        field_out, notes = _node_field(node, result, in_fields, in_shapes[0], reach, budget)
        fields[id(node)] = field_out
        rows.append(_row(node, own_tensors(node, result), field_out, notes, batch))
        rows[-1].layout = layouts[id(node)]
        if id(node) in plan.inactive:
            _idle(rows[-1], inactive_note(plan))
    check_sharing(graph, results)
    _add_backward(graph, rows, results, batch, live)
    out_node = graph.output
    output = input_shape if out_node is None else shapes[id(out_node)]
    final_rf = net_field if out_node is None else fields[id(out_node)]
    warnings = [f"{r.name}: {note}" for r in rows if r.active for note in r.notes] + unused_warning(plan)
    return Report(graph.name, graph.file, input_shape, batch, dtype, rows, _totals(rows), output, final_rf, graph,
                  warnings, mode, layer_results=results)


def _idle(row: Row, note: str) -> None:
    """A layer that does not run in this mode: its parameters and buffers stay, nothing else."""
    row.macs = row.flops = row.ops = row.activations = 0
    row.active = False
    row.notes = [note]


def _add_backward(graph: Graph, rows: list[Row], results: list, batch: int, live: set[int]) -> None:
    """Each row's backward FLOPs: its type's two parts, each counted where autograd computes it
    (``live``: the nodes the mode's outputs depend on, whose backward the loss reaches)."""
    flows = gradient_flow(graph, {id(n): r.param_count for n, r in zip(graph.nodes, results)}, live)
    for node, row, result in zip(graph.nodes, rows, results):
        flow = flows[id(node)]
        row.input_needs_grad = flow.input_needs_grad and row.active
        row.backward_input_flops = flow.input_part(result.backward_input_flops, result.backward_input_flops_each) * batch
        row.backward_weight_flops = flow.weight_part(result.backward_weight_flops) * batch


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
            folded[key] = Row(key, kind, row.output, 0, 0, 0, 0, 0, 0, 0, row.rf, depth=depth, folded=0, active=False)
            order.append(key)
        group = folded[key]
        group.params += row.params
        group.trainable += row.trainable
        group.buffers += row.buffers
        group.macs += row.macs
        group.flops += row.flops
        group.ops += row.ops
        group.activations += row.activations
        group.backward_input_flops += row.backward_input_flops
        group.backward_weight_flops += row.backward_weight_flops
        group.input_needs_grad = group.input_needs_grad or row.input_needs_grad
        group.active = group.active or row.active
        group.output = row.output  # the group's last layer in topological order is its output
        group.rf = row.rf
        group.param_tensors.extend(row.param_tensors)
        group.buffer_tensors.extend(row.buffer_tensors)
        group.notes.extend(row.notes)
        group.folded += 1
    return [folded[k] for k in order]
