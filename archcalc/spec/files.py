"""Spec files: where the bundled ones are, and reading one (or a cache entry) safely: regular
files only, never blocking on a special file, bounded in size, UTF-8 text; every way it can fail
is one SpecError."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import SpecError

_PACKAGE = Path(__file__).resolve().parent.parent


def architectures_dir() -> Path:
    """Installed wheels carry the specs inside the package; a source checkout has them beside it."""
    for candidate in (_PACKAGE / "architectures", _PACKAGE.parent / "architectures"):
        if candidate.is_dir():
            return candidate
    return _PACKAGE / "architectures"


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
