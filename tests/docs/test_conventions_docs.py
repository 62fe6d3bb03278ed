"""docs/conventions.md's table of the bundled torchvision nets holds the figures `flops
--convention` gives (the tools' own numbers: tests/pytorch/test_convention_*.py)."""

import re
from pathlib import Path

import archcalc
from archcalc.figures.conventions import convention_counts, resolve_conventions

DOC = Path(__file__).resolve().parents[2] / "docs" / "conventions.md"


def test_the_documented_totals_are_the_conventions():
    rows = re.findall(r"^\| (\w+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", DOC.read_text(), re.M)
    assert len(rows) >= 64  # every bundled torchvision net (tests/pytorch/test_convention_nets.py)
    for net, macs, *tools in rows:
        report = archcalc.analyze(net)
        totals = [c.total for c in convention_counts(report, resolve_conventions("torchinfo,fvcore,thop"))]
        assert [int(v.replace(",", "")) for v in [macs, *tools]] == [report.total.macs, *totals], net
