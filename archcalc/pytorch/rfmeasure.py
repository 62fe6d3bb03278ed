"""The torch side of the receptive-field probe (archcalc.rfprobe decides what to probe and
compares): one-axis geometric twins, and batched gradient measurements on them.

Every layer acts on rows and columns separately, so the first/last row of a field is measured on
a twin that keeps only the rows' geometry (kernels k x 1 on an H x 1 input), and the columns
likewise. Probes are batched: sample k of a batch carries probe k, so one forward and one
backward measure many (node, position) pairs, within a memory budget. torch is imported lazily.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from ..graph import Graph, Node
from ..layers.base import is_map

BUDGET_BYTES = 384 << 20  # memory for one batched forward + backward
MAX_BATCH = 256
ALL = "all"  # probe index: every element of the output at once

@dataclass
class _Probe:
    node: str  # representative node whose output tensor is probed
    index: tuple  # position in the output (without batch); channels are summed
    measured: list = field(default_factory=list)  # per axis (first, last) or None


def axis_graph(graph: Graph, axis: int, input_shape, as_is: frozenset[str] = frozenset()) -> Graph:
    """The graph with every layer's geometry kept along ``axis`` (0 rows, 1 columns; or of a
    CxL or CxTxHxW net its one or three axes) and made trivial (kernel 1, stride 1, no padding)
    along the others; widths left to the input. The layers named in ``as_is`` keep their
    arguments: they read a permuted tensor (archcalc.layers.layout), on each position on its
    own, and have no geometry to trim."""

    made: dict[str, Node] = {}
    nodes = []
    for node in graph.nodes:
        args = node.args if node.name in as_is else node.layer.axis_args(node.args, axis)
        copy = replace(node, args=args, inputs=[None if p is None else made[p.name] for p in node.inputs])
        made[node.name] = copy
        nodes.append(copy)
    return Graph(graph.name, graph.file, nodes, None, graph.groups, tuple(input_shape), 1, graph.description)


def measure(graph: Graph, shape, wanted: dict[str, list], progress, stage: str) -> dict[str, list]:
    """For each node and each requested output index (None = the middle of a flat output),
    the (first, last) non-zero gradient position along each input axis (None where none is)."""
    from .twin import build_module

    net = build_module(graph, geometric=True).eval()
    modules = dict(net.named_modules())
    probe_input = (1, *shape[1:]) if is_map(shape) else tuple(shape)
    captured: dict[str, object] = {}
    hooks = [modules[n.name].register_forward_hook(_keeper(captured, n.name)) for n in graph.nodes]
    try:
        representative, sample_bytes = _representatives(net, graph, captured, probe_input)
        probes = [(name, _Probe(representative[name], index)) for name, indices in wanted.items() for index in indices]
        distinct: dict[tuple, _Probe] = {}
        for _, p in probes:
            distinct.setdefault((p.node, p.index), p)
        order = {n.name: i for i, n in enumerate(graph.nodes)}
        work = sorted(distinct.values(), key=lambda p: order[p.node])  # a chunk runs only up to its last node
        batch = max(1, min(MAX_BATCH, BUDGET_BYTES // max(sample_bytes, 1)))
        for start in range(0, len(work), batch):
            _measure_chunk(net, work[start:start + batch], captured, probe_input)
            if progress:
                progress(stage, min(start + batch, len(work)), len(work))
    finally:
        for h in hooks:
            h.remove()
        captured.clear()
    out: dict[str, list] = {name: [] for name in wanted}
    for name, p in probes:
        out[name].append(tuple(distinct[(p.node, p.index)].measured))
    return out


def _representatives(net, graph: Graph, captured: dict, probe_input) -> tuple[dict[str, str], int]:
    """Which node's output tensor each node's is in the probe (identities share their input's,
    so they share one measurement), and the bytes one sample of a forward + backward needs."""
    import torch

    with torch.no_grad():
        net(torch.zeros((1, *probe_input), dtype=torch.float64))
    owner, representative = {}, {}
    for n in graph.nodes:
        key = id(captured[n.name])
        owner.setdefault(key, n.name)
        representative[n.name] = owner[key]
    sample_bytes = 3 * 8 * sum(math.prod(t.shape) for t in {id(t): t for t in captured.values()}.values())
    captured.clear()
    return representative, sample_bytes


def _measure_chunk(net, chunk: list[_Probe], captured: dict, probe_input) -> None:
    """One batched forward and backward: sample k carries probe k."""
    import torch

    x = torch.zeros((len(chunk), *probe_input), dtype=torch.float64, requires_grad=True)
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
            # axes before the index's (a stacked volume's) are summed, as the channels are
            lead = (slice(None),) * (out.dim() - len(p.index) + 1)
            total = total + out[(*lead, *p.index[1:])].sum()
    # allow_unused: a twin that cuts the graph must read as "no gradient", not crash
    (grad,) = torch.autograd.grad(total, x, allow_unused=True) if total.requires_grad else (None,)
    grad = torch.zeros_like(x) if grad is None else grad
    for k, p in enumerate(chunk):
        g = grad[k].abs()
        if is_map(probe_input):
            g = g.sum(0)
            axes = range(g.dim())  # per spatial axis, the extent of the sum over the others
            p.measured = [_extent(g.sum(tuple(b for b in axes if b != a)) if g.dim() > 1 else g) for a in axes]
        else:
            p.measured = [_extent(g)]


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
