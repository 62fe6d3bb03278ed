"""The zoo survey: every bundled net's headline figures (`archcalc zoo`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..spec.bundled import bundled, comparisons

if TYPE_CHECKING:
    from ..analysis import ReceptiveField


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


def survey(specs: dict[str, Path] | None = None) -> list[ZooEntry]:
    """Analyse every bundled net (architectures/*.yaml, top level only), or the ``specs`` given
    (e.g. spec.bundled.comparisons()), in name order."""
    from ..analysis import analyze
    from ..graph import load_graph

    entries = []
    for name, path in (bundled() if specs is None else specs).items():
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


def survey_comparisons() -> list[ZooEntry]:
    """The bundled comparison specs (architectures/compare/*.yaml), usable by name like the nets."""
    return survey(comparisons())
