"""Read a spec file safely and parse it with PyYAML's safe loader (archcalc.spec.yamlparse,
imported only when a text is parsed), keeping the source position of every mapping; a bundled
spec comes from the parsed-spec cache (archcalc.spec.speccache) when it holds that text.

Positions let every later error name the file, line and column it came from.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from ..errors import SpecError
from .nodes import MAX_DEPTH, MAX_EXPANDED_NODES, MAX_LITERAL_INT, PosDict, PosList  # noqa: F401  (re-exported)

MAX_FILE_BYTES = 1_000_000


_FILE_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode cannot be a spec, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a spec file"
    kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file; give a spec file"


def _read_bytes(path: str | os.PathLike, file: str) -> bytes:
    """At most MAX_FILE_BYTES + 1 bytes of a regular file. Special files are refused before they
    are opened (a FIFO's open blocks until a writer comes; /dev/zero never ends), and again after
    (O_NONBLOCK, fstat) in case the path changed in between. Files in /proc report size 0, so the
    read itself is bounded too."""
    try:
        why = _not_regular(os.stat(path).st_mode)
        if why:
            raise SpecError(why, file=file)
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        try:
            why = _not_regular(os.fstat(descriptor).st_mode)
            if why:
                raise SpecError(why, file=file)
            chunks, size = [], 0
            while size <= MAX_FILE_BYTES:
                chunk = os.read(descriptor, MAX_FILE_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(descriptor)
    except (FileNotFoundError, NotADirectoryError):
        raise SpecError("file not found", file=file) from None
    except OSError as exc:
        raise SpecError(f"cannot read file: {exc.strerror or exc}", file=file) from None
    except ValueError:  # an embedded NUL in the path
        raise SpecError("file not found", file=file) from None
    data = b"".join(chunks)
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(f"file is larger than {MAX_FILE_BYTES:,} bytes, the limit for a spec", file=file)
    return data


def read_text(path: str | os.PathLike) -> str:
    """Read a spec file, turning every way it can be unreadable into one clear SpecError."""
    file = str(path)
    data = _read_bytes(path, file)
    if b"\x00" in data:
        raise SpecError("is not a text file (it contains NUL bytes)", file=file)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"is not UTF-8 text (byte {exc.start})", file=file) from None
    if not text.strip():
        raise SpecError("file is empty", file=file)
    return text


def parse_yaml(text: str, file: str = "<spec>") -> Any:
    """Parse YAML text safely (no Python objects, no tags), with positions (a bundled spec's
    from the parsed-spec cache when it holds this text)."""
    from .speccache import cached_parse

    data = cached_parse(text, file, parse_yaml_value)
    if data is None:
        raise SpecError("spec is empty", file=file)
    if not isinstance(data, dict):
        raise SpecError(
            f"a spec must be a mapping with 'input' and 'layers', not a {type(data).__name__}",
            file=file,
            line=getattr(data, "line", 1),
        )
    return data


def parse_yaml_value(text: str, file: str = "<spec>") -> Any:
    """Any YAML value (a scalar, a list, a mapping, or None), parsed as safely and within the
    same bounds as a spec (a --set value)."""
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"spec text is longer than {MAX_FILE_BYTES:,} characters", file=file)
    from .yamlparse import load_value

    try:
        return load_value(text)
    except SpecError as exc:
        raise exc.located(file=file)
