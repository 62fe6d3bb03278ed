"""The bundled architectures: resolve a SPEC argument that names one instead of a file."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SpecError

if TYPE_CHECKING:
    from .analysis import ReceptiveField

_HERE = Path(__file__).resolve().parent


def architectures_dir() -> Path:
    """Installed wheels carry the specs inside the package; a source checkout has them beside it."""
    for candidate in (_HERE / "architectures", _HERE.parent / "architectures"):
        if candidate.is_dir():
            return candidate
    return _HERE / "architectures"


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


def resolve_spec(argument: str) -> Path:
    """An existing file wins; else a bundled net ('alexnet', 'alexnet.yaml'), else a bundled
    comparison ('bottleneck' or 'compare/bottleneck.yaml'), from any directory."""
    path = Path(argument)
    if path.exists():
        return path
    nets, pairs = bundled(), comparisons()
    stem = path.name[:-5] if path.name.endswith(".yaml") else path.name[:-4] if path.name.endswith(".yml") else path.name
    bare = len(path.parts) == 1
    if stem in nets and (bare or path.parent.name == "architectures"):
        return nets[stem]
    if stem in pairs and (bare or (path.parent.name == "compare" and not path.is_absolute())):
        return pairs[stem]
    if bare or path.parent.name == "architectures":
        near = difflib.get_close_matches(stem, list(nets) + list(pairs), n=4, cutoff=0.5)
        hint = f"; close matches: {', '.join(near)}" if near else "; `archcalc zoo` lists the bundled nets"
        raise SpecError(f"no such file, and no bundled net named '{stem}'{hint}", file=argument)
    raise SpecError("file not found", file=argument)


@dataclass(frozen=True)
class ZooEntry:
    """One bundled net's headline figures, as `archcalc zoo` lists them."""

    name: str
    file: Path
    description: str
    input: tuple[int, ...]
    output: tuple[int, ...]
    params: int
    trainable: int
    buffers: int
    macs: int
    flops: int
    final_rf: "ReceptiveField"
    last_map_rf: "ReceptiveField | None"  # the last layer whose output is still a map
    last_map_layer: str | None


def survey() -> list[ZooEntry]:
    """Analyse every bundled net (architectures/*.yaml, top level only), in name order."""
    from .analysis import analyze
    from .spec import load_graph

    entries = []
    for name, path in bundled().items():
        graph = load_graph(path)
        report = analyze(graph)
        last = next((r for r in reversed(report.rows) if r.rf.kind == "field"), None)
        entries.append(
            ZooEntry(
                name=name, file=path, description=graph.description, input=report.input, output=report.output,
                params=report.total.params, trainable=report.total.trainable, buffers=report.total.buffers,
                macs=report.total.macs, flops=report.total.flops, final_rf=report.final_rf,
                last_map_rf=last.rf if last else None, last_map_layer=last.name if last else None,
            )
        )
    return entries
