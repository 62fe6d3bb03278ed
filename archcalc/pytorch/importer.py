"""A torch.nn.Module -> an imported spec: trace (fx_trace), read the layers (fx_import), nest
them into groups (importing.layout), fold repeated modules into blocks (importing.blocks), write
YAML and check the analysis of that YAML against the traced shapes and the modules' parameters
(importing.check)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..importing.blocks import fold_blocks
from ..importing.check import check_rows
from ..importing.layout import ImportedNet, compact, to_spec
from ..importing.yaml_writer import write_yaml
from .fx_import import UnsupportedOp, read_graph
from .fx_trace import ImportError_, trace


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


def _uncalled_holders(traced, module: torch.nn.Module) -> list[str]:
    """Modules holding parameters or buffers that no traced call uses (an auxiliary head eval
    mode skips), outermost first."""
    used = set()
    for node in traced.graph.nodes:
        if node.op == "call_module":
            used.add(str(node.target))
        elif node.op == "get_attr":
            used.add(str(node.target).rpartition(".")[0])
    reached = {path for u in used for path in _prefixes(u)}  # a module is used when it or a descendant is
    found = []
    for path, sub in module.named_modules():
        if not path or path in reached:
            continue
        if any(True for _ in sub.parameters(recurse=False)) or any(True for _ in sub.buffers(recurse=False)):
            if not any(path.startswith(f + ".") for f in found):
                found.append(path)
    return found


def _prefixes(path: str):
    parts = path.split(".")
    return (".".join(parts[:k]) for k in range(1, len(parts) + 1))


def trace_for_import(module: torch.nn.Module, input_shape, batch: int = 1):
    """The traced module and the modes its outputs exist in: in eval mode; where that leaves a
    module with parameters uncalled (GoogLeNet's auxiliary heads), in train mode, whose outputs
    past the first are train-only."""
    was_training = module.training
    module.eval()
    try:
        traced = trace(module, input_shape, batch)
        if not _uncalled_holders(traced, module):
            return traced, False
        module.train()
        try:
            trained = trace(module, input_shape, max(batch, 2))  # batch norm trains on 2 samples or more
        except ImportError_:
            return traced, False
        return (trained, True) if len(_uncalled_holders(trained, module)) < len(_uncalled_holders(traced, module)) \
            else (traced, False)
    finally:
        module.train(was_training)


def import_module(module: torch.nn.Module, input_shape, *, name: str = "imported", batch: int = 1,
                  partial: bool = False, blocks: bool = True, description: str = "") -> Imported:
    from ..analysis import analyze
    from ..graph import load_graph

    if not isinstance(module, torch.nn.Module):
        raise ImportError_(f"expected a torch.nn.Module, got {type(module).__name__}")
    input_shape = tuple(int(v) for v in input_shape)
    traced, train_outputs = trace_for_import(module, input_shape, batch)
    net = read_graph(traced, input_shape, name, partial=partial)
    net.description = description
    if train_outputs:
        net.outputs = [net.outputs[0]] + [(i, "train") for i, _ in net.outputs[1:]]
    for path in _uncalled_holders(traced, module):
        sub = module.get_submodule(path)
        held = sum(p.numel() for p in sub.parameters()) + sum(b.numel() for b in sub.buffers())
        message = f"{path} ({type(sub).__name__}): forward never calls it [{held:,} parameters and buffers not counted]"
        if not partial:
            raise UnsupportedOp(f"module {message}; `--partial` analyses the rest")
        net.not_counted.append(message)
    data = to_spec(net)
    if blocks:
        data = fold_blocks(data, net)
    data = compact(data)
    text = write_yaml(data, header=f"{name}: written by archcalc import" + (f", {description}" if description else ""))
    graph = load_graph(f"<{name}>", text=text)
    report = analyze(graph)
    check_rows(net, report)
    return Imported(text=text, data=data, net=net, graph=graph, not_counted=net.not_counted)
