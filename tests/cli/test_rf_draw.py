"""`archcalc rf --draw IMAGE | --checkerboard`: the picture read back pixel by pixel against the
field the analysis computes (archcalc.analysis.rf: start and end per axis, padding included)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archcalc import analyze, load
from archcalc.cli import app
from archcalc.render.fieldimage import CHECKER, CHECKER_CELL, FIELD, MARGIN, PADDING
from cli_checks import assert_clean_error, runner

Image = pytest.importorskip("PIL.Image", reason="Pillow, the plot extra")

ASYMMETRIC = """name: asym_joins
input: 3x33x31
layers:
  - {name: stem, type: conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: tf_same}
  - {name: a, type: conv2d, out_channels: 8, kernel_size: 3, padding: [0, 2, 1, 1], bias: false, inputs: [stem]}
  - {name: b, type: maxpool2d, kernel_size: 3, stride: 1, padding: tf_same, inputs: [stem]}
  - {name: sum, type: add, inputs: [a, b]}
  - {name: cat, type: concat, inputs: [sum, stem]}
  - {name: relu, type: relu}
  - {name: pool, type: global_avgpool2d}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out_features: 5}
"""


def expected_geometry(spec: str, layer: str, at: tuple[int, int]):
    """The field's rows and columns (inclusive) and the margins, straight from the analysis."""
    report = analyze(load(spec))
    row = next(r for r in report.rows if r.name == layer)
    rows_axis, cols_axis = row.rf.axes
    rows = rows_axis.start(at[0]), rows_axis.end(at[0])
    cols = cols_axis.start(at[1]), cols_axis.end(at[1])
    height, width = report.input[1:]
    margins = (max(0, -rows[0]), max(0, rows[1] - height + 1), max(0, -cols[0]), max(0, cols[1] - width + 1))
    return rows, cols, (height, width), margins


def draw(tmp_path, spec, layer, at, scale, *source, name="out.png"):
    target = tmp_path / name
    result = runner.invoke(app, ["rf", spec, *source, "--layer", layer, "--at", f"{at[0]},{at[1]}", "--scale",
                                 str(scale), "-o", str(target)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout == "" and f"wrote {target}" in result.stderr
    return Image.open(target).convert("RGB")


class Canvas:
    """Canvas pixels of input positions for a scale and margins, as the docs state them."""

    def __init__(self, scale, margins):
        self.scale, self.margins = scale, margins

    def x(self, col):
        return (col + self.margins[2]) * self.scale

    def y(self, row):
        return (row + self.margins[0]) * self.scale

    def box(self, rows, cols):
        return self.x(cols[0]), self.y(rows[0]), self.x(cols[1] + 1) - 1, self.y(rows[1] + 1) - 1


def checker(row, col):
    return CHECKER[((row // CHECKER_CELL) + (col // CHECKER_CELL)) % 2]


def check_field(picture, rows, cols, size, margins, scale):
    canvas = Canvas(scale, margins)
    height, width = size
    x0, y0, x1, y1 = canvas.box(rows, cols)
    assert picture.width == max((width + margins[2] + margins[3]) * scale, 480)
    assert picture.height > (height + margins[0] + margins[1]) * scale  # the caption below
    # the outline on all four edges, at a quarter and three quarters along (the centre marks
    # run through the middles)
    for t in (0.25, 0.75):
        xq, yq = int(x0 + t * (x1 - x0)), int(y0 + t * (y1 - y0))
        for point in ((x0, yq), (x1, yq), (xq, y0), (xq, y1)):
            assert picture.getpixel(point) == FIELD, point
    # just outside the field: not the outline
    for point in ((x0 - 1, (y0 + y1) // 3), (x1 + 1, (y0 + y1) // 3), ((x0 + x1) // 3, y0 - 1), ((x0 + x1) // 3, y1 + 1)):
        if 0 <= point[0] < (width + margins[2] + margins[3]) * scale and 0 <= point[1] < (height + margins[0] + margins[1]) * scale:
            assert picture.getpixel(point) != FIELD, point
    return canvas


def test_a_field_reaching_into_the_top_padding_on_a_checkerboard(tmp_path):
    layer, at, scale = "layer2.0.conv2", (0, 3), 2
    rows, cols, size, margins = expected_geometry("resnet50", layer, at)
    assert rows[0] < 0 and margins[0] == -rows[0] and margins[1:] == (0, 0, 0)  # the case this test is about
    picture = draw(tmp_path, "resnet50", layer, at, scale, "--checkerboard")
    canvas = check_field(picture, rows, cols, size, margins, scale)
    # the field's part in the padding is orange; beside it, padding outside the field is grey
    inside_padding = (canvas.x(cols[0] + 3), canvas.y(-margins[0] // 2))
    assert picture.getpixel(inside_padding) == PADDING
    assert picture.getpixel((canvas.x(cols[1] + 5), canvas.y(-1))) == MARGIN
    # on the input inside the field: the checkerboard at full brightness; outside it: dimmed
    row, col = 2, cols[0] + 3
    assert picture.getpixel((canvas.x(col), canvas.y(row))) == checker(row, col)
    row, col = 100, 150
    dimmed = picture.getpixel((canvas.x(col), canvas.y(row)))
    assert dimmed != checker(row, col) and max(dimmed) < min(checker(row, col))


def test_a_deep_field_larger_than_the_input_is_padding_all_round(tmp_path):
    layer, at, scale = "layer4.2.relu", (1, 5), 1
    rows, cols, size, margins = expected_geometry("resnet50", layer, at)
    assert rows[1] - rows[0] + 1 == 427 and all(margins)
    picture = draw(tmp_path, "resnet50", layer, at, scale, "--checkerboard")
    canvas = check_field(picture, rows, cols, size, margins, scale)
    x0, y0, x1, y1 = canvas.box(rows, cols)
    assert (x0, y0) == (0, 0)  # the canvas is exactly as large as the field reaches
    assert picture.getpixel((x0 + 10, y0 + 10)) == PADDING
    # the whole input lies inside this field: nothing dimmed
    for row, col in ((5, 5), (200, 30), (111, 217)):
        assert picture.getpixel((canvas.x(col), canvas.y(row))) == checker(row, col)


def test_asymmetric_padding_and_joins_on_a_photo(tmp_path):
    spec = tmp_path / "asym.yaml"
    spec.write_text(ASYMMETRIC)
    photo = tmp_path / "photo.png"
    colour = (40, 160, 90)
    Image.new("RGB", (300, 200), colour).save(photo)
    layer, at, scale = "relu", (16, 0), 6
    rows, cols, size, margins = expected_geometry(str(spec), layer, at)
    assert margins[1] > 0 and margins[2] > 0 and margins[0] == margins[3] == 0
    picture = draw(tmp_path, str(spec), layer, at, scale, "--draw", str(photo))
    canvas = check_field(picture, rows, cols, size, margins, scale)
    assert picture.getpixel((canvas.x(cols[0] + 1), canvas.y(rows[0] + 1))) == PADDING  # left of column 0
    assert picture.getpixel((canvas.x(cols[0] + 1), canvas.y(rows[1]) + 1)) == PADDING  # below the last row
    assert picture.getpixel((canvas.x(1), canvas.y(rows[0] + 1))) == colour  # the photo, inside the field
    assert picture.getpixel((canvas.x(size[1] - 2), canvas.y(2))) == tuple(int(c * 0.45) for c in colour)


def test_defaults_the_last_windowed_layer_and_its_middle_position(tmp_path):
    target = tmp_path / "mid.jpg"
    result = runner.invoke(app, ["rf", "lenet5", "--checkerboard", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "c3.pool at row 2, column 2" in result.stderr
    assert Image.open(target).format == "JPEG"


def test_an_image_is_resized_to_the_input(tmp_path):
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (640, 480), (200, 30, 30)).save(photo)
    result = runner.invoke(app, ["rf", "resnet18", "--draw", str(photo), "--layer", "layer1.1.relu", "-o",
                                 str(tmp_path / "a.webp"), "--input", "3x96x128"])
    assert result.exit_code == 0, result.output
    assert "640x480 resized to 128x96" in result.stderr
    assert Image.open(tmp_path / "a.webp").format == "WEBP"


@pytest.mark.parametrize("args, fragments", [
    (["--checkerboard", "--layer", "layer4.2.rleu"], ["no layer 'layer4.2.rleu'", "did you mean 'layer4.2.relu'"]),
    (["--checkerboard", "--layer", "layer4.2.relu", "--at", "7,0"], ["outside the 7x7 output", "rows 0-6"]),
    (["--checkerboard", "--at", "3;4"], ["--at takes ROW,COL"]),
    (["--checkerboard", "--layer", "fc"], ["no spatial positions"]),
    (["--checkerboard", "--layer", "avgpool"], ["sees the whole input"]),
    (["--checkerboard", "--draw", "x.png"], ["give one"]),
    (["--layer", "conv1"], ["add --draw IMAGE or --checkerboard"]),
    (["--checkerboard", "--scale", "60"], ["--scale 60"]),
])
def test_mistakes_are_one_line(tmp_path, args, fragments):
    assert_clean_error(runner.invoke(app, ["rf", "resnet50", *args, "-o", str(tmp_path / "o.png")]), *fragments)
    assert not (tmp_path / "o.png").exists()


def test_file_mistakes_are_one_line(tmp_path):
    bad = tmp_path / "photo.jpg"
    bad.write_text("not a picture")
    assert_clean_error(runner.invoke(app, ["rf", "lenet5", "--draw", str(bad), "-o", str(tmp_path / "o.png")]),
                       "cannot read image", "photo.jpg")
    assert_clean_error(runner.invoke(app, ["rf", "lenet5", "--draw", str(tmp_path / "none.jpg"), "-o",
                                           str(tmp_path / "o.png")]), "no such image")
    assert_clean_error(runner.invoke(app, ["rf", "lenet5", "--checkerboard", "-o", str(tmp_path / "o.gif")]),
                       "must end in .png, .jpg or .webp")
    assert_clean_error(runner.invoke(app, ["rf", "lenet5", "--checkerboard"]), "needs --output")
    assert_clean_error(runner.invoke(app, ["rf", "lenet5", "--checkerboard", "-o", str(tmp_path / "no" / "o.png")]),
                       "cannot write")


def test_a_net_without_an_image_input_is_refused(tmp_path):
    spec = tmp_path / "flat.yaml"
    spec.write_text("name: flat\ninput: 16\nlayers:\n  - {name: fc, type: linear, out_features: 4}\n")
    assert_clean_error(runner.invoke(app, ["rf", str(spec), "--checkerboard", "-o", str(tmp_path / "o.png")]),
                       "needs an image input")


def test_the_table_is_unchanged_without_draw():
    result = runner.invoke(app, ["rf", "lenet5", "-f", "csv"])
    assert result.exit_code == 0 and result.stdout.startswith("Layer,")


def test_a_field_far_wider_than_the_input_is_cut_at_the_input_size_past_each_border(tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from big_specs import chain_spec

    spec = tmp_path / "chain.yaml"
    spec.write_text(chain_spec(500, written_out=False))
    rows, cols, size, wanted = expected_geometry(str(spec), "u100.relu", (0, 31))
    assert size == (32, 32) and min(wanted) > 32  # the field reaches past every border by more than the input
    target = tmp_path / "cut.png"
    result = runner.invoke(app, ["rf", str(spec), "--checkerboard", "--layer", "u100.relu", "--at", "0,31",
                                 "--scale", "3", "-o", str(target)])
    assert result.exit_code == 0, result.output
    picture = Image.open(target).convert("RGB")
    shown = 3 * (32 + 32 + 32)
    assert picture.width == max(shown, 480) and picture.height > shown
    for point in ((0, shown // 4), (shown - 1, shown // 4), (shown // 4, 0), (shown // 4, shown - 1)):
        assert picture.getpixel(point) == FIELD  # the outline runs along the canvas's edges
    assert picture.getpixel((10, 10)) == PADDING
    canvas = Canvas(3, (32, 32, 32, 32))
    assert picture.getpixel((canvas.x(4), canvas.y(20))) == checker(20, 4)  # the whole input is in the field
    from archcalc.render.fieldbox import field_box
    from archcalc.render.fieldimage import caption_lines

    report = analyze(load(str(spec)))
    box = field_box(report, next(r for r in report.rows if r.name == "u100.relu"), (0, 31), 3)
    assert box.margins == (32, 32, 32, 32) and box.cut == tuple(w - 32 for w in wanted)
    top, bottom, left, right = box.cut
    assert f"cut: {top} above, {bottom} below, {left} left, {right} right" in " ".join(caption_lines(box))


def test_without_pillow_the_message_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)  # import PIL -> ImportError
    message = assert_clean_error(runner.invoke(app, ["rf", "lenet5", "--checkerboard", "-o", str(tmp_path / "o.png")]))
    assert 'pip install "archcalc[plot]"' in message and "Pillow" in message
