"""A Report as the graph view's data: one node per layer with its figures and the formulas behind
them, the blocks (groups) a node sits in, which blocks start expanded, and the stages the plots
sum over. Plain JSON-ready data; graph.js lays it out (dagre) and draws it, in the browser and in
`archcalc graph`. Every name passes through ``visible`` (no control characters reach a page);
HTML/SVG escaping happens where the text is written."""

from __future__ import annotations

from typing import Any

from ...analysis import Report, Row
from ..cells import human, human_bytes, rf_cells, shape_text
from ..escape import visible

# The graph opens with blocks expanded level by level while it shows at most this many nodes:
# readable at a glance, and laid out in a few milliseconds even for DenseNet-169's 595 layers.
INITIAL_NODES = 40
FIGURES = {"params": "parameters", "flops": "FLOPs", "activations": "activation bytes", "rf": "receptive-field size"}


def group_names(row_name: str, groups: dict) -> list[str]:
    """The groups a layer sits in, outermost first (its name's prefixes that are groups)."""
    parts = row_name.split(".")
    return [prefix for prefix in (".".join(parts[:k]) for k in range(1, len(parts))) if prefix in groups]


def short_name(name: str) -> str:
    """A node's label: the last part of its name, with its parent's for a bare index ('layer1.0'
    rather than '0')."""
    parts = name.split(".")
    return ".".join(parts[-2:]) if parts[-1].isdigit() and len(parts) > 1 else parts[-1]


def rf_size(report: Report, row: Row) -> int | None:
    """The largest side of the field, the input's for 'whole'; None where it is not known."""
    if row.rf.kind == "field":
        return max(row.rf.size)
    if row.rf.kind == "whole":
        return max(report.input[1:]) if len(report.input) > 1 else None
    return None


def figures_of(report: Report, row: Row) -> dict[str, Any]:
    return {"params": row.params, "flops": row.flops, "activations": row.activations * report.dtype_bytes,
            "rf": rf_size(report, row)}


def layer_details(report: Report, row: Row, layer) -> list[list[str]]:
    """[figure, value, formula or rule] lines: what clicking a node shows."""
    size, stride, padding = rf_cells(row.rf)
    lines = [["type", visible(row.type), visible(getattr(layer, "summary", "") or "")],
             ["output", shape_text(row.output), getattr(layer, "shape_rule", "")],
             ["parameters", f"{row.params:,}", row.formula or getattr(layer, "params_rule", "")]]
    lines += [[f"  {visible(t.name)}", f"{t.count:,}", visible(t.formula)] for t in row.param_tensors]
    if row.buffers:
        lines.append(["buffers", f"{row.buffers:,}", " + ".join(f"{visible(t.name)} {t.count:,}" for t in row.buffer_tensors)])
    lines += [["MACs", f"{row.macs:,}", getattr(layer, "macs_rule", "")],
              ["FLOPs", f"{row.flops:,}", "as torch's FlopCounterMode counts them"],
              ["all ops", f"{row.ops:,}", getattr(layer, "ops_rule", "")],
              ["activations", f"{row.activations:,} ({human_bytes(row.activations * report.dtype_bytes)})",
               f"{shape_text(row.output)} x batch {report.batch} x {report.dtype_bytes} B ({report.dtype})"],
              ["receptive field", size, getattr(layer, "rf_rule", "")],
              ["effective stride", stride, ""], ["effective padding", padding, ""],
              ["backward FLOPs", f"{row.backward_flops:,}",
               f"input gradient {row.backward_input_flops:,} + weight gradient {row.backward_weight_flops:,}"],
              ["inputs", ", ".join(visible(i) for i in row.inputs), ""]]
    if not row.active:
        lines.append(["mode", "not run", f"runs only in the other mode than {report.mode}"])
    lines += [["note", visible(n), ""] for n in row.notes]
    return lines


def group_details(report: Report, rows: list[Row], kind: str) -> list[list[str]]:
    last = rows[-1]
    params, flops = sum(r.params for r in rows), sum(r.flops for r in rows)
    activations = sum(r.activations for r in rows) * report.dtype_bytes
    return [["block", visible(kind), f"{len(rows)} layers"],
            ["output", shape_text(last.output), f"the output of {visible(last.name)}"],
            ["parameters", f"{params:,} ({human(params)})", "the sum over its layers"],
            ["MACs", f"{sum(r.macs for r in rows):,}", "the sum over its layers"],
            ["FLOPs", f"{flops:,} ({human(flops)})", "the sum over its layers"],
            ["activations", human_bytes(activations), "the sum of its layers' outputs"],
            ["receptive field", rf_cells(last.rf)[0], f"of its output ({visible(last.name)})"]]


def initial_expansion(rows: list[list[int]], depths: list[int]) -> list[int]:
    """Groups to open: every group up to the deepest level at which the graph still shows at
    most INITIAL_NODES nodes (level 0: every block collapsed)."""
    chosen: list[int] = []
    for level in range(1, max(depths, default=0) + 1):
        opened = {g for g, d in enumerate(depths) if d <= level}
        shown = {next((("g", g) for g in chain if g not in opened), ("n", i)) for i, chain in enumerate(rows)}
        if len(shown) > INITIAL_NODES:
            break
        chosen = sorted(opened)
    return chosen


def stage_depth(report: Report) -> int | None:
    """The shallowest level with two or more blocks (ResNet's layer1..layer4, DenseNet's dense
    blocks and transitions): the plots' stages. None: the net has no such level."""
    groups = report.graph.groups if report.graph is not None else {}
    counts: dict[int, int] = {}
    for name in groups:
        depth = name.count(".") + 1
        counts[depth] = counts.get(depth, 0) + 1
    return min((d for d, c in counts.items() if c >= 2), default=None)


def graph_model(report: Report) -> dict[str, Any]:
    """The graph view's data for one net (see graph.js for how it is read)."""
    graph_groups = report.graph.groups if report.graph is not None else {}
    layers = {node.name: node.layer for node in report.graph.nodes} if report.graph is not None else {}
    index = {row.name: i for i, row in enumerate(report.rows)}
    group_index: dict[str, int] = {}
    members: dict[str, list[Row]] = {}
    chains: list[list[int]] = []
    for row in report.rows:
        chain = []
        for name in group_names(row.name, graph_groups):
            if name not in group_index:
                group_index[name] = len(group_index)
            members.setdefault(name, []).append(row)
            chain.append(group_index[name])
        chains.append(chain)
    groups = []
    for name, i in group_index.items():
        parents = group_names(name, graph_groups)
        kind = graph_groups[name].kind
        rows = members[name]
        groups.append({"name": visible(name), "short": visible(short_name(name)), "kind": visible(kind),
                       "parent": group_index[parents[-1]] if parents else -1, "layers": len(rows),
                       "figs": {"params": sum(r.params for r in rows), "flops": sum(r.flops for r in rows),
                                "activations": sum(r.activations for r in rows) * report.dtype_bytes,
                                "rf": rf_size(report, rows[-1])},
                       "details": group_details(report, rows, kind)})
    sources: dict[str, str] = {}
    nodes = []
    for i, row in enumerate(report.rows):
        inputs: list[Any] = []
        for name in row.inputs:
            if name in index:
                inputs.append(index[name])
            else:  # a net input
                sources.setdefault(visible(name), shape_text(report.input))
                inputs.append(visible(name))
        nodes.append({"id": i, "name": visible(row.name), "short": visible(short_name(row.name)),
                      "type": visible(row.type), "shape": shape_text(row.output), "inputs": inputs,
                      "groups": chains[i], "join": len(row.inputs) > 1, "figs": figures_of(report, row),
                      "details": layer_details(report, row, layers.get(row.name))})
    depths = [g["name"].count(".") + 1 for g in groups]
    return {"name": visible(report.name), "nodes": nodes, "groups": groups, "inputs": sources,
            "initial": initial_expansion(chains, depths), "figures": FIGURES}


def visible_count(model: dict[str, Any], expanded: list[int]) -> int:
    """How many node elements the graph draws with these groups expanded (net inputs included)."""
    opened = set(expanded)
    shown = {next((("g", g) for g in node["groups"] if g not in opened), ("n", node["id"])) for node in model["nodes"]}
    return len(shown) + len(model["inputs"])
