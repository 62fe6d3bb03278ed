"""The report as a user sees it, in headless Chromium: it loads with no console error and no
network request, draws one element per expected node, shows a node's parameter formula on a click,
opens a block, sorts and filters its table, stays fast on DenseNet-169, and renders hostile names
as text. Screenshots go to $ARCHCALC_SCREENSHOTS (tools/report_screenshots.sh: docs/images)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import browser
from archcalc import analyze
from archcalc.render.report.model import graph_model, visible_count
from reportkit import hostile_report, HOSTILE

# DenseNet-169's report, from navigation to the page's ready mark, on this project's 2-core machine
LOAD_BUDGET_MS = 2000


def open_page(driver, path: Path) -> float:
    """Load the report; the milliseconds from navigation start until its script finished."""
    driver.get_log("browser"), driver.get_log("performance")  # start each page with empty logs
    driver.get(path.as_uri())
    assert driver.execute_script("return document.body.getAttribute('data-ready')") == "1"
    return driver.execute_script("return window.archcalcReadyMs")


def assert_clean(driver, path: Path) -> None:
    assert browser.console_errors(driver) == []
    assert set(browser.network_requests(driver)) <= {path.as_uri()}  # the page itself, nothing else


def graph_keys(driver, net: int = 0) -> list[str]:
    return driver.execute_script(
        f"return Array.from(document.querySelectorAll('#net-{net} svg.archgraph g.node')).map(n => n.dataset.key)")


def click(driver, css: str) -> None:
    # a script click: the element may sit outside the scrolled view of the graph's box
    element = driver.find_element("css selector", css)
    driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", element)


def screenshot(driver, name: str, tmp_path: Path, element_css: str | None = None) -> Path:
    folder = Path(os.environ.get("ARCHCALC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    png = (driver.find_element("css selector", element_css).screenshot_as_png if element_css
           else driver.get_screenshot_as_png())
    path.write_bytes(png)
    shrink(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 2000
    return path


def shrink(path: Path) -> None:
    """Screenshots for the docs as 128-colour PNGs (a fifth of the size), where Pillow is there."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=128)
    small.save(path, optimize=True)


def test_the_checks_catch_errors_and_requests(driver, tmp_path):
    """The console and network checks can fail: a page that fetches an image and logs an error."""
    path = tmp_path / "control.html"
    path.write_text('<!DOCTYPE html><html><body data-ready="1"><img src="missing.png">'
                    '<script>console.error("boom"); window.archcalcReadyMs = 1;</script></body></html>')
    open_page(driver, path)
    assert any("boom" in e for e in browser.console_errors(driver))
    open_page(driver, path)
    assert (tmp_path / "missing.png").as_uri() in browser.network_requests(driver)


def test_resnet50_report(driver, reports, tmp_path):
    path = reports["resnet50"]
    open_page(driver, path)
    assert_clean(driver, path)
    report = analyze("resnet50")
    model = graph_model(report)
    keys = graph_keys(driver)
    assert len(keys) == len(set(keys)) == visible_count(model, model["initial"])
    # every edge carries the shape of the tensor it carries
    labels = driver.execute_script("return Array.from(document.querySelectorAll('#net-0 g.edge text')).map(t => t.textContent)")
    assert "3x224x224" in labels and "64x112x112" in labels and all(labels)
    screenshot(driver, "report-resnet50.png", tmp_path)

    click(driver, '#net-0 g.node[data-key="n0"]')  # conv1
    details = driver.find_element("css selector", "#net-0 .details").text
    assert "conv1" in details and "7x7x3x64 = 9,408" in details and "kernel_h x kernel_w" in details
    screenshot(driver, "report-details.png", tmp_path, "#net-0 .graph-area")

    block = next(i for i, g in enumerate(model["groups"]) if g["name"] == "layer1.0")
    assert f"g{block}" in keys
    click(driver, f'#net-0 g.node[data-key="g{block}"] .toggle')
    opened = graph_keys(driver)
    inside = [f"n{n['id']}" for n in model["nodes"] if n["name"].startswith("layer1.0.") and block in n["groups"]
              and len(n["groups"]) == n["groups"].index(block) + 1]
    assert f"g{block}" not in opened and set(inside) <= set(opened)
    assert len(opened) == visible_count(model, model["initial"] + [block])
    assert driver.find_elements("css selector", f'#net-0 g.cluster[data-group="{block}"]')
    # the block's residual add is drawn as a join: an ellipse both branches run into
    add = next(n for n in model["nodes"] if n["name"] == "layer1.0.add")
    join = driver.find_element("css selector", f'#net-0 g.node.kind-join[data-key="n{add["id"]}"]')
    assert join.find_elements("css selector", "ellipse")
    assert len(driver.find_elements("css selector", f'#net-0 g.edge.join-in[data-to="n{add["id"]}"]')) == 2
    assert_clean(driver, path)


def test_colour_follows_the_chosen_figure(driver, reports):
    open_page(driver, reports["resnet50"])
    fill = "return document.querySelector('#net-0 g.node[data-key=\"n2\"] rect').getAttribute('fill')"  # relu
    choose = "const s = document.querySelector('#net-0 .color-by'); s.value = arguments[0]; s.dispatchEvent(new Event('change'))"
    assert driver.execute_script(fill) == "#ffffff"  # by parameters (the default): it has none
    driver.execute_script(choose, "activations")
    assert driver.execute_script(fill).startswith("rgb(")  # 64x112x112 activations: coloured
    driver.execute_script(choose, "rf")
    assert driver.execute_script(fill).startswith("rgb(")  # its receptive field, 11


def test_table_sorts_and_filters(driver, reports):
    path = reports["resnet50"]
    open_page(driver, path)
    report = analyze("resnet50")
    click(driver, '#net-0 table.layers th[data-key="params"]')
    first = driver.execute_script("return document.querySelector('#net-0 table.layers tbody tr').cells[1].textContent")
    assert first == max(report.rows, key=lambda r: (r.params, -report.rows.index(r))).name
    click(driver, '#net-0 table.layers th[data-key="params"]')  # again: ascending
    values = driver.execute_script(
        "return Array.from(document.querySelectorAll('#net-0 table.layers tbody tr')).map(r => Number(r.cells[4].dataset.v))")
    assert values == sorted(r.params for r in report.rows)
    click(driver, '#net-0 table.layers th[data-key="name"]')
    names = driver.execute_script(
        "return Array.from(document.querySelectorAll('#net-0 table.layers tbody tr')).map(r => r.cells[1].textContent)")
    assert names == sorted((r.name for r in report.rows), reverse=True)
    box = driver.find_element("css selector", "#net-0 .filter")
    box.send_keys("layer4.2")
    shown = driver.execute_script(
        "return Array.from(document.querySelectorAll('#net-0 table.layers tbody tr')).filter(r => !r.hidden).length")
    assert shown == sum(1 for r in report.rows if "layer4.2" in r.name)
    assert driver.find_element("css selector", "#net-0 .shown").text == f"{shown} of {len(report.rows)} layers"
    assert_clean(driver, path)


def test_densenet169_loads_fast_and_expands(driver, reports, tmp_path):
    path = reports["densenet169"]
    times = [open_page(driver, path) for _ in range(2)]  # the second load: no cold start of the browser
    assert min(times) < LOAD_BUDGET_MS, times
    assert_clean(driver, path)
    model = graph_model(analyze("densenet169"))
    assert len(graph_keys(driver)) == visible_count(model, model["initial"])
    assert len(model["nodes"]) == 595
    elapsed = driver.execute_script(
        "const t = performance.now(); document.querySelector('#net-0 .expand-all').click(); return performance.now() - t")
    assert len(graph_keys(driver)) == 595 + 1  # every layer and the input
    print(f"densenet169: ready in {min(times):.0f} ms; every block expanded in {elapsed:.0f} ms")
    screenshot(driver, "report-plots.png", tmp_path, "#net-0 .plots")


def test_compare_report(driver, reports, tmp_path):
    path = reports["compare"]
    open_page(driver, path)
    assert_clean(driver, path)
    for i, net in enumerate(("bottleneck", "plain_3x3")):
        model = graph_model(analyze(net))
        assert len(graph_keys(driver, i)) == len(model["nodes"]) + 1  # its layers and the input
    text = driver.find_element("css selector", "#compare").text
    assert "8.47x" in text and "bottleneck" in text and "plain_3x3" in text
    screenshot(driver, "report-compare.png", tmp_path)


def test_hostile_names_render_as_text(driver, tmp_path):
    from archcalc.figures.memory import memory_options, memory_report
    from archcalc.render.report import report_html

    report = hostile_report()
    path = tmp_path / "hostile.html"
    path.write_text(report_html([report], [memory_report(report, "adam", memory_options(report))]), encoding="utf-8")
    open_page(driver, path)  # an alert() would fail this (an unexpected alert is an error)
    assert_clean(driver, path)
    assert driver.execute_script("return document.querySelectorAll('img, iframe').length") == 0
    click(driver, "#net-0 .expand-all")
    titles = driver.execute_script("return Array.from(document.querySelectorAll('#net-0 g.node title')).map(t => t.textContent)")
    assert any(t.startswith(HOSTILE[0]) for t in titles) and any(t.startswith(HOSTILE[2]) for t in titles)
    click(driver, '#net-0 g.node[data-key="n0"]')
    assert driver.find_element("css selector", "#net-0 .details h4").text == HOSTILE[0]
    assert driver.title.startswith("archcalc report: " + HOSTILE[0])
