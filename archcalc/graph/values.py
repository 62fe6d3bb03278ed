"""Argument values and names inside the expansion: expressions evaluated in a scope, name
templates filled in, and the work budget that keeps a small file from describing endless work.

A spec can multiply work without multiplying layers: a block with thousands of argument defaults
instantiated thousands of times, an alias of a long ``inputs`` list on a repeated entry, a name
template evaluated per copy. The layer count (MAX_NODES) does not see that; the budget does, in
units of one argument, reference or name (plus one per ten characters of expression evaluated).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..errors import SpecError, brief, clip
from ..spec.expr import evaluate
from ..spec.loader import PosDict

# An ordinary 100,000-layer spec spends a few units per layer; a second or two of work at most.
MAX_WORK = 2_000_000
# Names are words in a dotted path, not text: a long template would be rescanned per copy.
MAX_NAME_LENGTH = 200
_TEMPLATE = re.compile(r"\{([^{}]+)\}")
# letters, digits, _ and - (torchvision names blocks "block1-0"), not starting with -
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def locate(exc: SpecError, file: str, where: Any, key: str | None, layer: str | None) -> SpecError:
    """``exc`` located at ``key`` of the mapping ``where`` (or at ``where`` itself)."""
    if isinstance(where, PosDict) and key is not None:
        line, column = where.position_of(key)
    else:
        line, column = getattr(where, "line", None), getattr(where, "column", None)
    return exc.located(file=file, line=line, column=column, layer=layer)


class Values:
    """Evaluates the values of one spec's expansion and counts the work they take."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.work = 0

    def charge(self, units: int, where: Any = None, layer: str | None = None, key: str | None = None) -> None:
        self.work += units
        if self.work > MAX_WORK:
            raise locate(SpecError(
                f"the spec takes too much work to expand (over {MAX_WORK:,} arguments, references and "
                "names evaluated; check repeats, block arguments and YAML aliases)"), self.file, where, key, layer)

    def value(self, raw: Any, env: Mapping, options: tuple = (), where=None, layer=None, key=None) -> Any:
        """Evaluate an argument: strings are expressions unless they are one of the options."""
        self.charge(1 + (len(raw) // 10 if isinstance(raw, str) else 0), where, layer, key)
        try:
            if isinstance(raw, str):
                return raw if raw in options else evaluate(raw, env)
            if isinstance(raw, list):
                result = []
                for item in raw:
                    if isinstance(item, (list, dict)):
                        raise SpecError("nested lists are not allowed in arguments")
                    result.append(self.value(item, env, options, where, layer, key))
                return result
            if isinstance(raw, dict):
                raise SpecError("a mapping is not a valid argument value")
            return raw
        except SpecError as exc:
            if key and not exc.message.startswith("argument"):
                exc.message = f"argument '{clip(key)}': {exc.message}"
            raise locate(exc, self.file, where, key, layer)

    def template(self, text: Any, env: Mapping, where, layer, key, dotted: bool = False) -> str:
        """A name with its ``{expr}`` parts filled in: letters, digits, _ and - (not first) only
        (``dotted``: a reference, names joined by dots, as ``backbone.layer3``). Only the braces
        are expressions: in ``block1-{i}`` the - is part of the name."""
        if not isinstance(text, (str, int)) or isinstance(text, bool):
            raise locate(SpecError(f"'{clip(key)}' must be a name, got {brief(text)}"), self.file, where, key, layer)
        text = str(text)
        if len(text) > MAX_NAME_LENGTH:
            raise locate(SpecError(f"name '{clip(text)}' is longer than {MAX_NAME_LENGTH} characters"),
                         self.file, where, key, layer)
        self.charge(1, where, layer, key)
        result = text
        if "{" in text:
            result = _TEMPLATE.sub(lambda match: str(self.value(match.group(1), env, where=where, layer=layer, key=key)), text)
        parts = result.split(".") if dotted else [result]
        if not result or len(result) > MAX_NAME_LENGTH or not all(_NAME.fullmatch(part) for part in parts):
            what = "a reference's names" if dotted else "layer name"
            raise locate(SpecError(f"{what} '{clip(result)}' may only hold letters, digits, _ and - (not first)"
                                   f"{'' if len(result) <= MAX_NAME_LENGTH else f' (at most {MAX_NAME_LENGTH})'}"),
                         self.file, where, key, layer)
        return result
