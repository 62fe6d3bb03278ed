"""The graph's data: nodes (one layer each, with its source position), groups (blocks and
sequentials, for folding rows), and the Graph itself (nodes in topological order)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..layers.base import LayerType


@dataclass(eq=False)
class Node:
    name: str
    layer: type[LayerType]
    args: dict[str, Any]
    line: int | None = None
    column: int | None = None
    trainable: bool = True
    sources: list["Endpoint"] = field(default_factory=list, repr=False)
    # after resolution: producer nodes, None meaning the net input
    inputs: list["Node | None"] = field(default_factory=list, repr=False)  # repr=False: a DAG repr is exponential
    index: int = 0
    # The reference code calls it as a function (F.relu, torch.cat), not through a module: only
    # peer tools' conventions read it (module-hook tools never see such a layer). "tensor_method":
    # a Tensor method (x.mean([2, 3])), which the tools that patch functionals do not patch either.
    functional: bool | str = False
    # the layer whose module (parameters and buffers) this one reuses (``shares``), its type and
    # arguments; until resolved (graph.sharing), ``sharing`` holds (reference, stated type, stated arguments)
    shares: "Node | None" = field(default=None, repr=False)
    sharing: Any = field(default=None, repr=False)

    @property
    def type_name(self) -> str:
        return self.layer.name

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))


class Endpoint:
    """Where a tensor comes from: a node, the net input, or an alias resolved later."""

    __slots__ = ("node", "target", "lazy", "is_input", "error")

    def __init__(self, node=None, target=None, lazy=None, is_input=False):
        self.node = node
        self.target = target
        self.lazy = lazy  # (scope, name, line, column, layer) until the scope is complete
        self.is_input = is_input
        # a reference of an entry 'when' left out that does not resolve: raised only if a layer
        # reads through it (the entry's name passes its input on)
        self.error = None


@dataclass
class Group:
    """A sequential or block instance: used to fold rows with --depth."""

    name: str
    kind: str
    line: int | None


@dataclass
class Graph:
    name: str
    file: str
    nodes: list[Node]  # topological order
    output: Node | None
    groups: dict[str, Group]
    input_shape: tuple[int, ...]
    batch: int
    description: str = ""
    # every declared output with the mode it exists in ('all', 'train' or 'eval'); the first is
    # ``output``, the net's main output (empty: ``output`` alone, in every mode)
    outputs: list[tuple["Node | None", str]] = field(default_factory=list)
    # the first input's name (spec 'inputs'); the others are nodes whose layer has net_input
    input_name: str = "input"
