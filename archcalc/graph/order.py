"""Resolving endpoints to their producer nodes, and the topological order (Kahn's algorithm)."""

from __future__ import annotations

import heapq

from ..errors import SpecError
from .model import Endpoint, Node


def resolve(endpoint: Endpoint, file: str, node: Node) -> Node | None:
    """The node producing ``endpoint`` (None for the net input). Every alias passed on the way is
    pointed straight at the answer, so chains of aliases (groups, layers dropped by ``when``)
    shared by many consumers are walked once, not once per consumer."""
    seen: dict[int, Endpoint] = {}
    while endpoint.node is None and not endpoint.is_input:
        if endpoint.error is not None:
            raise endpoint.error
        if id(endpoint) in seen or endpoint.target is None:
            raise SpecError("the layers' inputs form a cycle", file=file, line=node.line, layer=node.name)
        seen[id(endpoint)] = endpoint
        endpoint = endpoint.target
    for passed in seen.values():
        passed.target = endpoint
    return endpoint.node


def topological_order(nodes: list[Node], file: str) -> list[Node]:
    """Kahn's algorithm, keeping spec order among ready nodes; names the cycle if there is one."""
    for i, node in enumerate(nodes):
        node.index = i
    consumers: dict[int, list[Node]] = {id(n): [] for n in nodes}
    waiting = {}
    for node in nodes:
        producers = {id(p) for p in node.inputs if p is not None}
        waiting[id(node)] = len(producers)
        for pid in producers:
            consumers[pid].append(node)
    ready = [(n.index, n) for n in nodes if waiting[id(n)] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for consumer in consumers[id(node)]:
            waiting[id(consumer)] -= 1
            if waiting[id(consumer)] == 0:
                heapq.heappush(ready, (consumer.index, consumer))
    if len(order) < len(nodes):
        stuck = [n for n in nodes if waiting[id(n)] > 0]
        names = ", ".join(n.name for n in stuck[:6])
        raise SpecError(f"the layers' inputs form a cycle through {names}", file=file, line=stuck[0].line, layer=stuck[0].name)
    return order
