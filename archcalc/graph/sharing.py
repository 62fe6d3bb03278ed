"""Weight sharing: a layer that reuses another layer's module (``shares: conv1``), as a Siamese
net runs one trunk on two images. The sharing layer takes the other's type, arguments and
``trainable``; any type or argument it states must agree. Chains (c shares b, b shares a) lead to
the first layer that owns the module; a cycle, a group or a layer left out by ``when`` is refused.
The analysis counts the parameters once (at the owner) and the MACs per use, and checks that the
sharing layer's input gives the same parameter shapes (analysis.walk)."""

from __future__ import annotations

from ..errors import SpecError, brief, clip
from ..layers import lookup
from ..spec.nodes import PosDict
from .model import Node


def resolve_sharing(nodes: list[Node], file: str) -> None:
    """Point every sharing node at the node owning its module, with that node's type and arguments."""
    for node in nodes:
        if node.sharing is not None:
            _resolve(node, file, [])


def _resolve(node: Node, file: str, chain: list[Node]) -> Node:
    """The owner of ``node``'s module (``node`` itself when it shares nothing)."""
    if node.sharing is None:
        return node.shares or node
    ref, stated_type, stated, entry = node.sharing
    if node in chain:
        names = " -> ".join(n.name for n in chain[chain.index(node):] + [node])
        raise _error(f"layers share each other's module in a cycle ({clip(names, 200)})", entry, file, node, "shares")
    target = ref.target
    if ref.error is not None:
        raise ref.error
    if target is None or target.node is None or getattr(target.node.layer, "net_input", False):
        reason = ("a net input" if target is not None and (target.is_input or target.node is not None)
                  else "a group of layers or a layer 'when' left out")
        raise _error(f"'shares' must name a layer, and '{clip(ref_name(ref, entry))}' is {reason}", entry, file, node, "shares")
    owner = _resolve(target.node, file, chain + [node])
    if owner is node:
        raise _error("a layer cannot share its own module", entry, file, node, "shares")
    layer = lookup(stated_type) if stated_type is not None else owner.layer
    if layer is None or layer is not owner.layer:
        raise _error(f"'{clip(node.name)}' is a {clip(str(stated_type))} but shares the module of "
                     f"'{clip(owner.name)}', a {owner.layer.name}", entry, file, node, "type")
    _check_arguments(node, owner, stated, entry, file)
    node.layer, node.args, node.trainable = owner.layer, dict(owner.args), owner.trainable
    node.shares, node.sharing = owner, None
    return owner


def ref_name(ref, entry) -> str:
    return str(entry.get("shares", "?")) if isinstance(entry, dict) else "?"


def _check_arguments(node: Node, owner: Node, stated: dict, entry, file: str) -> None:
    """Arguments the sharing layer states must be the owner's (a module has one set)."""
    if not stated:
        return
    try:
        merged = owner.layer.validate({**_spelled(owner, stated), **stated})
    except SpecError as exc:
        raise exc.located(file=file, line=getattr(entry, "line", None), layer=node.name)
    for key, value in merged.items():
        if value != owner.args.get(key):
            raise _error(f"shares the module of '{clip(owner.name)}' but sets {key} {brief(value)} "
                         f"({clip(owner.name)} has {brief(owner.args.get(key))})", entry, file, node, key)


def _spelled(owner: Node, stated: dict) -> dict:
    """The owner's arguments, leaving out those the sharing layer states (under any alias)."""
    known = owner.layer.arg_names()
    given = {known[key].name for key in stated if key in known}
    return {key: value for key, value in owner.args.items() if key not in given}


def _error(message: str, entry, file: str, node: Node, key: str) -> SpecError:
    line, column = entry.position_of(key) if isinstance(entry, PosDict) else (node.line, node.column)
    return SpecError(message, file=file, line=line, column=column, layer=node.name)
