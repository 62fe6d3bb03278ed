"""Each peer tool's count of a net, per layer and in total (archcalc.layers.conventions): the
Report's graph walked once more, each layer's facts handed to every convention asked for."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import Report
from ..errors import UsageError
from ..layers.conventions import CONVENTIONS, Convention, LayerFacts, convention_names


@dataclass(frozen=True)
class ConventionCounts:
    """One convention's count of every layer (by row name, as the tool reports it for the
    Report's batch) and the total."""

    convention: Convention
    layers: dict[str, int]
    total: int


def resolve_conventions(names: str | list[str]) -> list[Convention]:
    """Conventions named on the command line: 'all', one name, or a comma-separated list."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not names or names == ["all"]:
        return list(CONVENTIONS.values())
    unknown = [n for n in names if n not in CONVENTIONS]
    if unknown:
        raise UsageError(f"unknown convention '{unknown[0]}' (choose from {', '.join(convention_names())} or all)")
    return [CONVENTIONS[n] for n in names]


def layer_facts(report: Report) -> list[tuple[str, LayerFacts]]:
    """Every row's facts (row name, facts), in the Report's order, from its graph."""
    graph = report.graph
    if graph is None:
        raise UsageError("this report has no graph to count conventions on")
    shapes: dict[int, tuple[int, ...]] = {}
    facts = []
    for node, row in zip(graph.nodes, report.rows):
        inputs = tuple(report.input if p is None else shapes[id(p)] for p in node.inputs)
        result = node.layer.infer(node.args, list(inputs))
        shapes[id(node)] = result.output
        facts.append((row.name, LayerFacts(node.layer, node.args, inputs, result.output, result, node.trainable)))
    return facts


def convention_counts(report: Report, conventions: list[Convention]) -> list[ConventionCounts]:
    """Each convention's per-layer counts and total for the Report's net, input and batch."""
    facts = layer_facts(report)
    counted = []
    for convention in conventions:
        layers = {name: convention.reported(f, report.batch) for name, f in facts}
        counted.append(ConventionCounts(convention, layers, sum(layers.values())))
    return counted
