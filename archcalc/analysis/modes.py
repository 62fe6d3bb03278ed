"""Which layers run in a mode. A net may declare outputs that exist only in training (GoogLeNet's
auxiliary heads) or only in evaluation (``outputs: [fc, {name: aux1, mode: train}]``). In a mode,
a layer runs when some output of that mode depends on it; a layer that only outputs of the other
mode depend on still owns its parameters (they exist in the module) but runs no FLOPs and holds
no activations, as torch counts an auxiliary head in evaluation mode. A layer that no declared output
depends on, in any mode, is still run and counted (the twin runs every layer) and is a warning."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ..graph import Graph

MODES = ("eval", "train")
OTHER = {"eval": "train", "train": "eval"}


@dataclass(frozen=True)
class ModePlan:
    mode: str
    inactive: frozenset[int]  # ids of the nodes that run only in the other mode
    unused: tuple[str, ...]  # names of the nodes no declared output depends on


def _ancestors(starts) -> set[int]:
    seen: set[int] = set()
    stack = [node for node in starts if node is not None]
    seen.update(id(node) for node in stack)
    while stack:
        for producer in stack.pop().inputs:
            if producer is not None and id(producer) not in seen:
                seen.add(id(producer))
                stack.append(producer)
    return seen


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise UsageError(f"unknown mode '{mode}' (choose from {', '.join(MODES)})")
    return mode


def mode_plan(graph: Graph, mode: str) -> tuple[ModePlan, set[int]]:
    """The plan of ``mode`` and the ids of the nodes that run in it and reach one of its outputs."""
    outputs = graph.outputs or [(graph.output, "all")]
    live = _ancestors(node for node, when in outputs if when in ("all", mode))
    reaching = live if all(when == "all" for _, when in outputs) else live | _ancestors(node for node, _ in outputs)
    inactive = frozenset(reaching - live)
    unused = () if graph.output is None else tuple(n.name for n in graph.nodes if id(n) not in reaching)
    return ModePlan(mode, inactive, unused), live


def unused_warning(plan: ModePlan) -> list[str]:
    """One warning naming the layers no declared output uses (the first eight, and how many more)."""
    if not plan.unused:
        return []
    shown = ", ".join(plan.unused[:8]) + (f" and {len(plan.unused) - 8} more" if len(plan.unused) > 8 else "")
    return [f"{shown}: reach{'es' if len(plan.unused) == 1 else ''} no declared output in any mode "
            "(counted, as the twin runs them; name them in 'outputs' or remove them)"]


def inactive_note(plan: ModePlan) -> str:
    return f"runs only in {OTHER[plan.mode]} mode: parameters counted, no FLOPs or activations in {plan.mode} mode"


def only_in(graph: Graph) -> dict[str, str]:
    """Layer name -> the one mode it runs in ('train' or 'eval'), for the layers that run in one
    mode only (the twin and the export run them under ``if self.training``)."""
    result: dict[str, str] = {}
    if all(when == "all" for _, when in graph.outputs or ()):
        return result
    for mode in MODES:
        plan, _ = mode_plan(graph, mode)
        result.update((n.name, OTHER[mode]) for n in graph.nodes if id(n) in plan.inactive)
    return result
