"""The bundled architectures: resolve a SPEC argument that names one instead of a file."""

from __future__ import annotations

import difflib
from pathlib import Path

from .errors import SpecError

_HERE = Path(__file__).resolve().parent


def architectures_dir() -> Path:
    """Installed wheels carry the specs inside the package; a source checkout has them beside it."""
    for candidate in (_HERE / "architectures", _HERE.parent / "architectures"):
        if candidate.is_dir():
            return candidate
    return _HERE / "architectures"


def bundled() -> dict[str, Path]:
    root = architectures_dir()
    return {p.stem: p for p in sorted(root.glob("*.yaml"))} if root.is_dir() else {}


def resolve_spec(argument: str) -> Path:
    """An existing file wins; else a bundled name ('alexnet' or 'alexnet.yaml')."""
    path = Path(argument)
    if path.exists():
        return path
    nets = bundled()
    stem = path.name[:-5] if path.name.endswith(".yaml") else path.name[:-4] if path.name.endswith(".yml") else path.name
    if stem in nets and (len(path.parts) == 1 or path.parent.name in ("architectures", "compare")):
        return nets[stem]
    if len(path.parts) == 1 or path.parent.name == "architectures":
        near = difflib.get_close_matches(stem, list(nets), n=4, cutoff=0.5)
        hint = f"; close bundled nets: {', '.join(near)}" if near else "; `archcalc zoo` lists the bundled nets"
        raise SpecError(f"no such file, and no bundled net named '{stem}'{hint}", file=argument)
    raise SpecError("file not found", file=argument)
