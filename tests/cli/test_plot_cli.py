"""`archcalc plot`: every kind written as png, svg and pdf and read back (size, content, structure);
the options the other commands take; mistakes as one line; matplotlib only when plotting."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from archcalc import analyze, load
from archcalc.render.plots import PALETTE, SLIDE_INCHES
from cli_checks import assert_clean_error, runner
from archcalc.cli import app, run

pytest.importorskip("matplotlib", reason="the plot extra")
from PIL import Image  # noqa: E402  (Pillow comes with matplotlib)

ROOT = Path(__file__).resolve().parents[2]
DPI = 40


def plot(tmp_path, spec, kind, suffix=".png", *extra):
    target = tmp_path / f"{kind}{suffix}"
    result = runner.invoke(app, ["plot", spec, "--kind", kind, "-o", str(target), "--dpi", str(DPI), *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout == "" and f"wrote {target}" in result.stderr
    return target


def colours(path: Path) -> set[tuple[int, int, int]]:
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        return {rgb.getpixel((x, y)) for x in range(rgb.width) for y in range(rgb.height)}


def hex_rgb(text: str) -> tuple[int, int, int]:
    return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))


@pytest.mark.parametrize("kind", ["params", "flops", "activations", "rf", "memory"])
def test_every_kind_is_a_slide_sized_png_with_content(tmp_path, kind):
    path = plot(tmp_path, "resnet50", kind)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (round(SLIDE_INCHES[0] * DPI), round(SLIDE_INCHES[1] * DPI))
    seen = colours(path)
    assert len(seen) > 20  # text, axes and data, not a blank page
    if kind in ("params", "flops", "activations"):  # ResNet's stages layer1..layer4 take the palette in turn
        assert len({hex_rgb(c) for c in PALETTE[:4]} & seen) >= 3


def svg_texts(path: Path) -> str:
    root = ElementTree.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return " ".join("".join(e.itertext()) for e in root.iter("{http://www.w3.org/2000/svg}text"))


def test_svg_parses_and_its_axes_say_what_and_in_which_unit(tmp_path):
    texts = svg_texts(plot(tmp_path, "resnet50", "params", ".svg"))
    assert "M parameters" in texts and "per stage" in texts and "layer4" in texts and "resnet50" in texts
    texts = svg_texts(plot(tmp_path, "resnet50", "flops", ".svg", "--batch", "8"))
    assert "G FLOPs" in texts and "batch 8" in texts
    texts = svg_texts(plot(tmp_path, "resnet50", "activations", ".svg", "--dtype", "float16"))
    assert "MiB" in texts and "float16" in texts
    texts = svg_texts(plot(tmp_path, "resnet50", "rf", ".svg"))
    assert "input size 224" in texts and "effective stride" in texts and "receptive field" in texts
    texts = svg_texts(plot(tmp_path, "resnet50", "memory", ".svg", "--optimizer", "sgd"))
    assert "MiB" in texts and "optimizer state" not in texts and "weights" in texts and "(sgd)" in texts


def test_svg_is_the_same_file_for_the_same_net(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = plot(tmp_path / "a", "lenet5", "params", ".svg"), plot(tmp_path / "b", "lenet5", "params", ".svg")
    assert first.read_bytes() == second.read_bytes()


def test_pdf_parses_each_object_where_its_cross_reference_says(tmp_path):
    data = plot(tmp_path, "lenet5", "rf", ".pdf").read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    start = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data)[1])
    table = re.match(rb"xref\s+0 (\d+)\s+", data[start:])
    assert table is not None
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf])", data[start + table.end():])[:int(table[1])]
    assert len(entries) == int(table[1])
    used = [(number, int(offset)) for number, (offset, _, kind) in enumerate(entries) if kind == b"n"]
    assert len(used) > 5
    for number, offset in used:
        assert data[offset:].startswith(b"%d 0 obj" % number), number
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == 1  # one page


def test_the_options_of_the_other_commands_apply(tmp_path):
    small = svg_texts(plot(tmp_path, "resnet50", "rf", ".svg", "--input", "3x64x64"))
    assert "input size 64" in small
    texts = svg_texts(plot(tmp_path, "resnet50", "params", ".svg", "--set", "num_classes=10"))
    assert "fc" in texts
    texts = svg_texts(plot(tmp_path, "googlenet", "params", ".svg", "--mode", "train"))
    assert "aux1" in texts
    plot(tmp_path, "bottleneck", "memory", ".png", "--amp", "--inplace")  # a bundled comparison net
    texts = svg_texts(plot(tmp_path, str(ROOT / "architectures" / "resnet.yaml") + ":resnet18", "flops", ".svg"))
    assert "resnet18" in texts


def test_a_spec_file_and_a_net_with_both_axes(tmp_path):
    spec = tmp_path / "wide.yaml"
    spec.write_text("name: wide\ninput: 1x20x40\nlayers:\n"
                    "  - {name: c, type: conv2d, out_channels: 2, kernel_size: [3, 5], stride: [1, 2]}\n"
                    "  - {name: p, type: maxpool2d, kernel_size: 2}\n")
    texts = svg_texts(plot(tmp_path, str(spec), "rf", ".svg"))
    assert "input height 20" in texts and "input width 40" in texts and "(width)" in texts


def test_ten_thousand_layers_render(tmp_path):
    sys.path.insert(0, str(ROOT / "tests"))
    from big_specs import chain_spec

    spec = tmp_path / "chain.yaml"
    spec.write_text(chain_spec(10_000, written_out=False))
    texts = svg_texts(plot(tmp_path, str(spec), "params", ".svg"))
    assert "10,000 in order" in texts
    assert len(re.findall(r"<text", (tmp_path / "params.svg").read_text())) < 200  # labels thinned


@pytest.mark.parametrize("name, fragment", [("fig.gif", "must end in .png, .svg or .pdf"),
                                            ("fig", "no suffix")])
def test_an_unknown_output_suffix_is_one_line(tmp_path, name, fragment):
    result = runner.invoke(app, ["plot", "lenet5", "-o", str(tmp_path / name)])
    assert_clean_error(result, fragment)
    assert not (tmp_path / name).exists()


def test_mistakes_are_one_line(tmp_path, capsys):
    for args, fragment in ((["--kind", "bananas", "-o", str(tmp_path / "x.png")], "bananas"), ([], "--output"),
                           (["-o", str(tmp_path / "x.png"), "--dpi", "5"], "--dpi")):
        assert run(["plot", "lenet5", *args]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and len(err.splitlines()) == 1 and fragment in err, err
    assert_clean_error(runner.invoke(app, ["plot", "lenet_5", "-o", str(tmp_path / "x.png")]), "lenet_5")
    assert_clean_error(runner.invoke(app, ["plot", "lenet5", "-o", str(tmp_path / "missing" / "x.png")]),
                       "cannot write")


def test_without_matplotlib_the_message_names_the_extra(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    message = assert_clean_error(runner.invoke(app, ["plot", "lenet5", "-o", str(tmp_path / "x.png")]))
    assert 'pip install "archcalc[plot]"' in message
    assert not (tmp_path / "x.png").exists()


def test_params_imports_neither_matplotlib_nor_torch_nor_pillow():
    code = ("import sys\nfrom archcalc.cli import run\nrun(['params', 'resnet50'])\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'torch', 'PIL', 'onnx', 'numpy'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_per_stage_numbers_are_the_analysis_totals():
    from archcalc.render.plotdata import per_layer

    report = analyze(load("resnet50"))
    assert sum(per_layer(report, "params").stage_values) == report.total.params
    assert sum(per_layer(report, "flops").stage_values) == report.total.flops


def test_names_are_shown_as_written_never_as_formulas(tmp_path):
    spec = tmp_path / "odd.yaml"  # '$' would start matplotlib's mathtext, and a broken formula fails the figure
    spec.write_text("name: 'cost $\\frac{1$ each'\ninput: 1x8x8\nlayers:\n"
                    "  - {name: a, type: conv2d, out_channels: 2, kernel_size: 3}\n  - {name: b, type: relu}\n")
    for kind in ("params", "rf"):
        assert "cost $\\frac{1$ each" in svg_texts(plot(tmp_path, str(spec), kind, ".svg"))
    plot(tmp_path, str(spec), "memory", ".png")
