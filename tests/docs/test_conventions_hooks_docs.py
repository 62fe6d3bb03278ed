"""docs/conventions-ptflops-torchscan-calflops.md's table of the bundled torchvision nets holds the
figures `flops --convention` gives (the tools' own numbers: tests/pytorch/test_convention_ptflops.py,
_torchscan.py, _calflops.py)."""

import re
from pathlib import Path

import archcalc
from archcalc.figures.conventions import convention_counts, resolve_conventions

DOC = Path(__file__).resolve().parents[2] / "docs" / "conventions-ptflops-torchscan-calflops.md"


def test_the_documented_totals_are_the_conventions():
    figure = r" \| ([\d,]+)"
    rows = re.findall(r"^\| (\w+)" + figure * 5 + r" \|$", DOC.read_text(), re.M)
    assert len(rows) >= 64  # every bundled torchvision net (tests/pytorch/test_convention_nets.py)
    for net, macs, *tools in rows:
        report = archcalc.analyze(net)
        conventions = resolve_conventions("ptflops,ptflops-aten,torchscan,calflops")
        totals = [c.total for c in convention_counts(report, conventions)]
        assert [int(v.replace(",", "")) for v in [macs, *tools]] == [report.total.macs, *totals], net


def test_every_convention_here_has_its_section():
    text = DOC.read_text()
    for name in ("ptflops", "ptflops-aten", "torchscan", "calflops"):
        assert f"(`{name}`)" in text
