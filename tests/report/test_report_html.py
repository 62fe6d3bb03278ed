"""`archcalc report` without a browser: the page is self-contained, every name is escaped, the
graph data holds one node per layer, the charts are well-formed SVG, mistakes are one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from archcalc import analyze
from archcalc.figures.memory import memory_options, memory_report
from archcalc.render.report import CSP, report_html
from archcalc.render.report.model import INITIAL_NODES, graph_model, visible_count
from archcalc.render.escape import visible

from cli_checks import assert_clean_error
from reportkit import HOSTILE, hostile_report, runner, write_report
from archcalc.cli import app


def page_for(*reports):
    return report_html(reports, [memory_report(r, "adam", memory_options(r)) for r in reports])


def embedded_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="archcalc-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_the_page_fetches_nothing(tmp_path):
    html = write_report(tmp_path / "r.html", "resnet18").read_text()
    assert f'content="{CSP}"' in html and "default-src 'none'" in CSP
    # no element that loads anything: every script and style is inline
    assert not re.search(r"<(link|img|iframe|object|embed)\b", html)
    assert not re.search(r"<script[^>]*\ssrc=", html)
    # the only URL is the SVG namespace (an identifier, never fetched)
    assert set(re.findall(r"https?://[^\s\"'<>)]+", html)) <= {"http://www.w3.org/2000/svg"}


def test_every_layer_is_a_node_with_its_figures():
    report = analyze("resnet50")
    model = graph_model(report)
    assert [n["name"] for n in model["nodes"]] == [r.name for r in report.rows]
    conv1 = model["nodes"][0]
    assert conv1["figs"]["params"] == 9408 and conv1["shape"] == "64x112x112"
    assert ["parameters", "9,408", "7x7x3x64 = 9,408"] in conv1["details"]
    assert any(line[0] == "MACs" and "kernel_h x kernel_w" in line[2] for line in conv1["details"])
    adds = [n for n in model["nodes"] if n["join"]]
    assert len(adds) == 16 and all(len(n["inputs"]) == 2 for n in adds)  # one join per bottleneck
    names = [g["name"] for g in model["groups"]]
    assert "layer1" in names and "layer1.0.downsample" in names
    layer1 = model["groups"][names.index("layer1")]
    assert layer1["figs"]["params"] == sum(r.params for r in report.rows if r.name.startswith("layer1."))


@pytest.mark.parametrize("net", ["resnet50", "densenet169", "alexnet", "bottleneck"])
def test_the_first_view_is_readable(net):
    model = graph_model(analyze(net))
    shown = visible_count(model, model["initial"])
    assert shown <= INITIAL_NODES + len(model["inputs"]) or not model["groups"]
    # opening one more level would show too many (or there is none)
    depth = max((g["name"].count(".") + 1 for i, g in enumerate(model["groups"]) if i in model["initial"]), default=0)
    deeper = [i for i, g in enumerate(model["groups"]) if g["name"].count(".") + 1 <= depth + 1]
    assert len(deeper) == len(model["initial"]) or visible_count(model, deeper) > INITIAL_NODES + len(model["inputs"])


def test_hostile_names_are_escaped_everywhere():
    report = hostile_report()
    html = page_for(report)
    # outside the inline scripts (vendored code and archcalc's own), no raw name survives
    markup = re.sub(r"<script>.*?</script>", "", html, flags=re.S)
    markup = re.sub(r'<script type="application/json" id="archcalc-data">.*?</script>', "", markup, flags=re.S)
    for name in HOSTILE[:5]:
        assert name not in markup, name
    assert "<script>alert" not in html and "<img" not in html
    assert html.count("</script>") == 4  # the data and the three inline scripts close once each
    assert "\u202e" not in html  # a bidi override is shown as an escape
    data = embedded_data(html)
    assert [n["name"] for n in data["nets"][0]["nodes"]] == [visible(r.name) for r in report.rows]
    # every chart is well-formed XML with the names as text
    for chart in re.findall(r"<svg .*?</svg>", markup, re.S):
        ET.fromstring(chart)


def test_compare_view_has_ratios(tmp_path):
    html = write_report(tmp_path / "c.html", "bottleneck", "plain_3x3").read_text()
    assert 'id="compare"' in html and "589,824 (8.47x)" in html
    assert html.count('class="net"') == 2
    assert len(embedded_data(html)["nets"]) == 2


def test_options_as_the_other_commands(tmp_path):
    html = write_report(tmp_path / "r.html", "resnet18", "--input", "3x128x128", "--batch", "2",
                        "--set", "num_classes=10").read_text()
    assert "3x128x128" in html and ">10</dd>" in html  # input, and the output of 10 classes
    data = embedded_data(html)["nets"][0]
    assert data["nodes"][-1]["shape"] == "10"
    train = write_report(tmp_path / "g.html", "googlenet", "--mode", "train").read_text()
    assert "aux1" in train


def test_mistakes_are_one_line(tmp_path):
    assert_clean_error(runner.invoke(app, ["report", "resnet18", "-o", str(tmp_path / "r.txt")]), ".html")
    assert_clean_error(runner.invoke(app, ["report", "no_such_net", "-o", str(tmp_path / "r.html")]))
    assert_clean_error(runner.invoke(app, ["report", "resnet18", "-o", str(tmp_path / "none" / "r.html")]), "no directory")
    assert_clean_error(runner.invoke(app, ["report", "resnet18", "-O", "adamx", "-o", str(tmp_path / "r.html")]), "optimizer")


def test_the_analysis_path_imports_no_plotting_browser_or_torch():
    code = ("import sys; from archcalc.cli import run; run(['params', 'resnet18']); "
            "bad = [m for m in ('torch', 'matplotlib', 'py_mini_racer', 'cairosvg', 'selenium') if m in sys.modules]; "
            "print('IMPORTED', bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("IMPORTED []"), out[-300:]


def test_the_commands_in_the_docs_run(tmp_path):
    """Every `archcalc report` / `archcalc graph` line of docs/report.md's examples works as written."""
    from pathlib import Path

    pytest.importorskip("py_mini_racer", reason="archcalc graph needs the graph extra")
    docs = (Path(__file__).resolve().parents[2] / "docs" / "report.md").read_text()
    lines = [line.split("#")[0].split() for block in re.findall(r"```sh\n(.*?)```", docs, re.S)
             for line in block.splitlines() if line.startswith(("archcalc report ", "archcalc graph "))]
    assert len(lines) >= 4
    for words in lines:
        target = tmp_path / Path(words[words.index("-o") + 1]).name
        words[words.index("-o") + 1] = str(target)
        result = runner.invoke(app, words[1:])
        assert result.exit_code == 0 and target.stat().st_size > 1000, (words, result.output)
