"""Small inline SVG charts for the report, written in Python (no plotting library): bars per
layer or stage, lines against depth with a marked level, and a horizontal breakdown. Every label
is escaped; each bar carries a <title> with its exact value."""

from __future__ import annotations

import math
from html import escape
from typing import Callable, Sequence

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 28, 72
COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#c53030", "#4a5568")


def _ticks(high: float, count: int = 4) -> list[float]:
    if high <= 0:
        return [0.0]
    raw = high / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.9999)
    return [step * i for i in range(int(high // step) + 2)]


def _frame(title: str, y_label: str, x_label: str, high: float, fmt: Callable[[float], str]) -> tuple[list[str], float]:
    """The chart's opening, title, axis labels and y grid; returns the parts and the y top."""
    ticks = _ticks(high)
    top = max(ticks[-1], high) or 1
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
             f'<text class="chart-title" x="{LEFT}" y="16">{escape(title)}</text>',
             f'<text class="axis-label" x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{HEIGHT - 6}" text-anchor="middle">{escape(x_label)}</text>',
             f'<text class="axis-label" transform="translate(14,{TOP + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle">{escape(y_label)}</text>']
    for tick in ticks:
        y = TOP + plot_h * (1 - tick / top)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="tick" x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(tick))}</text>')
    return parts, top


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float], y_label: str, x_label: str,
              fmt: Callable[[float], str], exact: Callable[[float], str] | None = None,
              ticks: Sequence[str] | None = None) -> str:
    """One bar per label (its tooltip); ``ticks`` (default: the labels) are written under the
    bars when they fit, else every few."""
    ticks = labels if ticks is None else ticks
    high = max(values, default=0)
    parts, top = _frame(title, y_label, x_label, high, fmt)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(values), 1)
    every = max(1, int(60 // slot) + (1 if slot < 60 else 0))
    for i, (label, tick, value) in enumerate(zip(labels, ticks, values)):
        h = plot_h * value / top
        x = LEFT + i * slot
        text = exact(value) if exact else f"{value:,}"
        parts.append(f'<rect class="bar" x="{x + slot * 0.1:.2f}" y="{TOP + plot_h - h:.2f}" width="{max(slot * 0.8, 0.5):.2f}" '
                     f'height="{h:.2f}"><title>{escape(label)}: {escape(text)}</title></rect>')
        if len(values) <= 24 or i % every == 0:
            room = 14 if len(values) > 8 else int(slot // 6.5)
            short = tick if len(tick) <= room else tick[:room - 1] + "\u2026"
            parts.append(f'<text class="tick" x="{x + slot / 2:.1f}" y="{TOP + plot_h + 12}" text-anchor="middle">{escape(short)}</text>'
                         if len(values) <= 8 else
                         f'<text class="tick" transform="translate({x + slot / 2:.1f},{TOP + plot_h + 8}) rotate(30)">{escape(short)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, series: Sequence[tuple[str, Sequence[float | None]]], y_label: str, x_label: str,
               fmt: Callable[[float], str], mark: tuple[float, str] | None = None) -> str:
    """Lines over the layer index (None: no point there); ``mark``: a dashed level and its label."""
    points = [v for _, values in series for v in values if v is not None]
    high = max(points + ([mark[0]] if mark else []), default=0)
    parts, top = _frame(title, y_label, x_label, high, fmt)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max((len(values) for _, values in series), default=1)
    step = plot_w / max(count - 1, 1)
    for k, (name, values) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        path, pen = [], "M"
        for i, value in enumerate(values):
            if value is None:
                pen = "M"
                continue
            path.append(f"{pen}{LEFT + i * step:.1f} {TOP + plot_h * (1 - value / top):.1f}")
            pen = "L"
        parts.append(f'<path class="line" stroke="{colour}" d="{" ".join(path)}"/>')
        parts.append(f'<text class="legend" x="{WIDTH - RIGHT - 200}" y="{TOP + 14 + 14 * k}" fill="{colour}">{escape(name)}</text>')
    if mark:
        y = TOP + plot_h * (1 - mark[0] / top)
        parts.append(f'<line class="mark" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="mark-label" x="{LEFT + 6}" y="{y - 4:.1f}">{escape(mark[1])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def breakdown_chart(title: str, lines: Sequence[tuple[str, int, str]], fmt: Callable[[float], str]) -> str:
    """Horizontal bars, one per (name, bytes, formula), with the total."""
    bar_h, gap, label_w = 18, 6, 230
    height = TOP + len(lines) * (bar_h + gap) + 30
    high = max((b for _, b, _ in lines), default=0) or 1
    total = sum(b for _, b, _ in lines)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
             f'<text class="chart-title" x="8" y="16">{escape(title)} \u2014 total {escape(fmt(total))}</text>']
    for i, (name, value, formula) in enumerate(lines):
        y = TOP + i * (bar_h + gap)
        w = (WIDTH - label_w - 110) * value / high
        parts.append(f'<text class="tick" x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(name)}</text>'
                     f'<rect class="bar" x="{label_w}" y="{y}" width="{max(w, 0.5):.1f}" height="{bar_h}">'
                     f'<title>{escape(name)}: {value:,} B = {escape(formula)}</title></rect>'
                     f'<text class="tick" x="{label_w + w + 6:.1f}" y="{y + 13}">{escape(fmt(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def ratio_chart(title: str, figures: Sequence[str], nets: Sequence[str], ratios: Sequence[Sequence[float | None]]) -> str:
    """Grouped bars: for each figure, each net's value as a ratio to the first net's (1.0)."""
    values = [r for row in ratios for r in row if r is not None]
    parts, top = _frame(title, "ratio to the first net", "figure", max(values + [1.0]), lambda v: f"{v:g}x")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / max(len(figures), 1)
    bar = group * 0.8 / max(len(nets), 1)
    for f, name in enumerate(figures):
        x0 = LEFT + f * group + group * 0.1
        for n, net in enumerate(nets):
            value = ratios[f][n]
            if value is None:
                continue
            h = plot_h * value / top
            parts.append(f'<rect x="{x0 + n * bar:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar * 0.9:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS[n % len(COLOURS)]}"><title>{escape(net)}, {escape(name)}: {value:.2f}x</title></rect>')
        parts.append(f'<text class="tick" x="{x0 + group * 0.4:.1f}" y="{TOP + plot_h + 12}" text-anchor="middle">{escape(name)}</text>')
    for n, net in enumerate(nets):
        parts.append(f'<text class="legend" x="{LEFT + 8}" y="{TOP + 12 + 14 * n}" fill="{COLOURS[n % len(COLOURS)]}">{escape(net)}</text>')
    parts.append("</svg>")
    return "".join(parts)
