"""docs/import-onnx.md names every ONNX op the importer maps and every op it computes at import."""

import re
from pathlib import Path

from archcalc.importing.onnx_fold import FOLDED_OPS
from archcalc.layers.imports.onnx_ops import ONNX_OPS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "import-onnx.md").read_text()


def test_every_mapped_op_is_in_the_table():
    rows = [line for line in DOC.splitlines() if line.startswith("| `")]
    listed = {name for line in rows for name in re.findall(r"`([A-Z]\w*)`", line.split("|")[1])}
    assert listed == set(ONNX_OPS)


def test_every_folded_op_is_named():
    section = DOC.split("The constant side of a graph")[1].split("##")[0]
    assert {op for op in FOLDED_OPS if f"`{op}`" not in section} == set()
