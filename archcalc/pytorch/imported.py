"""The end every importer shares: an imported net (importing.layout.ImportedNet) nested into groups
(importing.layout), repeated modules folded into blocks (importing.blocks), written as YAML, and the
analysis of that YAML checked against the traced shapes and the modules' parameters
(importing.check)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..importing.blocks import fold_blocks
from ..importing.check import check_rows
from ..importing.layout import ImportedNet, compact, to_spec
from ..importing.yaml_writer import write_yaml


@dataclass
class Imported:
    """An imported module: the written spec (``text``), its data, the net as read, the Graph
    analysed, and what was not counted (``--partial``)."""

    text: str
    data: dict
    net: ImportedNet
    graph: object = None
    not_counted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how the source was read (shown on stderr)
    module: object = None  # the module imported


def finish_import(net: ImportedNet, name: str, blocks: bool = True) -> Imported:
    """An importer's net -> spec data (nested, blocks folded, defaults left out), its YAML, and the
    check of the analysis of that YAML against the traced shapes and held tensors."""
    from ..analysis import analyze
    from ..graph import load_graph

    description = net.description
    data = to_spec(net)
    if blocks:
        data = fold_blocks(data, net)
    data = compact(data)
    text = write_yaml(data, header=f"{name}: written by archcalc import" + (f", {description}" if description else ""))
    graph = load_graph(f"<{name}>", text=text)
    report = analyze(graph)
    check_rows(net, report)
    return Imported(text=text, data=data, net=net, graph=graph, not_counted=net.not_counted)
