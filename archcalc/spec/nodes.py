"""The loaded document's data (mappings and lists that remember their source position) and
the bounds on its shape, shared by every way of loading (archcalc.spec.yamlparse, .fastload, .speccache)."""

from __future__ import annotations

# Nesting beyond this is refused while parsing: libyaml's flow parser is quadratic in the depth
# of unclosed [ and { (20,000 levels take a second, 100,000 never finish), and its C composer
# overflows the stack (a segmentation fault). Real specs nest a few levels per group.
MAX_DEPTH = 100
# The document as if every alias were written out: a "billion laughs" file of a few hundred bytes
# expands to 2**30 nodes, and anything that walks it (expansion, messages) would never finish.
MAX_EXPANDED_NODES = 1_000_000
# YAML integers are sizes, counts and flags; this bound (the expression evaluator's) keeps a
# 4,000-digit literal from reaching arithmetic or formatting.
MAX_LITERAL_INT = 2**62


class PosDict(dict):
    """A mapping that remembers where it, and each of its keys, stood in the file."""

    line: int | None = None
    column: int | None = None
    key_positions: dict

    def position_of(self, key: str) -> tuple[int | None, int | None]:
        return getattr(self, "key_positions", {}).get(key, (self.line, self.column))


class PosList(list):
    line: int | None = None
    column: int | None = None
