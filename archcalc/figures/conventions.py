"""Each peer tool's count of a net, per layer and in total (archcalc.layers.conventions): the
Report's graph walked once more, each layer's facts handed to every convention asked for."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..analysis import Report, Row
from ..analysis.backward import ancestors_of_output
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
    used = ancestors_of_output(graph)
    facts = []
    # the analysis's own results where it kept them (the same layers, arguments and input shapes)
    results = report.layer_results if report.layer_results is not None else [None] * len(graph.nodes)
    for node, row, result in zip(graph.nodes, report.rows, results):
        inputs = tuple(report.input if p is None else shapes[id(p)] for p in node.inputs)
        if result is None:
            result = node.layer.infer(node.args, list(inputs))
        shapes[id(node)] = result.output
        facts.append((row.name, LayerFacts(node.layer, node.args, inputs, result.output, result, node.trainable,
                                                 node.functional, used=id(node) in used)))
    return facts


_NESTED = {list, tuple, dict}


def _frozen(value):
    """An argument value as a hashable key that tells types apart (True, 1 and 1.0 differ);
    TypeError for a value that cannot be one."""
    if isinstance(value, (list, tuple)):
        return type(value), tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return dict, tuple((k, _frozen(v)) for k, v in value.items())
    hash(value)
    return type(value), value


def facts_key(facts: LayerFacts):
    """What a rule can read of a layer (its result follows from type, arguments and inputs), as a
    key: a deep net repeats a few kinds of layer thousands of times, each counted once. None
    where an argument is not hashable (that layer is counted on its own)."""
    values = tuple(facts.args.values())
    types = tuple(map(type, values))
    try:
        if _NESTED.isdisjoint(types):  # the usual case: flat arguments, keyed without a Python loop
            args = (tuple(facts.args), values, types)
            hash(args)
        else:
            args = _frozen(facts.args)
    except TypeError:
        return None
    return facts.layer, args, facts.inputs, facts.output, facts.trainable, facts.functional, facts.used


def convention_counts(report: Report, conventions: list[Convention]) -> list[ConventionCounts]:
    """Each convention's per-layer counts and total for the Report's net, input and batch."""
    facts = layer_facts(report)
    kinds: dict = {}  # facts_key -> a small int, hashed once per layer rather than once per convention
    keys = [None if key is None else kinds.setdefault(key, len(kinds)) for key in map(facts_key, (f for _, f in facts))]
    counted = []
    # a layer the mode does not run (an aux head in eval) is called by no tool: 0 for every tool
    idle = {row.name for row in report.rows if not row.active}
    for convention in conventions:
        memo: dict = {}
        layers = {}
        for (name, f), key in zip(facts, keys):
            if name in idle:
                layers[name] = 0
                continue
            value = memo.get(key) if key is not None else None
            if value is None:
                seen = replace(f, batch=report.batch) if convention.whole_batch else f
                value = convention.reported(seen, report.batch)
                if key is not None:
                    memo[key] = value
            layers[name] = value
        counted.append(ConventionCounts(convention, layers, sum(layers.values())))
    return counted


def counts_by_row(counted: ConventionCounts, rows: list[Row]) -> list[int]:
    """A convention's count for each shown row: a layer's own, or a folded group's (--depth) sum
    over the layers inside it."""
    totals = []
    for row in rows:
        if row.name in counted.layers and row.folded == 1:
            totals.append(counted.layers[row.name])
        else:
            prefix = row.name + "."
            totals.append(sum(v for name, v in counted.layers.items() if name.startswith(prefix) or name == row.name))
    return totals


def counts_by_type(report: Report, counted: list[ConventionCounts]) -> dict[str, list[int]]:
    """Each layer type's count under every convention (in ``counted``'s order), types in the
    order they first appear in the net."""
    types: dict[str, list[int]] = {}
    for row in report.rows:
        sums = types.setdefault(row.type, [0] * len(counted))
        for i, convention in enumerate(counted):
            sums[i] += convention.layers[row.name]
    return types
