"""`archcalc graph`: the report's graph as SVG (well-formed, one node element per shown item,
shapes on edges, hostile names as text) and PNG (read back: size and content)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import pytest

from archcalc import analyze
from archcalc.cli import app
from archcalc.render.report.model import graph_model, visible_count
from cli_checks import assert_clean_error
from reportkit import HOSTILE, hostile_report, runner

pytest.importorskip("py_mini_racer", reason="the graph extra (mini-racer) is not installed")

SVG = "{http://www.w3.org/2000/svg}"


def nodes_of(svg_text: str):
    root = ET.fromstring(svg_text)
    return root, [g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]


def test_svg_matches_the_report_view(tmp_path):
    out = tmp_path / "net.svg"
    result = runner.invoke(app, ["graph", "resnet18", "-o", str(out)])
    assert result.exit_code == 0, result.output
    root, nodes = nodes_of(out.read_text())
    model = graph_model(analyze("resnet18"))
    assert len(nodes) == visible_count(model, model["initial"])
    shapes = [t.text for g in root.iter(f"{SVG}g") if g.get("class", "").startswith("edge") for t in g.iter(f"{SVG}text")]
    assert "3x224x224" in shapes and "512x7x7" in shapes


@pytest.mark.parametrize("depth", [0, 9])
def test_depth_collapses_or_opens_every_block(tmp_path, depth):
    out = tmp_path / "net.svg"
    assert runner.invoke(app, ["graph", "resnet18", "-o", str(out), "--depth", str(depth), "--color", "rf"]).exit_code == 0
    _, nodes = nodes_of(out.read_text())
    report = analyze("resnet18")
    top = {r.name.split(".")[0] for r in report.rows}
    assert len(nodes) == (len(top) if depth == 0 else len(report.rows)) + 1  # and the input
    joins = [g for g in nodes if "kind-join" in g.get("class", "")]
    assert len(joins) == (0 if depth == 0 else 8)  # resnet18's residual adds, drawn as joins


def test_png_reads_back(tmp_path):
    pytest.importorskip("cairosvg", reason="PNG output needs CairoSVG")
    from PIL import Image

    out = tmp_path / "net.png"
    assert runner.invoke(app, ["graph", "bottleneck", "-o", str(out)]).exit_code == 0
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width > 150 and image.height > 300
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert len(colours) > 20  # nodes, text, colour scale: not a blank page


def test_hostile_names_stay_text():
    from archcalc.render.report.picture import graph_svg

    root, nodes = nodes_of(graph_svg(hostile_report(), depth=9))
    titles = [g.find(f"{SVG}title").text for g in nodes]
    assert any(t.startswith(HOSTILE[0]) for t in titles) and any(t.startswith(HOSTILE[3]) for t in titles)
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))


def test_mistakes_are_one_line(tmp_path):
    assert_clean_error(runner.invoke(app, ["graph", "resnet18", "-o", str(tmp_path / "n.jpg")]), ".svg or .png")
    assert_clean_error(runner.invoke(app, ["graph", "resnet18", "-o", str(tmp_path / "n.svg"), "--color", "x"]), "--color")


def test_a_missing_extra_is_named(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "py_mini_racer", None)  # import fails as if not installed
    assert_clean_error(runner.invoke(app, ["graph", "resnet18", "-o", str(tmp_path / "n.svg")]), 'pip install "archcalc[graph]"')
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "cairosvg", None)
    assert_clean_error(runner.invoke(app, ["graph", "resnet18", "-o", str(tmp_path / "n.png")]), 'archcalc[graph]')


def test_a_layout_engine_failure_is_one_line(tmp_path, monkeypatch):
    """dagre's recursion runs out of V8's stack on a net of thousands of layers (a 10,000-layer
    chain); here a layout script that recurses without end raises the same RangeError quickly."""
    from archcalc.render.report import picture

    real = picture.asset
    endless = "var ArchGraph = {standalone: function down(m, e, c) { return down(m, e, c) + 1; }};"
    monkeypatch.setattr(picture, "asset", lambda name: endless if name == "graph.js" else real(name))
    message = assert_clean_error(runner.invoke(app, ["graph", "resnet18", "-o", str(tmp_path / "n.svg")]),
                                 "RangeError: Maximum call stack size exceeded", "layout engine")
    assert "<anonymous>" not in message and not (tmp_path / "n.svg").exists()


def test_a_view_too_long_to_lay_out_is_refused_before_the_engine_starts(tmp_path):
    """dagre overflows V8's stack on a chain of ~2,000 layers and mini-racer may then never
    answer (the command hung): past MAX_LAID_OUT nodes in view, one error line instead."""
    from big_specs import chain_spec

    from archcalc.render.report.picture import MAX_LAID_OUT

    spec = tmp_path / "chain.yaml"
    spec.write_text(chain_spec(MAX_LAID_OUT + 100))
    assert_clean_error(runner.invoke(app, ["graph", str(spec), "-o", str(tmp_path / "n.svg")]),
                       f"at most {MAX_LAID_OUT:,} nodes", f"{MAX_LAID_OUT + 101:,}")
    assert not (tmp_path / "n.svg").exists()
