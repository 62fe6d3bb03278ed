"""A validated spec document -> Graph: evaluate the net arguments, expand the layers, resolve
every input reference, order the nodes topologically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import SpecError, brief, clip, near_miss
from ..spec.document import SpecDocument, read_document
from .expand import Expander, Scope
from ..layers.netinput import NetInput
from .model import Endpoint, Graph, Node
from .order import resolve, topological_order
from .sharing import resolve_sharing


def load_graph(source: str | Path, *, text: str | None = None, input_shape=None, batch: int | None = None,
               variant: str | None = None, settings: dict | None = None) -> Graph:
    """Load a spec file (or ``text``) and expand it into a Graph: ``variant`` names one of its
    ``variants`` (default: the one ``source`` carries, as a bundled variant's path does),
    ``settings`` replace net arguments (--set)."""
    if variant is None:
        variant = getattr(source, "variant", None)
    return build_graph(read_document(source, text=text, input_shape=input_shape, batch=batch, variant=variant,
                                     settings=settings))


def build_graph(doc: SpecDocument) -> Graph:
    expander = Expander(doc.file, doc.blocks, doc.block_files)
    env = _net_arguments(doc, expander)
    net_input = Endpoint(is_input=True)
    scope = Scope(net_input, "")
    _declare_inputs(doc, expander, scope, net_input)
    output_endpoint = expander.expand(doc.layers, scope, env, doc.data)
    if doc.output is not None:
        if not isinstance(doc.output, str) or doc.output not in scope.names:
            raise SpecError(f"output '{clip(str(doc.output))}' is not a top-level layer", file=doc.file,
                            line=doc.position_of("output")[0])
        output_endpoint = scope.names[doc.output]
    nodes = expander.nodes
    if not nodes:
        raise SpecError("spec has no layers", file=doc.file, line=doc.position_of("layers")[0])
    for node in nodes:
        node.inputs = [resolve(source, doc.file, node) for source in node.sources]
    resolve_sharing(nodes, doc.file)
    ordered = topological_order(nodes, doc.file)
    outputs = _declared_outputs(doc, scope, ordered, expander, env) if doc.outputs is not None else None
    if outputs is not None:
        output = outputs[0][0]
    else:
        output = resolve(output_endpoint, doc.file, nodes[-1]) if output_endpoint is not net_input else None
    return Graph(name=doc.name, file=doc.file, nodes=ordered, output=output, groups=expander.groups,
                 input_shape=doc.input_shape, batch=doc.batch, description=doc.description,
                 outputs=outputs if outputs is not None else [(output, "all")], input_name=doc.input_name)


def _declare_inputs(doc: SpecDocument, expander: Expander, scope: Scope, net_input: Endpoint) -> None:
    """``inputs``: the first is the net input (``input``, and by its name); each other one is a
    node of its own at the head of the graph, named as declared, that layers read by name."""
    if doc.input_name != "input":
        scope.names[doc.input_name] = net_input
    for name, shape, line in doc.other_inputs:
        node = Node(name, NetInput, {"shape": shape}, line, None, True, [net_input])
        expander.nodes.append(node)
        scope.names[name] = Endpoint(node=node)


def input_names(input_shape: tuple[int, ...]) -> dict[str, int]:
    """The net input's sizes as names every net argument and layer of the top level sees
    (``input_height``: a resize back to the input's size): its channels, and for a CxHxW map its
    height and width. A net argument of the same name hides them."""
    names = {"input_channels": input_shape[0]}
    if len(input_shape) == 3:
        names.update(input_height=input_shape[1], input_width=input_shape[2])
    return names


def _net_arguments(doc: SpecDocument, expander: Expander) -> dict[str, Any]:
    """The net's arguments, in order, each seeing the ones before it (and the input's sizes); a
    variant's or --set's value replaces the spec's, located where it was written."""
    env: dict[str, Any] = input_names(doc.input_shape)
    for key, value in doc.net_args.items():
        override = doc.overrides.get(key)
        if override is None:
            env[key] = expander.value(value, env, where=doc.net_args, key=key)
        else:
            env[key] = expander.value(override.raw, env, where=override.where, key=override.label)
    return env


def _declared_outputs(doc: SpecDocument, scope: Scope, nodes: list, expander: Expander,
                      env: dict) -> list[tuple[Any, str]]:
    """``outputs``: each a top-level name (a group stands for its output) or a layer's full
    dotted name (``aux1.fc2``), with the mode it exists in; one whose ``when`` is false is left out."""
    by_name = {node.name: node for node in nodes}
    result = []
    for name, mode, where in doc.outputs:
        if isinstance(where, dict) and "when" in where:
            keep = expander.value(where["when"], env, where=where, key="when")
            if not isinstance(keep, bool):
                raise SpecError(f"output '{clip(name)}': 'when' must be true or false, got {brief(keep)}",
                                file=doc.file, line=where.position_of("when")[0])
            if not keep:
                continue
        if name in scope.names:
            node = resolve(scope.names[name], doc.file, nodes[-1])
        elif name in by_name:
            node = by_name[name]
        else:
            near = near_miss(name, list(scope.names) + list(by_name))
            hint = f"; did you mean '{clip(near[0])}'?" if near else ""
            raise SpecError(f"output '{clip(name)}' is not a layer (a top-level name or a layer's full dotted name){hint}",
                            file=doc.file, line=getattr(where, "line", None))
        result.append((node, mode))
    return result
