"""Empirical receptive fields: backpropagate from one output element of the geometric twin
(archcalc.torchbuild, ``geometric=True``) and read the first and last input row and column
that receive a non-zero gradient. Compared with the analysis's exact ``start(o)``/``end(o)``.

How it stays cheap (ResNet-50 in well under a second, DenseNet-121 with its 2071-pixel fields in
about one):
- the probe twin has one channel and runs in float64 on the CPU;
- every layer acts on rows and columns separately (kernels, strides, pooling, upsampling are
  products of one-axis operators, and a join is a union), so the first/last row of a field is
  measured on a twin that keeps only the rows' geometry (kernels k x 1, strides s x 1) on an
  H x 1 input, and the columns likewise on a 1 x W input: cost grows with the side, not the area;
- nodes whose probe output is the very same tensor as their producer's (activations,
  normalisation, dropout: identities in the probe) share one measurement;
- probes are batched: sample k of a batch carries probe k, so one forward and one backward
  measure many (node, position) pairs at once, within a memory budget.

Exactness: every probe weight is positive and no value is ever subtracted, so positions outside
the field get exactly 0.0 and positions inside a positive value (bilinear upsampling uses
torch's own weights with their float noise snapped to zero). So "non-zero" needs no threshold.

Fields are probed on an input large enough that the probed field lies inside it: each axis is
the largest field + margins (capped at MAX_SIDE). At a size other than the spec's, the spatial
part of the net is analysed again at that size (only adaptive pooling changes) and compared
with that analysis; the expected values always come from the real spec's analysis. "whole" fields are checked at the spec's own input size: the
gradient must reach every input position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

from .analysis import Report, analyze
from .errors import ArchcalcError
from .graph import Graph, Node
from .layers.base import IDENTITY, MERGE, WHOLE

MAX_SIDE = 16384  # largest probe input side (probed one axis at a time: cheap)
MAX_WHOLE_ELEMENTS = 1024 * 1024  # largest spec input for the "whole" probe
MAX_PHASES = 16  # output positions probed per period along an axis
BUDGET_BYTES = 384 << 20  # memory for one batched forward + backward
MAX_BATCH = 256
ALL = "all"  # probe index: every element of the output at once


@dataclass
class RFResult:
    """Outcome for one node: ok, skipped (with reason), what was expected and measured."""

    name: str
    ok: bool
    expected: object
    actual: object
    detail: str = ""
    skipped: bool = False


@dataclass
class _Probe:
    node: str  # representative node whose output tensor is probed
    index: tuple  # position in the output (without batch); channels are summed
    measured: list = field(default_factory=list)  # per axis (first, last) or None


def probe(graph: Graph, report: Report, progress: Callable[[str, int, int], None] | None = None) -> list[RFResult]:
    """Receptive-field checks for every row of ``report`` (same order)."""
    results: dict[str, RFResult] = {}
    for row in report.rows:
        if row.rf.kind == "unknown":
            results[row.name] = RFResult(row.name, True, "unknown", None, f"skipped: {row.rf.reason}", True)
    spatial = len(report.input) == 3
    field_rows = [r for r in report.rows if r.rf.kind == "field" and len(r.output) == 3] if spatial else []
    if field_rows:
        results.update(_probe_fields(graph, report, field_rows, progress))
    whole_rows = [r for r in report.rows if r.rf.kind == "whole"]
    if whole_rows:
        results.update(_probe_whole(graph, report, whole_rows, progress))
    return [results.get(r.name) or RFResult(r.name, True, None, None, "skipped: not probed", True) for r in report.rows]


# --------------------------------------------------------------------------- fields
def _subgraph(graph: Graph, names: set[str], input_shape) -> Graph:
    nodes = [n for n in graph.nodes if n.name in names]
    return Graph(graph.name, graph.file, nodes, None, graph.groups, tuple(input_shape), 1, graph.description)


def _probe_side(rows, axis: int) -> int:
    size = max(r.rf.axes[axis].size for r in rows)
    stride = max(math.ceil(r.rf.axes[axis].stride) for r in rows)
    phases = min(MAX_PHASES, max(r.rf.axes[axis].period for r in rows))
    return size + 2 * stride * phases + 16


def _centre(axis, clean, side: int, phases: int) -> list[int] | None:
    """Up to ``phases`` consecutive clean output positions (see _clean_outputs) whose fields lie
    inside [0, side), around the most central one; None when there is none."""

    if axis.stride == 0:  # reads the whole axis: compared clipped to the input (see _want)
        return [len(clean) // 2]

    def fits(o):
        s, e = axis.start(o), axis.end(o)
        return clean[o] and s is not None and s >= 0 and e <= side - 1

    inside = [o for o in range(len(clean)) if fits(o)]
    if not inside:
        return None
    best = min(inside, key=lambda o: abs(axis.start(o) + axis.end(o) - (side - 1)))
    positions = [best]
    low, high = best - 1, best + 1
    while len(positions) < phases:
        if high < len(clean) and fits(high):
            positions.append(high)
            high += 1
        elif low >= 0 and fits(low):
            positions.insert(0, low)
            low -= 1
        else:
            break
    return positions


def _clean_outputs(graph: Graph) -> dict[str, tuple[bytearray, bytearray]]:
    """Per node and spatial axis, which output positions are computed from real input positions
    only, at every layer on the way (no padding, no output_padding or dilation gap, no ceil_mode
    overhang read anywhere upstream). The analysis extends fields over padding virtually, as
    Araujo et al. do; the gradient cannot follow a virtual position, and after a cropping layer
    (a transposed conv with padding) a virtual position can stand for real input. So only clean
    outputs are compared: for them the virtual and the real field coincide."""

    sides = graph.input_shape[1:]
    masks: dict[object, tuple[bytearray, bytearray]] = {None: tuple(bytearray(b"\x01") * n for n in sides)}
    shapes: dict[object, tuple[int, ...]] = {None: graph.input_shape}
    for node in graph.nodes:
        in_shapes = [shapes[None if p is None else id(p)] for p in node.inputs]
        result = node.layer.infer(node.args, in_shapes)
        shapes[id(node)] = result.output
        if len(result.output) != 3 or any(len(shape) != 3 for shape in in_shapes):
            continue
        ins = [masks[None if p is None else id(p)] for p in node.inputs]
        rule, sizes = result.rf, result.output[1:]
        if isinstance(rule, list):
            mask = tuple(_window_mask(window, mask_in, size) for window, mask_in, size in zip(rule, ins[0], sizes))
        elif rule == MERGE:
            mask = tuple(bytearray(all(m[axis][o] for m in ins) for o in range(sizes[axis])) for axis in range(2))
        elif rule in (None, IDENTITY):
            mask = ins[0]
        else:  # whole (a global pool reads everything) or unknown (never probed)
            mask = tuple(bytearray([rule == WHOLE and all(m)]) * size for m, size in zip(ins[0], sizes))
        masks[id(node)] = mask
    return {node.name: masks[id(node)] for node in graph.nodes if id(node) in masks}


def _window_mask(window, clean_in: bytearray, size_out: int) -> bytearray:
    """Clean outputs of one layer along one axis: every position read is real and clean."""
    count = [0]
    for flag in clean_in:
        count.append(count[-1] + flag)
    n = len(clean_in)
    out = bytearray(size_out)
    for o in range(size_out):
        positions = window.positions(o)
        if not len(positions) or positions[0] < 0 or positions[-1] >= n:
            continue
        if isinstance(positions, range) and positions.step == 1:
            out[o] = count[positions[-1] + 1] - count[positions[0]] == len(positions)
        else:
            out[o] = all(clean_in[p] for p in positions)
    return out


def _probe_fields(graph, report, field_rows, progress) -> dict[str, RFResult]:
    channels, height, width = report.input
    names = {r.name for r in field_rows}
    # fields behind an adaptive pool (or a resize to a fixed size) grow with the input: a larger
    # probe input cannot help them, so they neither size the probe nor trigger a retry
    scaling = _grows_with_input(graph)
    sizing = [r for r in field_rows if r.name not in scaling] or field_rows
    sides = [_probe_side(sizing, 0), _probe_side(sizing, 1)]
    for attempt in range(3):
        results: dict[str, RFResult] = {}
        sides = [min(s, MAX_SIDE) for s in sides]
        at_spec = sides[0] <= height and sides[1] <= width and height * width <= MAX_SIDE * MAX_SIDE // 4
        shape = (channels, height, width) if at_spec else (channels, *sides)
        try:
            sub = _subgraph(graph, names, shape)
            sub_report = analyze(sub) if not at_spec else None
        except ArchcalcError as exc:
            if attempt == 2 or sides == [MAX_SIDE, MAX_SIDE]:
                return {n: RFResult(n, True, None, None, f"skipped: the net does not run at probe size ({exc.message})", True)
                        for n in names}
            sides = [min(2 * s, MAX_SIDE) for s in sides]
            continue
        rows = {r.name: r for r in (field_rows if at_spec else sub_report.rows)}
        clean = _clean_outputs(sub)
        plan, misfits = {}, []
        for name in names:
            row = rows.get(name)
            if row is None or row.rf.kind != "field":
                results[name] = RFResult(name, True, None, None, "skipped: field not uniform at the probe size", True)
                continue
            axes = row.rf.axes
            spots = [_centre(axes[i], clean[name][i], shape[i + 1], min(MAX_PHASES, axes[i].period)) for i in range(2)]
            if None in spots:
                anywhere = [bytearray(b"\x01") * len(c) for c in clean[name]]
                fitting = all(_centre(axes[i], anywhere[i], shape[i + 1], 1) for i in range(2))
                misfits.append((name, fitting))
                continue
            count = max(len(spots[0]), len(spots[1]))
            plan[name] = [(spots[0][k % len(spots[0])], spots[1][k % len(spots[1])]) for k in range(count)]
        if {n for n, _ in misfits} - scaling and attempt < 2 and sides != [MAX_SIDE, MAX_SIDE]:
            sides = [min(2 * s, MAX_SIDE) for s in sides]
            continue
        for name, fitting in misfits:
            if fitting:
                why = "every output whose field fits reads padding on the way (e.g. after a cropping transposed conv)"
            elif name in scaling:
                why = "the field grows with the input (adaptive pooling or a fixed-size resize)"
            else:
                why = f"the field is larger than the probe input (cap {MAX_SIDE} per side)"
            results[name] = RFResult(name, True, None, None, f"skipped: {why}", True)
        break
    probe_graph = _subgraph(graph, set(plan) | _ancestors(graph, set(plan)), shape)
    # one axis at a time: a twin that keeps the rows' geometry on a one-column input, then the
    # columns' on a one-row input (every layer acts on the two axes separately)
    rows_twin = _axis_graph(probe_graph, 0, (channels, shape[1], 1))
    cols_twin = _axis_graph(probe_graph, 1, (channels, 1, shape[2]))
    by_rows = _measure(rows_twin, rows_twin.input_shape, {n: [(0, a, 0) for a, _ in spots] for n, spots in plan.items()},
                       progress, "receptive fields: rows")
    by_cols = _measure(cols_twin, cols_twin.input_shape, {n: [(0, 0, b) for _, b in spots] for n, spots in plan.items()},
                       progress, "receptive fields: columns")
    measured = {n: [(r[0], c[1]) for r, c in zip(by_rows[n], by_cols[n])] for n in plan}
    where = (f"rows on a {shape[1]}x1 input, columns on a 1x{shape[2]} one"
             + (" (the spec's size)" if at_spec else f" (analysis at {shape[1]}x{shape[2]})"))
    for name, spots in plan.items():
        axes = rows[name].rf.axes
        ok, expected, actual = True, None, None
        for (oh, ow), got in zip(spots, measured[name]):
            want = (_want(axes[0], oh, shape[1]), _want(axes[1], ow, shape[2]))
            if expected is None or (ok and want != got):
                expected, actual = want, got
            if want != got:
                ok = False
        phases = f", {len(spots)} positions" if len(spots) > 1 else ""
        detail = f"probed output ({spots[0][0]},{spots[0][1]}){phases} at {where}; [first, last] input row, column"
        results[name] = RFResult(name, ok, expected, actual, detail)
    return results


def _axis_graph(graph: Graph, axis: int, input_shape) -> Graph:
    """The graph with every layer's geometry kept along ``axis`` (0 rows, 1 columns) and made
    trivial (kernel 1, stride 1, no padding) along the other; widths left to the input."""

    def keep(value, trivial):
        return tuple(v if i == axis else trivial for i, v in enumerate(value))

    made: dict[str, Node] = {}
    nodes = []
    for node in graph.nodes:
        args, kind = dict(node.args), node.layer.name
        if kind in ("conv2d", "conv_transpose2d", "maxpool2d", "avgpool2d"):
            for key, trivial in (("kernel_size", 1), ("stride", 1), ("dilation", 1), ("output_padding", 0)):
                if args.get(key) is not None:
                    args[key] = keep(args[key], trivial)
            if not isinstance(args["padding"], str):
                args["padding"] = keep(args["padding"], 0)
            if kind.startswith("conv"):
                # channels stay as the spec has them (the probe module itself has one channel):
                # a join with a branch that keeps its width (a pool, the group input) still adds up
                args["in_channels"] = None
        elif kind.startswith("adaptive_"):
            args["output_size"] = keep(args["output_size"], None)
        elif kind == "upsample":
            key = "size" if args["size"] is not None else "scale_factor"
            args[key] = keep(args[key], 1)
        elif kind == "linear":  # on a map it reads the columns; with one column it is 1 -> 1
            args.update(in_features=None, out_features=args["out_features"] if axis == 1 else 1)
        elif kind.startswith("batchnorm"):
            args["num_features"] = None
        copy = replace(node, args=args, inputs=[None if p is None else made[p.name] for p in node.inputs])
        made[node.name] = copy
        nodes.append(copy)
    return Graph(graph.name, graph.file, nodes, None, graph.groups, tuple(input_shape), 1, graph.description)


def _grows_with_input(graph: Graph) -> set[str]:
    """Nodes at or after an adaptive pool or a resize to a fixed size."""
    grows: set[str] = set()
    for node in graph.nodes:
        own = node.layer.name.startswith("adaptive_") or (node.layer.name == "upsample" and node.args["size"] is not None)
        if own or any(p is not None and p.name in grows for p in node.inputs):
            grows.add(node.name)
    return grows


def _want(axis, o: int, side: int) -> tuple[int, int]:
    """The analysis's [start, end] for output o; an axis read whole (stride 0) always spans
    virtual positions, so it is compared clipped to the real input."""
    start, end = axis.start(o), axis.end(o)
    return (max(start, 0), min(end, side - 1)) if axis.stride == 0 else (start, end)


def _ancestors(graph: Graph, names: set[str]) -> set[str]:
    by_name = {n.name: n for n in graph.nodes}
    seen, stack = set(), list(names)
    while stack:
        for parent in by_name[stack.pop()].inputs:
            if parent is not None and parent.name not in seen:
                seen.add(parent.name)
                stack.append(parent.name)
    return seen


# --------------------------------------------------------------------------- whole
def _probe_whole(graph, report, whole_rows, progress) -> dict[str, RFResult]:
    shape = tuple(report.input)
    if math.prod(shape[1:] if len(shape) == 3 else shape) > MAX_WHOLE_ELEMENTS:
        return {r.name: RFResult(r.name, True, "whole", None, "skipped: input too large for the whole-input probe", True)
                for r in whole_rows}
    by_name = {n.name: n for n in graph.nodes}
    results = {}
    for r in list(whole_rows):
        source = _twin_source(by_name[r.name])
        if source.layer.name == "flatten":
            results[r.name] = RFResult(r.name, True, "whole", None, f"skipped: each element of a flattened vector keeps its "
                                       f"local field ('{source.name}'); 'whole' is the convention from here on", True)
            whole_rows.remove(r)
    names = {r.name for r in whole_rows}
    if not names:
        return results
    wanted = {}
    for r in whole_rows:
        out = r.output
        centre = tuple(d // 2 for d in out[1:]) if len(out) == 3 else None
        wanted[r.name] = [(0, *centre) if centre else None, ALL]
    sub = _subgraph(graph, names | _ancestors(graph, names), shape)
    measured = _measure(sub, shape, wanted, progress, "receptive fields: whole input")
    sides = shape[1:] if len(shape) == 3 else shape
    for r in whole_rows:
        one, everything = measured[r.name]
        ok = one == everything
        results[r.name] = RFResult(r.name, ok, "whole", "whole" if ok else one,
                                   "one output element must reach every input position the layer reads"
                                   + _unread_note(everything, sides))
    return results


def _unread_note(extents, sides) -> str:
    """Which input rows and columns no output reaches (cropped by strides or padding-only reads)."""
    if any(extent is None for extent in extents):
        return "; no output reaches the input at all (every path reads only padding)"
    unread = []
    for axis, (first, last), side in zip(("rows", "columns"), extents, sides):
        if first > 0:
            unread.append(f"{axis} 0..{first - 1}")
        if last < side - 1:
            unread.append(f"{axis} {last + 1}..{side - 1}")
    return f"; the net never reads input {', '.join(unread)}" if unread else ""


def _twin_source(node):
    """The node whose output tensor this node passes on unchanged in the probe twin."""
    from .torchbuild import ELEMENTWISE

    while node.layer.name in ELEMENTWISE and not (node.layer.name == "softmax" and node.args["dim"] > 0) \
            and node.inputs[0] is not None:
        node = node.inputs[0]
    return node


# --------------------------------------------------------------------------- measuring
def _measure(graph: Graph, shape, wanted: dict[str, list], progress, stage: str) -> dict[str, list]:
    """For each node and each requested output index (None = the middle of a flat output),
    the (first, last) non-zero gradient position along each input axis."""
    import torch

    from .torchbuild import build_module

    net = build_module(graph, geometric=True).eval()
    modules = dict(net.named_modules())
    geo_input = (1, *shape[1:]) if len(shape) == 3 else tuple(shape)
    # which nodes produce a tensor of their own in the probe (identities share their input's)
    captured: dict[str, object] = {}
    hooks = [modules[n.name].register_forward_hook(_keeper(captured, n.name)) for n in graph.nodes]
    with torch.no_grad():
        net(torch.zeros((1, *geo_input), dtype=torch.float64))
    owner, representative = {}, {}
    for n in graph.nodes:
        key = id(captured[n.name])
        owner.setdefault(key, n.name)
        representative[n.name] = owner[key]
    sample_bytes = 3 * 8 * sum(math.prod(t.shape) for t in {id(t): t for t in captured.values()}.values())
    captured.clear()
    probes = []
    for name, indices in wanted.items():
        for index in indices:
            probes.append((name, _Probe(representative[name], index)))
    distinct: dict[tuple, _Probe] = {}
    for _, p in probes:
        distinct.setdefault((p.node, p.index), p)
    order = {n.name: i for i, n in enumerate(graph.nodes)}
    work = sorted(distinct.values(), key=lambda p: order[p.node])  # a chunk runs only up to its last node
    batch = max(1, min(MAX_BATCH, BUDGET_BYTES // max(sample_bytes, 1)))
    done = 0
    for start in range(0, len(work), batch):
        chunk = work[start:start + batch]
        x = torch.zeros((len(chunk), *geo_input), dtype=torch.float64, requires_grad=True)
        captured.clear()
        net(x, until=chunk[-1].node)
        total = x.new_zeros(())
        for k, p in enumerate(chunk):
            out = captured[p.node][k]
            if p.index == ALL:
                total = total + out.sum()
            elif p.index is None:
                out = out.reshape(-1)
                total = total + out[out.shape[0] // 2]
            else:
                total = total + out[:, p.index[1], p.index[2]].sum()
        (grad,) = torch.autograd.grad(total, x)
        for k, p in enumerate(chunk):
            g = grad[k].abs()
            if len(geo_input) == 3:
                g = g.sum(0)
                p.measured = [_extent(g.sum(1)), _extent(g.sum(0))]
            else:
                p.measured = [_extent(g)]
        done += len(chunk)
        if progress:
            progress(stage, done, len(work))
    for h in hooks:
        h.remove()
    captured.clear()
    out: dict[str, list] = {name: [] for name in wanted}
    for name, p in probes:
        out[name].append(tuple(distinct[(p.node, p.index)].measured))
    return out


def _keeper(store: dict, name: str):
    def hook(module, inputs, output):
        store[name] = output

    return hook


def _extent(line) -> tuple[int, int] | None:
    import torch

    hits = torch.nonzero(line > 0).flatten()
    if hits.numel() == 0:
        return None
    return (int(hits[0]), int(hits[-1]))
