"""Errors that reach the user as one clear line (and exit status 2), never a traceback."""

from __future__ import annotations

import difflib
from itertools import islice
from typing import Any, Iterable, Iterator

# How much of a user's value a message quotes: enough to recognise it, never the whole of a
# 1 MB string or of a YAML alias bomb (whose repr would take forever).
QUOTE_LIMIT = 60
# Locations (file names, layer paths) are quoted longer: they are what the user looks for.
LOCATION_LIMIT = 200
# Near-miss suggestions compare at most this many candidates, each cut to SUGGESTION_CHARACTERS:
# difflib is pure Python and quadratic in the lengths (100,000 similar 195-character layer names
# took minutes to suggest one).
SUGGESTION_CANDIDATES = 500
SUGGESTION_CHARACTERS = 40


def clip(text: str, limit: int = QUOTE_LIMIT, *, keep_end: bool = False) -> str:
    """``text`` cut to ``limit`` characters with '...' where it was cut (at the start with
    ``keep_end``: a deep layer path keeps its most specific part)."""
    text = str(text) if not isinstance(text, str) else text
    if len(text) <= limit:
        return text
    return "..." + text[len(text) - limit:] if keep_end else text[:limit] + "..."


def near_miss(word: str, candidates: Iterable[Any], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """difflib's close matches to ``word`` in bounded work (see SUGGESTION_CANDIDATES)."""
    pool: dict[str, str] = {}  # the candidate as compared -> as given (quote it with clip)
    for candidate in islice(candidates, SUGGESTION_CANDIDATES):
        pool.setdefault(str(candidate)[:SUGGESTION_CHARACTERS], str(candidate))
    return [pool[match] for match in difflib.get_close_matches(str(word)[:SUGGESTION_CHARACTERS], pool, n=n, cutoff=cutoff)]


def one_line(text: str) -> str:
    """Line breaks and other unprintable characters escaped as repr shows them (a name holding a
    carriage return must not split the one-line message)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class _Token(str):
    """Punctuation in a bounded rendering, as opposed to a string value to be repr'd."""


_END = object()


def _tokens(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        yield _Token("{")
        for index, (key, item) in enumerate(value.items()):
            yield _Token(", " if index else "")
            yield key
            yield _Token(": ")
            yield item
        yield _Token("}")
    else:
        opening, closing = ("(", ")") if isinstance(value, tuple) else ("[", "]")
        yield _Token(opening)
        for index, item in enumerate(value):
            yield _Token(", " if index else "")
            yield item
        yield _Token(closing)


def _scalar_text(value: Any, limit: int) -> str:
    if isinstance(value, str):
        return repr(value[: limit + 1])
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<an integer of {value.bit_length():,} bits>"
    if isinstance(value, (bytes, bytearray)):
        return repr(bytes(value[: limit + 1]))
    if isinstance(value, (set, frozenset)):
        return f"<a set of {len(value):,} items>"
    return repr(value)


def brief(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """A repr of a user's value, at most ``limit`` characters (then '...'), produced lazily so
    that a huge or self-referencing structure costs no more than the characters shown."""
    parts: list[str] = []
    length = 0
    stack: list[Iterator[Any]] = [iter((value,))]
    while stack and length <= limit:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
            continue
        if isinstance(item, _Token):
            text = str(item)
        elif isinstance(item, (list, tuple, dict)):
            stack.append(_tokens(item))
            continue
        else:
            text = _scalar_text(item, limit)
        parts.append(text)
        length += len(text)
    return clip("".join(parts), limit)



class ArchcalcError(Exception):
    """Base class for every mistake in user input."""

    exit_code = 2
    # The spec key (a layer's argument) the mistake is in, when known: it locates the line.
    argument: str | None = None

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        layer: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.layer = layer

    def located(self, *, file=None, line=None, column=None, layer=None) -> "ArchcalcError":
        """Fill in location fields that are still unknown; returns self for chaining."""
        if self.file is None and file is not None:
            self.file = file
        if self.line is None and line is not None:
            self.line = line
            if self.column is None:
                self.column = column
        if self.layer is None and layer is not None:
            self.layer = layer
        return self

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = clip(self.file, LOCATION_LIMIT)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        layer = f"layer '{clip(self.layer, LOCATION_LIMIT, keep_end=True)}': " if self.layer else ""
        return one_line(f"{where}{layer}{self.message}")


class SpecError(ArchcalcError):
    """The spec file is malformed or describes an impossible net."""


class ShapeError(SpecError):
    """Shapes do not fit: empty outputs, joins of different shapes."""


class UsageError(ArchcalcError):
    """A command-line argument is nonsense."""
