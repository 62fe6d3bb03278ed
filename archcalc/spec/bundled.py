"""Bundled specs by name: `archcalc params resnet50` or `bottleneck` works from any directory.
An existing file always wins."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import SpecError, clip, near_miss

_PACKAGE = Path(__file__).resolve().parent.parent


def architectures_dir() -> Path:
    """Installed wheels carry the specs inside the package; a source checkout has them beside it."""
    for candidate in (_PACKAGE / "architectures", _PACKAGE.parent / "architectures"):
        if candidate.is_dir():
            return candidate
    return _PACKAGE / "architectures"


def natural_key(name: str) -> list:
    """'resnet18' < 'resnet50' < 'resnet101': digit runs compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part]


def bundled() -> dict[str, Path]:
    """The bundled nets (architectures/*.yaml, top level only), in natural name order."""
    root = architectures_dir()
    if not root.is_dir():
        return {}
    return {p.stem: p for p in sorted(root.glob("*.yaml"), key=lambda p: natural_key(p.stem))}


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
    nets, pairs = bundled(), comparisons()
    stem = path.name[:-5] if path.name.endswith(".yaml") else path.name[:-4] if path.name.endswith(".yml") else path.name
    bare = len(path.parts) == 1
    if stem in nets and (bare or path.parent.name == "architectures"):
        return nets[stem]
    if stem in pairs and (bare or (path.parent.name == "compare" and not path.is_absolute())):
        return pairs[stem]
    if bare or path.parent.name == "architectures":
        near = near_miss(stem, list(nets) + list(pairs), n=4, cutoff=0.5)
        hint = f"; close matches: {', '.join(near)}" if near else "; `archcalc zoo` lists the bundled nets"
        raise SpecError(f"no such file, and no bundled net named '{clip(stem)}'{hint}", file=argument)
    raise SpecError("file not found", file=argument)


def resolve_compare_spec(argument: str) -> str:
    """A file, a bundled net, or a bundled comparison (resolve_spec), with the
    comparisons listed when nothing matches."""
    try:
        return str(resolve_spec(argument))
    except SpecError:
        names = ", ".join(comparisons())
        raise SpecError(f"no such file, bundled net or comparison (comparisons: {names})", file=argument) from None
