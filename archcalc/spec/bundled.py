"""Bundled specs by name: `archcalc params resnet50` or `bottleneck` works from any directory.
An existing file always wins. A spec with ``variants`` (a family, such as resnet.yaml) is listed
by its variants' names, each a NetPath: the family's file, carrying the variant's name.
``FILE:VARIANT`` names a variant of any spec file."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from ..errors import SpecError, clip, near_miss
from .files import architectures_dir  # noqa: F401  (re-exported)



def natural_key(name: str) -> list:
    """'resnet18' < 'resnet50' < 'resnet101': digit runs compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part]


class NetPath(type(Path())):  # type: ignore[misc]
    """A spec file's path that names one of its variants (``variant``; None: the spec as written).
    It is the file's path in every other way (read_text, str, ==), so code that reads the file
    works unchanged; load_graph reads the variant from it."""

    variant: str | None = None

    @classmethod
    def of(cls, path: Path, variant: str | None) -> "NetPath":
        net = cls(path)
        net.variant = variant
        return net

    @property
    def reference(self) -> str:
        """How to name it as a SPEC argument: ``FILE:VARIANT`` (or the file)."""
        return f"{self}:{self.variant}" if self.variant else str(self)


@functools.lru_cache(maxsize=256)
def _variant_names(path: str, stamp: tuple) -> tuple[str, ...]:
    """The variants a spec file declares (cached per file version)."""
    from .loader import parse_yaml
    from .variants import check_variants

    text = _text(path, stamp)
    if not re.search(r"^variants\s*:", text, re.MULTILINE):
        return ()
    return tuple(check_variants(parse_yaml(text, path), path))


def variant_names(path: Path) -> tuple[str, ...]:
    return _variant_names(str(path), _stamp(path))


def families() -> dict[str, Path]:
    """The bundled specs that declare variants, by file name (resnet.yaml: 'resnet')."""
    root = architectures_dir()
    files = sorted(root.glob("*.yaml"), key=lambda p: natural_key(p.stem)) if root.is_dir() else []
    return {p.stem: p for p in files if variant_names(p)}


def bundled() -> dict[str, Path]:
    """The bundled nets (architectures/*.yaml, top level only; a family's variants by name, as
    NetPaths), in natural name order. A file's own name wins over a variant of that name."""
    root = architectures_dir()
    if not root.is_dir():
        return {}
    nets: dict[str, Path] = {}
    for path in root.glob("*.yaml"):
        names = variant_names(path)
        if not names:
            nets[path.stem] = path
        for name in names:
            nets.setdefault(name, NetPath.of(path, name))
    return {name: nets[name] for name in sorted(nets, key=natural_key)}


def bundled_net(name: str) -> Path | None:
    """``bundled().get(name)`` without reading every family: only a family whose text contains
    the name can declare it as a variant, so only those are parsed (a tenth of `params resnet152`
    went to parsing all eleven families to find one)."""
    root = architectures_dir()
    if not root.is_dir():
        return None
    files = list(root.glob("*.yaml"))  # bundled()'s order: the first family declaring a name wins
    own = next((p for p in files if p.stem == name), None)
    if own is not None and not variant_names(own):
        return own  # a file's own name wins over a variant of that name
    for path in files:
        if name in _text(str(path), _stamp(path)) and name in variant_names(path):
            return NetPath.of(path, name)
    return None


@functools.lru_cache(maxsize=256)
def _text(path: str, stamp: tuple) -> str:
    from .loader import read_text

    return read_text(path)


def _stamp(path: Path) -> tuple:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def comparisons() -> dict[str, Path]:
    """The bundled comparison specs (architectures/compare/*.yaml)."""
    root = architectures_dir() / "compare"
    return {p.stem: p for p in sorted(root.glob("*.yaml"), key=lambda p: natural_key(p.stem))} if root.is_dir() else {}


def _exists(path: Path) -> bool:
    """Path.exists, with a name the system refuses (too long, a NUL) counting as absent."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def resolve_spec(argument: str) -> Path:
    """An existing file wins; else a bundled net ('alexnet', 'alexnet.yaml'), else a bundled
    comparison ('bottleneck' or 'compare/bottleneck.yaml'), from any directory."""
    path = Path(argument)
    if _exists(path):
        return path
    file, colon, variant = argument.rpartition(":")
    if colon and file and variant and "/" not in variant and "\\" not in variant:
        return NetPath.of(_family(file), variant)
    stem = path.name[:-5] if path.name.endswith(".yaml") else path.name[:-4] if path.name.endswith(".yml") else path.name
    bare = len(path.parts) == 1
    if bare or path.parent.name == "architectures":
        net = bundled_net(stem)
        if net is not None:
            return net
    nets, pairs = bundled(), comparisons()
    if stem in nets and (bare or path.parent.name == "architectures"):
        return nets[stem]
    if bare and stem in families():
        return families()[stem]
    if stem in pairs and (bare or (path.parent.name == "compare" and not path.is_absolute())):
        return pairs[stem]
    if bare or path.parent.name == "architectures":
        near = near_miss(stem, list(nets) + list(pairs), n=4, cutoff=0.5)
        hint = f"; close matches: {', '.join(near)}" if near else "; `archcalc zoo` lists the bundled nets"
        raise SpecError(f"no such file, and no bundled net named '{clip(stem)}'{hint}", file=argument)
    raise SpecError("file not found", file=argument)


def _family(argument: str) -> Path:
    """The file part of ``FILE:VARIANT``: a file, or a bundled family ('resnet')."""
    path = Path(argument)
    if _exists(path):
        return path
    stem = path.name[:-5] if path.name.endswith(".yaml") else path.name
    if (len(path.parts) == 1 or path.parent.name == "architectures") and stem in families():
        return families()[stem]
    raise SpecError("file not found (before ':VARIANT')", file=argument)


def resolve_compare_spec(argument: str) -> Path:
    """A file, a bundled net, or a bundled comparison (resolve_spec), with the
    comparisons listed when nothing matches."""
    try:
        return resolve_spec(argument)
    except SpecError:
        names = ", ".join(comparisons())
        raise SpecError(f"no such file, bundled net or comparison (comparisons: {names})", file=argument) from None
