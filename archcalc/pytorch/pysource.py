"""Safe pieces of generated Python source: identifiers that are always valid and never collide
(keywords, builtins, nn.Module attributes, the file's own names), docstring text that cannot
close its quotes, and attribute paths to submodules. Names in a spec are untrusted: nothing of
a name may ever become code."""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

# what a generated name must never be: Python's own names and the exported file's
RESERVED = {*keyword.kwlist, *keyword.softkwlist, *dir(builtins), "self", "torch", "nn", "build", "Group",
            "Module", "_attach", "_put", "x"}


def module_attributes() -> set[str]:
    """Names nn.Module itself uses: a layer so named is reached through _modules, never as an
    attribute (``self.train`` is the method, ``self.training`` the flag)."""
    from torch import nn

    return set(dir(nn.Module)) | set(vars(nn.Module())) | {"training"}


def identifier(text: str, used: set[str], prefix: str) -> str:
    """A valid, unused identifier made from ``text`` (``prefix`` in front where it would be
    reserved, a dunder or start with a digit); recorded in ``used``."""
    base = re.sub(r"\W", "_", text, flags=re.ASCII) or prefix
    if base[0].isdigit() or base in RESERVED or base.startswith("__"):
        base = f"{prefix}_{base}"
    name, k = base, 2
    while name in used or name in RESERVED:
        name, k = f"{base}_{k}", k + 1
    used.add(name)
    return name


def class_name(text: str, used: set[str]) -> str:
    """CamelCase from a net's name ('tiny-resnet' -> 'TinyResnet'), never a reserved or used name."""
    words = re.split(r"[^0-9A-Za-z]+", text)
    base = "".join(w[:1].upper() + w[1:] for w in words if w) or "Net"
    if base[0].isdigit():
        base = "Net" + base
    if base in RESERVED or base in used or base.startswith("__"):
        base += "Net"
    return identifier(base, used, "Net")


def doc_text(text: str) -> str:
    """Text for inside a triple-quoted docstring: one line, backslashes and quotes escaped,
    control and format characters written as escapes (no NUL, no terminal sequence reaches the
    file raw)."""
    out = []
    for char in " ".join(str(text).split()):
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return "".join(out)


def module_path(path: str, clashes: set[str]) -> str:
    """The expression reaching the submodule at dotted ``path`` from ``self``: attributes where
    the name is a plain identifier (readable, TorchScript-able), ``getattr(..., '0')`` for other
    names, ``._modules[...]`` for names nn.Module uses itself."""
    expr = "self"
    for part in path.split("."):
        if part in clashes:
            expr = f"{expr}._modules[{part!r}]"
        elif part.isidentifier() and not keyword.iskeyword(part) and not part.startswith("_"):
            expr = f"{expr}.{part}"
        else:
            expr = f"getattr({expr}, {part!r})"
    return expr
