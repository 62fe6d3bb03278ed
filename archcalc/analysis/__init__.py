"""Analysis: the receptive-field algebra (rf), the walk over the graph (walk) and the Report it
produces (report). Pure Python: no torch, no tensors."""

from .report import DTYPE_BYTES, WHOLE_FIELD, ReceptiveField, Report, Row, Totals
from .walk import analyze, fold

__all__ = ["DTYPE_BYTES", "WHOLE_FIELD", "ReceptiveField", "Report", "Row", "Totals", "analyze", "fold"]
