"""How single figures read: readable units beside exact numbers, shapes, receptive fields."""

from __future__ import annotations

from typing import Sequence

from ..analysis import ReceptiveField
from ..analysis.rf import as_text


def human(value: float, unit: str = "") -> str:
    """61,100,840 -> '61.1 M'; 714,188,480 MACs -> '0.71 G' (readable units beside exact numbers)."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale * (0.1 if prefix == "G" else 1):
            digits = 2 if prefix in ("G", "T") else 1
            return f"{value / scale:.{digits}f} {prefix}{unit}"
    return f"{value:,.0f} {unit}".rstrip()


def human_bytes(value: float) -> str:
    for scale, prefix in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if value >= scale:
            return f"{value / scale:.2f} {prefix}"
    return f"{int(value)} B"


def shape_text(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


def input_form(shape: Sequence[int]) -> str:
    """What an input's sizes are, as the headers say it: CxL, CxHxW or CxTxHxW (a flat vector
    stays under the default heading, CxHxW)."""
    return {2: "CxL", 4: "CxTxHxW"}.get(len(shape), "CxHxW")


def _axis_pair(values) -> str:
    """One figure per spatial axis, written once when every axis agrees: 7 (7x7), 3x7x7 (TxHxW)."""
    texts = [as_text(v) if not isinstance(v, int) else str(v) for v in values]
    return texts[0] if len(set(texts)) == 1 else "x".join(texts)


_RF_CELLS: dict[int, tuple[ReceptiveField, tuple[str, str, str]]] = {}


def rf_cells(rf: ReceptiveField) -> tuple[str, str, str]:
    """Size, stride and padding as the tables show them. Layers that keep their input's field
    (activations, norms, most of a net) share its object, and the size, stride and padding
    columns each ask: the text is made once per field (keyed by identity, the field kept)."""
    known = _RF_CELLS.get(id(rf))
    if known is not None and known[0] is rf:
        return known[1]
    if len(_RF_CELLS) >= 100_000:
        _RF_CELLS.clear()
    cells = _RF_CELLS[id(rf)] = rf, _rf_cells(rf)
    return cells[1]


def _rf_cells(rf: ReceptiveField) -> tuple[str, str, str]:
    if rf.kind == "whole":
        return ("whole input", "-", "-")
    if rf.kind == "unknown":
        return ("n/a", "-", "-")
    mark = "" if rf.aligned else " *"
    return (_axis_pair(rf.size) + mark, _axis_pair(rf.stride), _axis_pair(rf.padding))
