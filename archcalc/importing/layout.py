"""An imported net as spec data: the layers an importer found (``Entry``, flat, in the order they
run, each naming its producers) nested into groups that follow the module tree, so every layer's
full name is its module path (``layer1.0.conv1``).

A spec group reads one input and gives one output, and a layer refers only to its siblings; a
module whose code reads several tensors from outside it (DenseNet's layer concatenates every
earlier feature map) or hands several out does not fit that. Such a module's functional calls
that cross its border move up to the enclosing module (named ``MODULE_OP``, e.g.
``denselayer2_cat``) until it fits; a module call that would have to move keeps its path but
with ``_`` for the last dots. Pure Python: no torch."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def compact(data: dict) -> dict:
    """Every layer's arguments equal to its type's default left out (blocks' bodies included), so
    the written spec says what differs from torch's defaults and nothing else."""
    def walk(layers):
        for item in layers:
            if "layers" in item:
                walk(item["layers"])
            elif item.get("type") not in blocks:
                kept = written_args(item["type"], {k: v for k, v in item.items() if k not in _ENTRY_KEYS})
                for key in [k for k in item if k not in _ENTRY_KEYS and k not in kept]:
                    del item[key]

    blocks = data.get("blocks", {})
    for block in blocks.values():
        walk(block["layers"])
    walk(data["layers"])
    return data


_ENTRY_KEYS = {"name", "type", "inputs", "functional", "repeat", "repeat_var", "when", "trainable", "comment", "output"}


def written_args(type_name: str, args: dict) -> dict:
    """A layer's arguments as written: those equal to the type's default left out."""
    from ..layers import lookup

    layer = lookup(type_name)
    defaults = {arg.name: arg.default for arg in layer.args} if layer is not None else {}
    return {k: v for k, v in args.items() if k not in defaults or not _same(defaults[k], v)}


def _same(default: Any, value: Any) -> bool:
    """Whether a written value is the default: equal and of the same kind (1 is 1.0, True is not
    1), or a list of that one value ([1, 1] for a stride of 1)."""
    if isinstance(value, list) and not isinstance(default, list):
        return bool(value) and all(_same(default, v) for v in value)
    if isinstance(default, bool) or isinstance(value, bool):
        return type(default) is type(value) and default == value
    if isinstance(default, (int, float)) and isinstance(value, (int, float)):
        return default == value
    return type(default) is type(value) and default == value


def safe_name(text: str) -> str:
    """A name the spec accepts: letters, digits, _ and - (not first); anything else becomes _."""
    name = _UNSAFE.sub("_", text) or "_"
    if name[0] == "-":
        name = "_" + name[1:]
    return "input_" if name == "input" else name


@dataclass
class Entry:
    """One layer of an imported net. ``inputs``: producers, as indices of earlier entries (None:
    the net's input). ``shape``: the traced output shape without the batch (None: not checked,
    a layer in the middle of one call's several). ``expect``: the module's (parameters, buffers)."""

    scope: tuple[str, ...]
    local: str
    type: str
    args: dict
    inputs: list
    functional: bool = False
    shape: tuple | None = None
    expect: tuple[int, int] | None = None
    origin: str = ""
    module: bool = False  # a module call (its name is a module path), not a functional op

    @property
    def name(self) -> str:
        return ".".join((*self.scope, self.local))


@dataclass
class ImportedNet:
    """What an importer found: the entries, the outputs (entry index, mode), the input shape,
    the class of each module scope (for blocks), and what it could not count (``--partial``)."""

    name: str
    input_shape: tuple[int, ...]
    entries: list[Entry]
    outputs: list[tuple[int, str]]
    scope_classes: dict[tuple[str, ...], str] = field(default_factory=dict)
    not_counted: list[str] = field(default_factory=list)
    description: str = ""


def _unique_locals(net: ImportedNet) -> None:
    """Names unique within each scope (module calls first, as they carry module paths), none
    equal to a child scope's name."""
    taken: dict[tuple, set[str]] = {}
    for e in net.entries:
        for depth in range(len(e.scope)):
            taken.setdefault(e.scope[:depth], set()).add(e.scope[depth])
    for e in sorted(net.entries, key=lambda e: not e.module):
        names = taken.setdefault(e.scope, set())
        base = e.local = safe_name(e.local)
        k = 1
        while e.local in names:
            e.local = f"{base}_{k}"
            k += 1
        names.add(e.local)


def fit_scopes(net: ImportedNet) -> None:
    """Move layers up until every module scope reads one tensor and hands out one (see above)."""
    entries = net.entries
    outputs = {i for i, _ in net.outputs}
    changed = True
    while changed:
        changed = False
        scopes = sorted({e.scope[:d] for e in entries for d in range(1, len(e.scope) + 1)}, key=len, reverse=True)
        for scope in scopes:
            n = len(scope)
            inside = {i for i, e in enumerate(entries) if e.scope[:n] == scope}
            if not inside:
                continue
            readers = {}  # member -> the outside producers it reads
            for i in inside:
                outer = {p for p in entries[i].inputs if p is None or p not in inside}
                if outer:
                    readers[i] = outer
            sources = set().union(*readers.values()) if readers else set()
            handed = {p for j, e in enumerate(entries) if j not in inside for p in e.inputs if p in inside}
            handed |= inside & outputs
            move = set()
            if len(sources) > 1:
                move |= set(readers)
            if len(handed) > 1:
                move |= handed
            for i in move:
                _lift(entries[i], n)
            changed = changed or bool(move)


def _lift(entry: Entry, depth: int) -> None:
    """Move an entry out of the scope ``entry.scope[:depth]`` into its parent."""
    inner = entry.scope[depth - 1:]
    entry.scope = entry.scope[:depth - 1]
    entry.local = "_".join((*inner, entry.local))


def to_spec(net: ImportedNet) -> dict:
    """The spec data (what a YAML spec loads to) of an imported net, groups following modules."""
    fit_scopes(net)
    _unique_locals(net)
    entries = net.entries
    tree = _Tree(entries, {i for i, _ in net.outputs})
    data: dict[str, Any] = {"name": net.name}
    if net.description:
        data["description"] = net.description
    data["input"] = list(net.input_shape)
    data["layers"] = tree.layers(())
    top = data["layers"]
    main, _ = net.outputs[0]
    main_ref = tree.ref(main, ())
    extra = net.outputs[1:]
    if extra or main_ref != top[-1]["name"]:
        data["outputs"] = [entries[main].name] + [
            entries[i].name if mode == "all" else {"name": entries[i].name, "mode": mode} for i, mode in extra]
    return data


class _Tree:
    """The scopes of the entries, written out as nested layer lists."""

    def __init__(self, entries: list[Entry], outputs: set[int]):
        self.entries = entries
        self.outputs = outputs
        self.items: dict[tuple, list] = {}  # scope -> its items in order: ('entry', i) or ('scope', child)
        first: dict[tuple, int] = {}
        for i, e in enumerate(entries):
            for d in range(len(e.scope) + 1):
                first.setdefault(e.scope[:d], i)
        for scope, i in sorted(first.items(), key=lambda kv: kv[1]):
            if scope:
                self.items.setdefault(scope[:-1], []).append(("scope", scope))
        for i, e in enumerate(entries):
            self.items.setdefault(e.scope, []).append(("entry", i))
        for scope, items in self.items.items():
            items.sort(key=lambda item: item[1] if item[0] == "entry" else first[item[1]])
        self.members = {scope: set() for scope in self.items}
        for i, e in enumerate(entries):
            for d in range(len(e.scope) + 1):
                self.members.setdefault(e.scope[:d], set()).add(i)

    def ref(self, producer, scope: tuple) -> str:
        """How a layer in ``scope`` names ``producer``: 'input', a sibling, or the child group holding it."""
        if producer is None or producer not in self.members[scope]:
            return "input"
        e = self.entries[producer]
        if e.scope == scope:
            return e.local
        return e.scope[len(scope)]

    def _item_ref(self, item) -> str:
        kind, value = item
        return self.entries[value].local if kind == "entry" else value[-1]

    def _outside_output(self, scope: tuple):
        """The member of ``scope`` read from outside it, or a net output (None: its last item)."""
        inside = self.members[scope]
        if inside & self.outputs:
            return min(inside & self.outputs)
        for j, e in enumerate(self.entries):
            if j not in inside:
                for p in e.inputs:
                    if p in inside:
                        return p
        return None

    def layers(self, scope: tuple, output=None) -> list[dict]:
        result = []
        previous = "input"
        for item in self.items.get(scope, []):
            kind, value = item
            if kind == "entry":
                e = self.entries[value]
                layer = {"name": e.local, "type": e.type, **e.args}
                refs = [self.ref(p, scope) for p in e.inputs]
                if refs != [previous]:
                    layer["inputs"] = refs if len(refs) > 1 else refs[0]
                if e.functional:
                    layer["functional"] = True
                result.append(layer)
            else:
                group: dict[str, Any] = {"name": value[-1]}
                sources = {p for i in self.members[value] for p in self.entries[i].inputs
                           if p is None or p not in self.members[value]}
                refs = [self.ref(p, scope) for p in sources]
                if refs and refs != [previous]:
                    group["inputs"] = refs[0]
                group["layers"] = self.layers(value)
                produced = self._outside_output(value)
                if produced is not None:
                    inner = self.ref(produced, value)
                    if group["layers"][-1]["name"] != inner:
                        group["output"] = inner
                result.append(group)
            previous = self._item_ref(item)
        return result
