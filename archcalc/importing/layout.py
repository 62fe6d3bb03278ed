"""An imported net as spec data: the layers an importer found (``Entry``, flat, in the order they
run, each naming its producers) nested into groups that follow the module tree, so every layer's
full name is its module path (``layer1.0.conv1``); importing.nesting writes the groups, with
references by path where a module reads or hands out several tensors.

One exception keeps repeated modules foldable into blocks (whose bodies see only their input): a
functional op that alone makes its module read several outer tensors moves up to the enclosing
module, named ``MODULE_OP`` (DenseNet's layer concatenates every earlier feature map:
``denselayer2_cat`` in ``denseblock1``). Pure Python: no torch."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .nesting import Nesting, outer_reads

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


def name_single_op_modules(net: ImportedNet) -> None:
    """A module whose forward is one functional op (timm's ``Sigmoid`` calls ``x.sigmoid()``) is
    that op's layer, named by the module's path (``se.gate``, not ``se.gate.sigmoid``)."""
    count = Counter(e.scope for e in net.entries)
    parents = {e.scope[:d] for e in net.entries for d in range(len(e.scope))}
    for e in net.entries:
        if e.functional and count[e.scope] == 1 and e.scope in net.scope_classes and e.scope not in parents:
            e.scope, e.local, e.module = e.scope[:-1], e.scope[-1], True


def fit_scopes(net: ImportedNet) -> None:
    """Move functional ops up where only they make a module read several outer tensors (see
    above); a module call is never moved (its name is its module path). Deepest modules first; a
    module is looked at again once something moved out of it (what reads that now reads outside)."""
    entries = net.entries
    moved = True
    while moved:
        moved = False
        readers = outer_reads(entries)
        for scope in sorted(readers, key=len, reverse=True):
            reads = readers[scope]
            if len(set().union(*reads.values())) > 1 and all(entries[i].functional for i in reads):
                for i in reads:
                    lift(entries[i], len(scope))
                moved = True


def lift(entry: Entry, depth: int | None = None) -> None:
    """Move an entry out of the scope ``entry.scope[:depth]`` (its own by default) into the
    enclosing one, its name prefixed with the scopes it leaves (``denselayer2_cat``)."""
    depth = len(entry.scope) if depth is None else depth
    entry.local = "_".join((*entry.scope[depth - 1:], entry.local))
    entry.scope = entry.scope[:depth - 1]


def to_spec(net: ImportedNet) -> dict:
    """The spec data (what a YAML spec loads to) of an imported net, groups following modules."""
    name_single_op_modules(net)
    fit_scopes(net)
    while True:
        _unique_locals(net)
        tree = Nesting(net.entries, {i for i, _ in net.outputs})
        layers = tree.layers(())
        if not tree.unreachable:
            break
        for i in set(tree.unreachable):  # a name on the way hides the path: read from one scope up
            lift(net.entries[i])
    entries = net.entries
    data: dict[str, Any] = {"name": net.name}
    if net.description:
        data["description"] = net.description
    data["input"] = list(net.input_shape)
    data["layers"] = layers
    main, _ = net.outputs[0]
    extra = net.outputs[1:]
    if extra or tree.ref(main, (), []) != layers[-1]["name"]:
        data["outputs"] = [entries[main].name] + [
            entries[i].name if mode == "all" else {"name": entries[i].name, "mode": mode} for i, mode in extra]
    return data
