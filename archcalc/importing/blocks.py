"""Repeated modules written once: groups of the same module class with the same structure (layer
names, types, wiring) become one block, called with the values that differ between them as
arguments (a ResNet-50's 16 bottlenecks: one ``bottleneck`` block), and a run of calls with equal
arguments named 1, 2, 3, ... becomes one ``repeat``. Innermost groups fold first, so a block's
body may call blocks. A group that reads a layer outside it by name (not as its input) stays a
group: a block body sees only its input and arguments. Numbers, booleans and lists of them become arguments; a layer that differs
in anything else (a name, a type, a string) makes a different structure. Pure Python."""

from __future__ import annotations

import keyword
import re
from collections import defaultdict
from typing import Any

from .layout import ImportedNet

RESERVED = {"type", "name", "inputs", "repeat", "repeat_var", "when", "layers", "output", "trainable", "functional",
            "comment", "i", "input"}


class _Hole:
    """Where a block argument goes in a structure's template."""

    def __repr__(self) -> str:
        return "<arg>"


HOLE = _Hole()


def _argument_value(value: Any) -> bool:
    """Whether a layer's argument value can be a block argument: a number, a bool, a list of them."""
    if isinstance(value, (bool, int, float)) or value is None:
        return True
    return isinstance(value, list) and all(isinstance(v, (bool, int, float)) or v is None for v in value)


def _template(layers: list, values: list, paths: list, prefix: tuple = ()) -> list:
    """The layers with every argument value replaced by HOLE; the values and their (layer, key) paths in order."""
    shaped = []
    for item in layers:
        if "layers" in item:
            shaped.append({k: (_template(v, values, paths, prefix + (item["name"],)) if k == "layers" else v)
                           for k, v in item.items()})
            continue
        entry = {}
        for key, value in item.items():
            if key in RESERVED or not _argument_value(value):
                entry[key] = value
            else:
                entry[key] = HOLE
                values.append(value)
                paths.append((*prefix, item["name"], key))
        shaped.append(entry)
    return shaped


def _names_read_outside(layers: list) -> set[str]:
    """The first parts of the references in ``layers`` (nested groups included) that no name of
    theirs resolves: names of the lists around them."""
    names = {str(item.get("name")) for item in layers}
    outside = set()
    for item in layers:
        refs = item.get("inputs", [])
        for ref in refs if isinstance(refs, list) else [refs]:
            head = str(ref).split(".", 1)[0]
            if ref != "input" and head not in names:
                outside.add(head)
        if "layers" in item:
            outside |= _names_read_outside(item["layers"]) - names
    return outside


def _fill(template: list, names: list, position: list) -> list:
    filled = []
    for item in template:
        entry = {}
        for key, value in item.items():
            if key == "layers" and isinstance(value, list):
                entry[key] = _fill(value, names, position)
            elif value is HOLE:
                entry[key] = names[position[0]]
                position[0] += 1
            else:
                entry[key] = value
        filled.append(entry)
    return filled


def _identifier(text: str) -> str:
    name = re.sub(r"\W", "_", text)
    if not name or name[0].isdigit():
        name = "v" + name
    return name + "_" if keyword.iskeyword(name) or name in RESERVED else name


def _block_name(class_key: str, taken: set[str]) -> str:
    from ..layers import ALIASES, REGISTRY

    short = class_key.rpartition(".")[2]
    base = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", short).lower().strip("_")
    base = _identifier(base or "block")
    if base in REGISTRY or base in ALIASES or base == "sequential":
        base += "_block"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    return name


class _Folder:
    def __init__(self, data: dict, net: ImportedNet):
        self.data = data
        self.classes = net.scope_classes
        self.blocks: dict[str, dict] = {}
        self.taken: set[str] = set()

    def groups(self, layers: list, path: tuple, found: list) -> None:
        """Every group (with its path), innermost first."""
        for item in layers:
            if "layers" in item and "type" not in item:
                self.groups(item["layers"], path + (item["name"],), found)
                found.append((item, path + (item["name"],)))

    def fold(self) -> dict:
        found: list = []
        self.groups(self.data["layers"], (), found)
        by_depth = defaultdict(list)
        for item, path in found:
            by_depth[len(path)].append((item, path))
        for depth in sorted(by_depth, reverse=True):
            self._fold_level(by_depth[depth])
        self._repeats(self.data["layers"])
        for block in self.blocks.values():
            self._repeats(block["layers"])
        if not self.blocks:
            return self.data
        result = {}
        for key, value in self.data.items():
            if key == "layers":
                result["blocks"] = self.blocks
            result[key] = value
        return result

    def _fold_level(self, groups: list) -> None:
        """Groups of one depth: same class and same template -> one block when there are two or more."""
        kinds: dict[tuple, list] = defaultdict(list)
        for item, path in groups:
            if _names_read_outside(item["layers"]):
                continue
            values, paths = [], []
            template = _template(item["layers"], values, paths)
            key = (self.classes.get(path, ""), repr(template), item.get("output"))
            kinds[key].append((item, values, paths, template))
        for (class_key, _, output), members in kinds.items():
            if len(members) < 2:
                continue
            self._make_block(class_key, output, members)

    def _make_block(self, class_key: str, output, members: list) -> None:
        template, paths = members[0][3], members[0][2]
        columns = list(zip(*(values for _, values, _, _ in members))) if paths else []
        arguments: dict[str, str] = {}  # a column's values (repr) -> its argument's name
        names, constant = [], {}
        used = set()
        for index, column in enumerate(columns):
            if all(v == column[0] and type(v) is type(column[0]) for v in column):
                names.append(None)
                constant[index] = column[0]
                continue
            key = repr(column)
            if key not in arguments:
                layer, arg = paths[index][-2], paths[index][-1]
                name = _identifier(arg)
                if name in used:
                    name = _identifier(f"{arg}_{layer}")
                k = 2
                while name in used:
                    name, k = _identifier(f"{arg}_{layer}_{k}"), k + 1
                used.add(name)
                arguments[key] = name
            names.append(arguments[key])
        fill = [names[i] if names[i] is not None else constant[i] for i in range(len(columns))]
        block_name = _block_name(class_key, self.taken)
        self.taken.add(block_name)
        block: dict[str, Any] = {"args": {name: None for name in dict.fromkeys(n for n in names if n)}}
        if output is not None:
            block["output"] = output
        block["layers"] = _fill(template, fill, [0])
        self.blocks[block_name] = block
        for item, values, _, _ in members:
            call = {"name": item["name"], "type": block_name}
            if "inputs" in item:
                call["inputs"] = item["inputs"]
            for i, name in enumerate(names):
                if name is not None and name not in call:
                    call[name] = values[i]
            item.clear()
            item.update(call)

    def _repeats(self, layers: list) -> None:
        """Runs of calls of one block with equal arguments, named k, k+1, ... and chained: one repeat."""
        for item in layers:
            if "layers" in item:
                self._repeats(item["layers"])
        i = 0
        while i < len(layers):
            item = layers[i]
            if item.get("type") not in self.blocks or "inputs" in item or not str(item["name"]).isdigit():
                i += 1
                continue
            same = {k: v for k, v in item.items() if k != "name"}
            j = i + 1
            while j < len(layers) and {k: v for k, v in layers[j].items() if k != "name"} == same and \
                    str(layers[j]["name"]).isdigit() and int(layers[j]["name"]) == int(item["name"]) + (j - i):
                j += 1
            if j - i >= 2:
                start = int(item["name"])
                name = "{i}" if start == 0 else f"{{i + {start}}}"
                layers[i:j] = [{"name": name, "type": item["type"], "repeat": j - i,
                                **{k: v for k, v in same.items() if k != "type"}}]
            i += 1


def fold_blocks(data: dict, net: ImportedNet) -> dict:
    """The spec data with repeated module structures written once as blocks (see above)."""
    return _Folder(data, net).fold()
