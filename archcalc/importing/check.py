"""The import's own proof: the spec written for an imported net is analysed, and every layer's
inferred output shape must equal the traced one, every module's parameters and buffers the
module's. A difference stops the import (never a silent miscount). Pure Python."""

from __future__ import annotations

from ..errors import ArchcalcError
from .layout import ImportedNet


class ImportCheckError(ArchcalcError):
    pass


def _shape(values) -> str:
    return "x".join(str(v) for v in values)


def check_rows(net: ImportedNet, report) -> None:
    rows = {row.name: row for row in report.rows}
    for entry in net.entries:
        row = rows.get(entry.name)
        if row is None:
            raise ImportCheckError(f"the written spec has no layer '{entry.name}' ({entry.origin})")
        if entry.shape is not None and tuple(row.output) != tuple(entry.shape):
            raise ImportCheckError(f"{entry.name} ({entry.origin}): archcalc's {entry.type} gives {_shape(row.output)}, "
                                   f"the traced module {_shape(entry.shape)}")
        if entry.expect is not None and (row.params, row.buffers) != entry.expect:
            raise ImportCheckError(f"{entry.name} ({entry.origin}): archcalc's {entry.type} holds {row.params:,} parameters "
                                   f"and {row.buffers:,} buffer elements, the module {entry.expect[0]:,} and "
                                   f"{entry.expect[1]:,}")
