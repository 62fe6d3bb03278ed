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



# what an importer's producer map holds for a node that is no layer (both importers, fx and ATen)
@dataclass(frozen=True)
class MultiOutput:
    """A call that returns several tensors (x.chunk(2, 1)): read per element used."""

    node: object  # the fx.Node


@dataclass(frozen=True)
class Uncounted:
    """The output of an op left out (--partial) that changes the shape; ``before``: the last
    counted layer it follows (None: the input), which stands in for it as a net output."""

    before: object

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


def finish_import(net: ImportedNet, name: str, blocks: bool = True, batch: int = 1) -> Imported:
    """An importer's net -> spec data (nested, blocks folded, defaults left out), its YAML, and the
    check of the analysis of that YAML against the traced shapes and held tensors. ``batch``: the
    batch a saved program was exported for, written when it is not 1."""
    from ..analysis import analyze
    from ..graph import load_graph

    description = net.description
    data = to_spec(net)
    if batch != 1:  # written after the input, where a spec states it
        data = {k: v for key, value in data.items()
                for k, v in ([(key, value), ("batch", batch)] if key == "input" else [(key, value)])}
    if blocks:
        data = fold_blocks(data, net)
    data = compact(data)
    text = write_yaml(data, header=f"{name}: written by archcalc import" + (f", {description}" if description else ""))
    graph = load_graph(f"<{name}>", text=text)
    report = analyze(graph)
    check_rows(net, report)
    return Imported(text=text, data=data, net=net, graph=graph, not_counted=net.not_counted)
