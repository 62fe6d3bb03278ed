"""The report's browser side, shipped as package data: the vendored dagre (@dagrejs/dagre 3.1.3,
MIT, dagre.LICENSE) and archcalc's own graph.js, report.js and report.css."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")
