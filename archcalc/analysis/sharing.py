"""Weight sharing in the analysis (spec ``shares``, graph.sharing): the sharing layer's row holds
no parameters or buffers (they count once, at the owner) and its input must give them the
owner's shapes."""

from __future__ import annotations

from dataclasses import replace

from ..errors import ShapeError
from ..graph import Graph, Node


def own_tensors(node: Node, result):
    """The result as the row counts it: a layer sharing another's module (``shares``) holds no
    parameters or buffers of its own (they count once, at the owner); MACs, FLOPs and backward
    FLOPs stay, per use."""
    return result if node.shares is None else replace(result, params=[], buffers=[])


def check_sharing(graph: Graph, results: list) -> None:
    """A sharing layer's input must give the shared parameters and buffers the owner's shapes
    (compared by name and formula, which spells the shape)."""
    by_name = {node.name: result for node, result in zip(graph.nodes, results)}
    for node, result in zip(graph.nodes, results):
        if node.shares is None or node.shares.name not in by_name:  # a part of the net (the probe's)
            continue
        owner = by_name[node.shares.name]
        spelled = [[(t.name, t.formula) for t in r.params + r.buffers] for r in (result, owner)]
        if spelled[0] != spelled[1]:
            need = ", ".join(f"{t.name} {t.formula}" for t in result.params) or "none"
            have = ", ".join(f"{t.name} {t.formula}" for t in owner.params) or "none"
            raise ShapeError(f"shares the module of '{node.shares.name}', but its input needs {need} where "
                             f"'{node.shares.name}' has {have}").located(file=graph.file, line=node.line,
                                                                          column=node.column, layer=node.name)
