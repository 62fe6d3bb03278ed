"""Where `archcalc rf --draw` puts things, as plain numbers (no Pillow): the exact receptive
field of one output position of one layer (archcalc.analysis.rf: per-axis start and end, which
may lie beyond the input's borders, in its padding), its part on the real input, its centre,
its neighbours' centres (the effective stride), and the canvas: the input scaled, with margins
wide enough to show the padding part. archcalc.render.fieldimage draws it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..analysis import Report, Row
from ..errors import UsageError, clip, near_miss

# The canvas's long side when --scale is not given: small inputs are enlarged (by a whole
# factor, so input pixels stay square blocks), large ones reduced.
TARGET_PIXELS = 768
# A scale that would make a canvas longer than this (pixels) is refused.
MAX_CANVAS_PIXELS = 8192
POSITION = re.compile(r"\s*(\d{1,9})\s*[,x]\s*(\d{1,9})\s*$")


@dataclass(frozen=True)
class Span:
    """One axis of the field, in input positions (inclusive; negative or past the end: padding)."""

    start: int
    end: int
    centre: Fraction
    stride: Fraction
    size: int  # the input's size along this axis

    @property
    def real(self) -> tuple[int, int] | None:
        """The part on the real input, or None when the position reads padding only."""
        low, high = max(self.start, 0), min(self.end, self.size - 1)
        return (low, high) if low <= high else None

    @property
    def before(self) -> int:
        """Padding positions the field reaches before the first input position."""
        return max(0, -self.start)

    @property
    def after(self) -> int:
        return max(0, self.end - (self.size - 1))


@dataclass(frozen=True)
class FieldBox:
    layer: str
    output: tuple[int, int]  # the layer's output height and width
    position: tuple[int, int]  # the output position (row, column)
    rows: Span
    cols: Span
    neighbours: tuple[tuple[tuple[int, int], tuple[Fraction, Fraction]], ...]  # (position, centre) of the 4 around it
    margins: tuple[int, int, int, int]  # top, bottom, left, right, in input pixels (padding shown)
    cut: tuple[int, int, int, int]  # padding positions beyond each margin, not shown
    scale: float  # canvas pixels per input pixel

    @property
    def input_size(self) -> tuple[int, int]:
        return self.rows.size, self.cols.size

    @property
    def canvas(self) -> tuple[int, int]:
        """Canvas width and height in pixels (the caption below not included)."""
        top, bottom, left, right = self.margins
        return (self.pixel(self.cols.size + left + right), self.pixel(self.rows.size + top + bottom))

    def pixel(self, value) -> int:
        return int(round(float(value) * self.scale))

    def x(self, col) -> int:
        """Canvas x of the left edge of input column ``col`` (fractions: inside a pixel)."""
        return self.pixel(col + self.margins[2])

    def y(self, row) -> int:
        return self.pixel(row + self.margins[0])

    def rectangle(self, rows: tuple[int, int], cols: tuple[int, int]) -> tuple[int, int, int, int]:
        """Canvas pixels (x0, y0, x1, y1), inclusive, covering input rows and columns (inclusive);
        clamped to the canvas where the field runs past a cut margin."""
        width, height = self.canvas
        x0, y0 = self.x(max(cols[0], -self.margins[2])), self.y(max(rows[0], -self.margins[0]))
        x1 = self.x(min(cols[1], self.cols.size - 1 + self.margins[3]) + 1) - 1
        y1 = self.y(min(rows[1], self.rows.size - 1 + self.margins[1]) + 1) - 1
        return max(0, x0), max(0, y0), min(width - 1, x1), min(height - 1, y1)

    @property
    def field(self) -> tuple[int, int, int, int]:
        """The whole field (padding included) on the canvas."""
        return self.rectangle((self.rows.start, self.rows.end), (self.cols.start, self.cols.end))

    @property
    def image(self) -> tuple[int, int, int, int]:
        return self.rectangle((0, self.rows.size - 1), (0, self.cols.size - 1))

    def centre_pixel(self, centre: tuple[Fraction, Fraction]) -> tuple[float, float]:
        """Canvas (x, y) of a field centre: the middle of input pixel c is at c + 1/2."""
        row, col = centre
        return (float(col + self.margins[2] + Fraction(1, 2)) * self.scale,
                float(row + self.margins[0] + Fraction(1, 2)) * self.scale)


def spatial_input(report: Report) -> tuple[int, int]:
    if len(report.input) != 3:
        shape = "x".join(map(str, report.input))
        raise UsageError(f"drawing a receptive field needs an image input (CxHxW), and {report.name}'s input is {shape}")
    return report.input[1], report.input[2]


def pick_layer(report: Report, name: str | None) -> Row:
    """The row named ``name`` (a near-miss hint when there is none); without a name, the last
    layer whose field is a window of the input."""
    spatial_input(report)
    if name is None:
        for row in reversed(report.rows):
            if row.rf.kind == "field" and row.rf.axes is not None and len(row.output) == 3:
                return row
        raise UsageError(f"no layer of {report.name} has a receptive field to draw")
    rows = {r.name: r for r in report.rows}
    row = rows.get(name)
    if row is None:
        head = name.split(".")[0]
        candidates = [n for n in rows if n.split(".")[0] == head] + [n for n in rows if n.split(".")[0] != head]
        near = near_miss(name, candidates)
        hint = f"; did you mean '{clip(near[0])}'?" if near else " (archcalc rf SPEC lists the layers)"
        raise UsageError(f"{report.name} has no layer '{clip(name)}'{hint}")
    if len(row.output) != 3:
        shape = "x".join(map(str, row.output))
        raise UsageError(f"layer '{clip(name)}' has no spatial positions (its output is {shape}); pick a layer with a CxHxW output")
    if row.rf.kind == "whole":
        raise UsageError(f"every output of layer '{clip(name)}' sees the whole input; pick an earlier layer")
    if row.rf.axes is None:
        raise UsageError(f"layer '{clip(name)}' has no receptive field as a window of the input ({row.rf.reason})")
    return row


def parse_position(text: str | None, row: Row) -> tuple[int, int]:
    """--at ROW,COL checked against the layer's output; without it, the middle position."""
    height, width = row.output[1], row.output[2]
    if text is None:
        return height // 2, width // 2
    match = POSITION.match(text)
    if match is None:
        raise UsageError(f"--at takes ROW,COL (two whole numbers from 0, e.g. 3,4), got '{clip(text)}'")
    position = int(match[1]), int(match[2])
    if position[0] >= height or position[1] >= width:
        raise UsageError(f"--at {position[0]},{position[1]} is outside the {height}x{width} output of '{clip(row.name)}' "
                         f"(rows 0-{height - 1}, columns 0-{width - 1})")
    return position


def _span(axis, o: int, size: int, what: str, row: Row) -> Span:
    start, end = axis.start(o), axis.end(o)
    if start is None:
        raise UsageError(f"output {what} {o} of '{clip(row.name)}' reads no input position")
    return Span(start, end, Fraction(start + end, 2), axis.stride, size)


def choose_scale(long_side: int, scale: float | None) -> float:
    if scale is not None:
        if not 0 < scale or long_side * scale > MAX_CANVAS_PIXELS:
            raise UsageError(f"--scale {scale:g} would make a picture {long_side * scale:,.0f} pixels long "
                             f"(at most {MAX_CANVAS_PIXELS:,})")
        return float(scale)
    if long_side <= TARGET_PIXELS:
        return float(TARGET_PIXELS // long_side)
    return TARGET_PIXELS / long_side


def field_box(report: Report, row: Row, position: tuple[int, int], scale: float | None = None) -> FieldBox:
    height, width = spatial_input(report)
    row_axis, col_axis = row.rf.axes
    rows = _span(row_axis, position[0], height, "row", row)
    cols = _span(col_axis, position[1], width, "column", row)
    # padding shown up to the input's long side on each side; beyond it the picture is cut
    limit = max(height, width)
    wanted = (rows.before, rows.after, cols.before, cols.after)
    margins = tuple(min(w, limit) for w in wanted)
    cut = tuple(w - m for w, m in zip(wanted, margins))
    neighbours = []
    out_h, out_w = row.output[1], row.output[2]
    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        r, c = position[0] + dr, position[1] + dc
        if 0 <= r < out_h and 0 <= c < out_w and row_axis.start(r) is not None and col_axis.start(c) is not None:
            neighbours.append(((r, c), (row_axis.centre(r), col_axis.centre(c))))
    long_side = max(height + margins[0] + margins[1], width + margins[2] + margins[3])
    return FieldBox(row.name, (out_h, out_w), position, rows, cols, tuple(neighbours), margins, cut,
                    choose_scale(long_side, scale))
