"""The columns of the per-layer views. A column is a plain function of a Row; each has a key for
``--columns`` (like torchinfo's col_names), a header, and where the table shows formatted text
that a spreadsheet cannot read (512.00 KiB) a plain value for CSV.

On a narrow terminal a view drops its lower-priority columns (DROP_FIRST) until the table fits,
rather than folding numbers over two lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..analysis import Report, Row
from ..errors import UsageError
from .cells import human_bytes, rf_cells, shape_text


@dataclass(frozen=True)
class Column:
    key: str  # what --columns calls it
    header: str
    cell: Callable[[Row, Report], str]
    numeric: bool = True  # flush right; never folded
    csv_value: Callable[[Row, Report], Any] | None = None  # CSV: the plain value behind a formatted cell
    csv_header: str | None = None
    total: Callable[[Report], Any] | None = None  # its figure in the params CSV's `total` row
    user_text: bool = False  # a name from the spec: made spreadsheet-safe in CSV


def _share(value: int, total: int) -> str:
    return f"{100 * value / total:.1f}%" if total else "-"


NAME = Column("layer", "Layer", lambda r, rep: r.name, False, total=lambda rep: "total", user_text=True)
def _type_cell(r: Row, rep: Report) -> str:
    """The type; a layer idle in this mode is marked ('linear (train only)')."""
    return r.type if r.active else f"{r.type} ({'train' if rep.mode == 'eval' else 'eval'} only)"


TYPE = Column("type", "Type", _type_cell, False, csv_value=lambda r, rep: r.type)
OUTPUT = Column("output", "Output", lambda r, rep: shape_text(r.output), False)
PARAMS = Column("params", "Params", lambda r, rep: f"{r.params:,}", total=lambda rep: rep.total.params)
FORMULA = Column("formula", "Formula", lambda r, rep: r.formula, False)
MACS = Column("macs", "MACs", lambda r, rep: f"{r.macs:,}")
FLOPS = Column("flops", "FLOPs", lambda r, rep: f"{r.flops:,}")
# the backward pass: gradient w.r.t. the layer's input and w.r.t. its weights (archcalc.analysis.backward)
GRAD_INPUT = Column("grad_input", "Grad input", lambda r, rep: f"{r.backward_input_flops:,}")
GRAD_WEIGHT = Column("grad_weight", "Grad weight", lambda r, rep: f"{r.backward_weight_flops:,}")
COLUMNS = {
    "params": [
        NAME, TYPE, OUTPUT,
        Column("weights", "Weights", lambda r, rep: f"{r.weights:,}", total=lambda rep: sum(r.weights for r in rep.rows)),
        Column("bias", "Bias", lambda r, rep: f"{r.biases:,}", total=lambda rep: sum(r.biases for r in rep.rows)),
        PARAMS,
        Column("buffers", "Buffers", lambda r, rep: f"{r.buffers:,}", total=lambda rep: rep.total.buffers),
        FORMULA,
    ],
    "flops": [
        NAME, TYPE, OUTPUT, MACS, FLOPS,
        Column("share", "Share", lambda r, rep: _share(r.flops, rep.total.flops)),
        Column("ops", "All ops", lambda r, rep: f"{r.ops:,}"),
    ],
    # `flops --pass backward` and `--pass train`
    "backward": [
        NAME, TYPE, OUTPUT, GRAD_INPUT, GRAD_WEIGHT,
        Column("backward", "Backward", lambda r, rep: f"{r.backward_flops:,}"),
        Column("share", "Share", lambda r, rep: _share(r.backward_flops, rep.total.backward_flops)),
    ],
    "train": [
        NAME, TYPE, OUTPUT, FLOPS, GRAD_INPUT, GRAD_WEIGHT,
        Column("train", "Train FLOPs", lambda r, rep: f"{r.train_flops:,}"),
        Column("share", "Share", lambda r, rep: _share(r.train_flops, rep.total.train_flops)),
    ],
    "rf": [
        NAME, TYPE, OUTPUT,
        Column("rf", "RF size", lambda r, rep: rf_cells(r.rf)[0]),
        Column("stride", "Eff. stride", lambda r, rep: rf_cells(r.rf)[1]),
        Column("padding", "Eff. padding", lambda r, rep: rf_cells(r.rf)[2]),
    ],
    "summary": [
        NAME, TYPE, OUTPUT, PARAMS, FORMULA, MACS,
        Column("rf", "RF", lambda r, rep: rf_cells(r.rf)[0]),
        Column("stride", "Stride", lambda r, rep: rf_cells(r.rf)[1]),
        Column("activations", "Activations", lambda r, rep: human_bytes(r.activations * rep.dtype_bytes),
               csv_value=lambda r, rep: r.activations * rep.dtype_bytes, csv_header="Activation bytes"),
    ],
}
# Every column any view has, by key (for --columns; a view's own column wins for a shared key)
CATALOG: dict[str, Column] = {}
for _view in COLUMNS.values():
    for _column in _view:
        CATALOG.setdefault(_column.key, _column)
# What a view hides first on a narrow terminal; the rest (the layer and the view's point) stay.
DROP_FIRST = {
    "params": ("buffers", "type", "bias", "weights", "output", "formula"),
    "flops": ("ops", "type", "share", "flops", "output"),
    "backward": ("type", "share", "output", "grad_input", "grad_weight"),
    "train": ("type", "share", "output", "grad_input", "grad_weight", "flops"),
    "rf": ("type", "output", "padding"),
    "summary": ("formula", "type", "activations", "stride", "output", "rf"),
}


def choose_columns(view: str, keys: str | None) -> list[Column]:
    """The view's columns, or those ``--columns`` lists ('layer,params,macs'), in that order."""
    if keys is None:
        return list(COLUMNS[view])
    own = {column.key: column for column in COLUMNS[view]}
    chosen = []
    for key in (k.strip().lower() for k in keys.split(",")):
        if not key:
            continue
        column = own.get(key) or CATALOG.get(key)
        if column is None:
            raise UsageError(f"--columns: unknown column '{key}' (columns: {', '.join(CATALOG)})")
        if column not in chosen:
            chosen.append(column)
    if not chosen:
        raise UsageError(f"--columns needs at least one column (columns: {', '.join(CATALOG)})")
    return chosen


def fit_columns(view: str, columns: Sequence[Column], widths: Sequence[int], width: int) -> list[int]:
    """Indices of the columns to show at this width (``widths``: each column's measured width):
    all when the table fits, else without the view's lower-priority columns, dropped one by one
    until it fits or only the essentials remain."""
    from .boxtable import table_width

    keep = list(range(len(columns)))
    for key in DROP_FIRST.get(view, ()):
        if table_width([widths[i] for i in keep]) <= width:
            break
        keep = [i for i in keep if columns[i].key != key]
    return keep
