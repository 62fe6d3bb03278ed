"""A per-user cache of parsed bundled specs, so that `archcalc params resnet152` neither imports
PyYAML nor parses the family file (~15 ms of a ~150 ms run).

An entry is plain JSON of the loader's output (PosDict/PosList with every source position, and
which collections an alias shares), named by a checksum of the spec's text and holding the text
itself and the loader that made it: an entry is used only when its text equals the file's and
its loader is this one, so a stale, mismatched or colliding entry is never used. Reading an entry trusts nothing: a malformed, oversized or
unreadable one (or one that breaks the loader's bounds on depth, expanded size or integer size)
counts as missing, and the spec is parsed as without a cache and the entry written again. The
decoded document then goes through the same validation as a parsed one. Entries are written to
a temporary file and renamed into place, so concurrent writers leave one whole entry; when the
directory cannot be written, specs are simply parsed. Only bundled specs are cached (their number
is fixed); $XDG_CACHE_HOME/archcalc (else ~/.cache/archcalc) holds them, and
ARCHCALC_NO_CACHE=1 turns the cache off.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any, Callable

from ..errors import ArchcalcError
from .files import MAX_FILE_BYTES, _read_bytes, architectures_dir
from .nodes import MAX_DEPTH, MAX_EXPANDED_NODES, MAX_LITERAL_INT, PosDict, PosList

# Bump when the entries' layout changes. Entries also name the loader they came from (the sizes
# and times of archcalc's __init__, which holds its version, and of the loader's files), so an
# upgraded or edited loader ignores them.
CACHE_FORMAT = 1
_LOADER_FILES = ("../__init__.py", "files.py", "loader.py", "yamlparse.py", "fastload.py", "nodes.py", "speccache.py")
_SCALARS = (str, int, float, bool, type(None))


class _Unusable(Exception):
    """An entry (or a document) that the cache does not hold."""


def cache_dir() -> Path | None:
    """Where entries live, or None when the cache is off or there is no home to put it in."""
    if os.environ.get("ARCHCALC_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):  # the XDG spec: a relative value is ignored
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "archcalc" / f"specs-{CACHE_FORMAT}"


def loader_fingerprint() -> str | None:
    """What an entry must have been made by (None: the loader's files cannot be found, no cache)."""
    global _fingerprint
    if _fingerprint is None:
        here = Path(__file__).parent
        try:
            stamps = [os.stat(here / name) for name in _LOADER_FILES]
        except OSError:
            return None
        _fingerprint = f"{CACHE_FORMAT}:" + ",".join(f"{s.st_mtime_ns}-{s.st_size}" for s in stamps)
    return _fingerprint


_fingerprint: str | None = None


def is_bundled(file: str) -> bool:
    """Whether ``file`` is one of the bundled specs (architectures/, any depth)."""
    if "architectures" not in file:
        return False
    try:
        return Path(file).resolve().is_relative_to(architectures_dir().resolve())
    except (OSError, ValueError, RuntimeError):
        return False


def cached_parse(text: str, file: str, parse: Callable[[str, str], Any]) -> Any:
    """``parse(text, file)``, from the cache for a bundled spec whose entry holds this text."""
    directory = cache_dir() if is_bundled(file) else None
    if directory is None or loader_fingerprint() is None:
        return parse(text, file)
    entry = directory / f"{zlib.crc32(text.encode('utf-8', 'surrogatepass')):08x}-{len(text)}.json"
    try:
        return read_entry(entry, text)
    except _Unusable:
        pass
    data = parse(text, file)
    if type(data) is PosDict:  # a spec; anything else is refused by the caller
        write_entry(entry, text, data)
    return data


def read_entry(entry: Path, text: str) -> PosDict:
    """The document an entry holds for ``text``; _Unusable when it is missing or not trusted."""
    import json

    try:
        raw = _read_bytes(entry, str(entry))  # regular files only, bounded, never blocks
        if len(raw) > MAX_FILE_BYTES:
            raise _Unusable("too large")
        stored = json.loads(raw)
    except (ArchcalcError, ValueError, RecursionError) as exc:
        raise _Unusable(str(exc)) from None
    if not (isinstance(stored, list) and len(stored) == 3 and stored[0] == loader_fingerprint() and stored[1] == text):
        raise _Unusable("another format or another text")
    document = _Decoder().value(stored[2], 0)[0]
    if type(document) is not PosDict:
        raise _Unusable("not a mapping")
    return document


def write_entry(entry: Path, text: str, data: Any) -> None:
    """Store ``data`` for ``text``, atomically; a document the cache cannot hold, or a directory
    that cannot be written, leaves the cache as it was."""
    import json

    try:
        encoded = json.dumps([loader_fingerprint(), text, _Encoder().value(data)], separators=(",", ":"))
    except (_Unusable, ValueError, RecursionError):
        return
    if len(encoded) > MAX_FILE_BYTES:
        return
    temporary = entry.with_name(f".{entry.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(encoded)
            os.replace(temporary, entry)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError:
        pass


class _Encoder:
    """The loader's output as JSON lists: ["m", line, column, key, key line, key column, value,
    ...] for a PosDict, ["s", line, column, item, ...] for a PosList, ["r", n] for the n-th
    collection again (an alias), scalars as themselves."""

    def __init__(self) -> None:
        self.seen: dict[int, int] = {}

    def value(self, value: Any) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return value
        if id(value) in self.seen:
            return ["r", self.seen[id(value)]]
        if kind is PosDict:
            self.seen[id(value)] = len(self.seen)
            out = ["m", *_checked(value.line, value.column)]
            positions = getattr(value, "key_positions", {})
            for key, item in value.items():
                if type(key) is not str or key not in positions:
                    raise _Unusable("a key that is not a string, or without its position")
                out += [key, *_checked(*positions[key]), self.value(item)]
            return out
        if kind is PosList:
            self.seen[id(value)] = len(self.seen)
            return ["s", *_checked(value.line, value.column), *(self.value(item) for item in value)]
        raise _Unusable(f"a {kind.__name__}")


class _Decoder:
    """_Encoder's lists back into PosDict/PosList, refusing anything the loader could not have
    produced: other shapes or types, a repeated key, a reference to a collection not yet whole,
    nesting past MAX_DEPTH, an expanded size past MAX_EXPANDED_NODES, integers past
    MAX_LITERAL_INT."""

    def __init__(self) -> None:
        self.collections: list[tuple[Any, int] | None] = []  # n -> (collection, expanded size)

    def value(self, node: Any, depth: int) -> tuple[Any, int]:
        kind = type(node)
        if kind is list:
            return self.collection(node, depth + 1)
        if kind is int and abs(node) > MAX_LITERAL_INT:
            raise _Unusable("an integer out of bounds")
        if kind not in _SCALARS:
            raise _Unusable(f"a {kind.__name__}")
        return node, 1

    def collection(self, node: list, depth: int) -> tuple[Any, int]:
        if depth > MAX_DEPTH:
            raise _Unusable("nested too deeply")
        tag = node[0] if node else None
        if tag == "r":
            if len(node) != 2 or type(node[1]) is not int or not 0 <= node[1] < len(self.collections):
                raise _Unusable("a bad reference")
            shared = self.collections[node[1]]
            if shared is None:
                raise _Unusable("a reference to a collection it is part of")
            return shared
        if tag not in ("m", "s") or len(node) < 3 or not (_position(node[1]) and _position(node[2])):
            raise _Unusable("a bad collection")
        index = len(self.collections)
        self.collections.append(None)
        result, size = (self.mapping if tag == "m" else self.sequence)(node, depth)
        result.line, result.column = node[1], node[2]
        if size > MAX_EXPANDED_NODES:
            raise _Unusable("expands too far")
        self.collections[index] = (result, size)
        return result, size

    def mapping(self, node: list, depth: int) -> tuple[PosDict, int]:
        if (len(node) - 3) % 4:
            raise _Unusable("a bad mapping")
        result = PosDict()
        result.key_positions = positions = {}
        size = 1
        for at in range(3, len(node), 4):
            key, line, column, value = node[at:at + 4]
            if type(key) is not str or key in result or not (_position(line) and _position(column)):
                raise _Unusable("a bad key")
            result[key], child = self.value(value, depth)
            positions[key] = (line, column)
            size += 1 + child
        return result, size

    def sequence(self, node: list, depth: int) -> tuple[PosList, int]:
        result = PosList()
        size = 1
        for item in node[3:]:
            value, child = self.value(item, depth)
            result.append(value)
            size += child
        return result, size


def _checked(line: Any, column: Any) -> tuple[int, int]:
    if not (_position(line) and _position(column)):
        raise _Unusable("a collection without its position")
    return line, column


def _position(number: Any) -> bool:
    return type(number) is int and 0 < number <= MAX_FILE_BYTES + 1
