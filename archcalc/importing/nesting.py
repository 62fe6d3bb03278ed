"""An imported net's entries (importing.layout.Entry) written as nested layer lists, one group per
module scope, every layer under its module path. A group reads one tensor (its ``input``) and stands for one (its
``output``); whatever else crosses its border is a reference by path, as the spec format allows:
a layer inside reads an outer layer by its name in an enclosing list (LR-ASPP's head reads
``backbone.4`` besides its input), and a layer outside reads one inside by a dotted path
(DeepLabV3's ASPP concatenates ``convs.0`` to ``convs.4``). Pure Python: no torch."""

from __future__ import annotations

from typing import Any


Scope = tuple  # a module path as a tuple of names; () is the net itself


class Nesting:
    """The scopes of the entries: what each holds, reads as its input and stands for."""

    def __init__(self, entries: list, outputs: set[int]):
        self.entries = entries
        self.items: dict[Scope, list] = {}  # scope -> its items in order: ('entry', i) or ('scope', child)
        self.members: dict[Scope, set[int]] = {}  # scope -> every entry under it
        first: dict[Scope, int] = {}
        for i, e in enumerate(entries):
            for d in range(len(e.scope) + 1):
                first.setdefault(e.scope[:d], i)
                self.members.setdefault(e.scope[:d], set()).add(i)
        for scope, i in sorted(first.items(), key=lambda kv: kv[1]):
            if scope:
                self.items.setdefault(scope[:-1], []).append(("scope", scope))
        for i, e in enumerate(entries):
            self.items.setdefault(e.scope, []).append(("entry", i))
        for items in self.items.values():
            items.sort(key=lambda item: item[1] if item[0] == "entry" else first[item[1]])
        self.names = {scope: {self._local(item) for item in items} for scope, items in self.items.items()}
        self.source = {scope: self._source(reads) for scope, reads in outer_reads(entries).items()}
        self.handed = self._handed(outputs)
        self.out: dict[Scope, int] = {}
        for scope in sorted(self.items, key=len, reverse=True):
            self.out[scope] = self._output(scope)
        self.unreachable: list[int] = []  # entries whose reference no path can write (see ref)

    def _local(self, item) -> str:
        kind, value = item
        return self.entries[value].local if kind == "entry" else value[-1]

    def _stands_for(self, item) -> int:
        kind, value = item
        return value if kind == "entry" else self.out[value]

    def _source(self, reads: dict[int, set]):
        """The outer tensor a group reads as its input (``reads``: its members reading outside
        it, and what): the net's input if it reads that (no path reaches it from inside a group),
        else the first one read."""
        first = [p for i in sorted(reads) for p in self.entries[i].inputs if p in reads[i]]
        return None if None in first else first[0]

    def _handed(self, outputs: set[int]) -> dict[Scope, set[int]]:
        """For every scope, its members read outside it or net outputs (one pass over the inputs)."""
        handed: dict[Scope, set[int]] = {}
        for j, e in enumerate(self.entries):
            for p in e.inputs:
                if p is not None:
                    inner = self.entries[p].scope
                    for d in range(common_prefix(inner, e.scope) + 1, len(inner) + 1):
                        handed.setdefault(inner[:d], set()).add(p)
        for p in outputs:
            inner = self.entries[p].scope
            for d in range(1, len(inner) + 1):
                handed.setdefault(inner[:d], set()).add(p)
        return handed

    def _output(self, scope: Scope) -> int:
        """The member the group stands for: of those read outside it (or net outputs) and
        nameable as its output (its own layer, or a child group's output), the last; else its
        last item's. Every other member read outside is read by path."""
        nameable = {self._stands_for(item) for item in self.items[scope]}
        candidates = self.handed.get(scope, set()) & nameable
        return max(candidates) if candidates else self._stands_for(self.items[scope][-1])

    # -- references ----------------------------------------------------------------------------
    def ref(self, producer, scope: Scope, readers) -> str:
        """How a layer in ``scope`` names ``producer``: 'input', a sibling, a path into a child
        group, or a path from an enclosing list (the first one no list on the way hides).
        ``readers``: the entries reading it, recorded as unreachable when no path works."""
        if producer is not None and producer in self.members[scope]:
            return self._path_within(producer, scope)
        if not scope or (scope in self.source and self.source[scope] == producer):
            return "input"
        for depth in range(len(scope) - 1, -1, -1):
            above = scope[:depth]
            if producer is None or producer not in self.members[above]:
                continue
            path = self._path_within(producer, above)
            head = path.split(".", 1)[0]
            if not any(head in self.names.get(scope[:d], ()) for d in range(depth + 1, len(scope) + 1)):
                return path
        self.unreachable.extend(readers)
        return "input"

    def _path_within(self, producer: int, scope: Scope) -> str:
        """The producer's name seen from ``scope``, which holds it: its local name, or the shortest
        path into the child group holding it (a group's name stands for its output, but one that
        hands out several is named by the path into it: ``convs.4``, not ``convs``)."""
        e = self.entries[producer]
        rest = e.scope[len(scope):]
        for k in range(1, len(rest) + 1):
            child = scope + rest[:k]
            if self.out[child] == producer and len(self.handed.get(child, ())) < 2:
                return ".".join(rest[:k])
        return ".".join((*rest, e.local))

    # -- writing -------------------------------------------------------------------------------
    def layers(self, scope: Scope) -> list[dict]:
        """The scope's items as spec layers: entries, and child groups with their layers."""
        result = []
        previous = "input"
        for item in self.items.get(scope, []):
            kind, value = item
            if kind == "entry":
                e = self.entries[value]
                layer = {"name": e.local, "type": e.type, **e.args}
                refs = [self.ref(p, scope, [value]) for p in e.inputs]
                if refs != [previous]:
                    layer["inputs"] = refs if len(refs) > 1 else refs[0]
                if e.functional:
                    layer["functional"] = True
                result.append(layer)
            else:
                group: dict[str, Any] = {"name": value[-1]}
                if value in self.source:
                    source = self.source[value]
                    readers = [i for i in self.members[value] if source in self.entries[i].inputs]
                    ref = self.ref(source, scope, readers)
                    if ref != previous:
                        group["inputs"] = ref
                group["layers"] = self.layers(value)
                last = self.items[value][-1]
                if self._stands_for(last) != self.out[value]:
                    group["output"] = next(self._local(it) for it in self.items[value]
                                           if self._stands_for(it) == self.out[value])
                result.append(group)
            previous = self._local(item)
        return result


def outer_reads(entries: list) -> dict[tuple, dict[int, set]]:
    """For every module scope, its members that read tensors from outside it, and those tensors
    (None: the net's input), in one pass over the entries' inputs (O(layers x depth))."""
    found: dict[tuple, dict[int, set]] = {}
    for i, e in enumerate(entries):
        for p in e.inputs:
            common = 0 if p is None else common_prefix(e.scope, entries[p].scope)
            for d in range(common + 1, len(e.scope) + 1):
                found.setdefault(e.scope[:d], {}).setdefault(i, set()).add(p)
    return found


def common_prefix(a: tuple, b: tuple) -> int:
    """The length of the longest common prefix of two scopes."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
