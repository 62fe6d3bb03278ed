"""A validated spec document -> Graph: evaluate the net arguments, expand the layers, resolve
every input reference, order the nodes topologically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import SpecError, clip
from ..spec.document import SpecDocument, read_document
from .expand import Expander, Scope
from .model import Endpoint, Graph
from .order import resolve, topological_order


def load_graph(source: str | Path, *, text: str | None = None, input_shape=None, batch: int | None = None) -> Graph:
    """Load a spec file (or ``text``) and expand it into a Graph."""
    return build_graph(read_document(source, text=text, input_shape=input_shape, batch=batch))


def build_graph(doc: SpecDocument) -> Graph:
    expander = Expander(doc.file, doc.blocks)
    env: dict[str, Any] = {}
    for key, value in doc.net_args.items():
        env[key] = expander.value(value, env, where=doc.net_args, key=key)
    net_input = Endpoint(is_input=True)
    scope = Scope(net_input, "")
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
    ordered = topological_order(nodes, doc.file)
    output = resolve(output_endpoint, doc.file, nodes[-1]) if output_endpoint is not net_input else None
    return Graph(name=doc.name, file=doc.file, nodes=ordered, output=output, groups=expander.groups,
                 input_shape=doc.input_shape, batch=doc.batch, description=doc.description)
