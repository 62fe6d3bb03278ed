"""`archcalc plot`: figures for papers and slides with matplotlib (imported here, lazily, only
when a plot is drawn; the 'plot' extra). The data comes from archcalc.render.plotdata; this
module only lays it out. No pyplot: a Figure with its own Agg canvas, so no global state and
no GUI backend is ever touched."""

from __future__ import annotations

from pathlib import Path

from ..errors import ArchcalcError, UsageError
from .escape import visible
from .plotdata import FieldSeries, Figure, byte_unit, field_series, per_layer
from .plotdata import label as short_label

PLOT_MISSING = 'archcalc plot needs matplotlib, which is not installed: pip install "archcalc[plot]"'
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
SLIDE_INCHES = (13.33, 7.5)  # a 16:9 slide
FONT_SIZE = 14
# Past this many layers, bars become one line collection (a bar is a patch: 10,000 of them
# take seconds to draw); they look the same at that density.
MAX_BARS = 400
# Stage colours, repeating; a layer outside every stage is grey.
PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd")
NO_STAGE = "#9a9a9a"


def text(name: str) -> str:
    """A user's name as matplotlib shows it literally: control characters escaped, and '$' (which
    would start mathtext, and a malformed formula fails the whole figure) escaped."""
    return visible(name).replace("$", r"\$")


def label(name: str) -> str:
    return text(short_label(name))


def require_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ArchcalcError(PLOT_MISSING) from None


def output_format(path: Path) -> str:
    """png, svg or pdf from the output's suffix; anything else is the user's mistake."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        shown = path.suffix or "no suffix"
        raise UsageError(f"cannot tell the format of {path.name} ({shown}): the output must end in .png, .svg or .pdf")
    return fmt


def new_figure(rows: int, ratios=None):
    from matplotlib.figure import Figure as MplFigure

    figure = MplFigure(figsize=SLIDE_INCHES, layout="constrained")
    axes = figure.subplots(rows, 1, squeeze=False, gridspec_kw={"height_ratios": ratios} if ratios else None)
    return figure, [a[0] for a in axes]


def _bars(axis, xs, heights, colours) -> None:
    if len(xs) <= MAX_BARS:
        axis.bar(xs, heights, width=0.85, color=colours, linewidth=0)
    else:
        width = max(0.4, min(3.0, 600 / len(xs)))
        _lines(axis, xs, heights, colours, width)
    axis.set_xlim(-0.6, len(xs) - 0.4)


def _lines(axis, xs, heights, colours, width) -> None:
    """What ``axis.vlines(xs, 0, heights, colors=colours, linewidth=width)`` draws, as one line
    collection built from arrays: vlines goes through masked arrays and converts every colour
    name on its own (a third of the drawing on 10,000 layers); here each distinct colour is
    converted once."""
    import numpy as np
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba_array

    x = np.asarray(xs, dtype=float)
    top = np.asarray(heights, dtype=float)
    segments = np.stack([np.column_stack([x, np.zeros_like(x)]), np.column_stack([x, top])], axis=1)
    names = sorted(set(colours))
    palette = to_rgba_array(names)
    rgba = palette[np.searchsorted(np.array(names), np.array(colours))]
    lines = LineCollection(segments, colors=rgba, linewidths=width, linestyles="solid", label="")
    axis.add_collection(lines, autolim=False)
    axis.update_datalim([(x.min(), min(0.0, top.min())), (x.max(), max(0.0, top.max()))])
    axis.autoscale_view()


def stage_colours(data: Figure) -> list[str]:
    """A colour per stage: the groups take the palette in turn, single layers between them are grey."""
    colours, groups = [], 0
    for grouped in data.grouped:
        colours.append(PALETTE[groups % len(PALETTE)] if grouped else NO_STAGE)
        groups += grouped
    return colours


def _layer_ticks(axis, names, labelled) -> None:
    axis.set_xticks(labelled)
    small = max(7, FONT_SIZE - 4 - len(labelled) // 12)
    axis.set_xticklabels([label(names[i]) for i in labelled], rotation=90, fontsize=small)


def per_layer_figure(report, kind: str):
    data: Figure = per_layer(report, kind)
    panels = 2 if data.stage_values else 1
    figure, axes = new_figure(panels, [3, 2] if panels == 2 else None)
    by_stage = stage_colours(data)
    colours = [NO_STAGE if s < 0 else by_stage[s] for s in data.stage_of]
    top = axes[0]
    _bars(top, range(len(data.values)), [v / data.unit.scale for v in data.values], colours)
    top.set_ylabel(_axis_label(data, data.unit))
    top.set_xlabel(f"layer ({len(data.names):,} in order)")
    _layer_ticks(top, data.names, data.labelled)
    batch = f", batch {report.batch}" if kind != "params" else ""
    top.set_title(f"{text(report.name)}: {data.title} ({_input_text(report)}{batch}{_dtype(report, kind)})")
    if panels == 2:
        _stage_panel(axes[1], data, by_stage)
    for axis in axes:
        axis.grid(axis="y", alpha=0.3)
        axis.set_axisbelow(True)
    return figure


def _axis_label(data: Figure, unit) -> str:
    return f"{data.axis} ({unit.name})" if data.kind == "activations" else unit.name


def _stage_panel(axis, data: Figure, colours: list[str]) -> None:
    xs = list(range(len(data.stage_values)))
    axis.bar(xs, [v / data.stage_unit.scale for v in data.stage_values], color=colours, width=0.8)
    axis.set_xticks(xs)
    slanted = len(data.stages) > 8
    axis.set_xticklabels([label(s) for s in data.stages], rotation=30 if slanted else 0, ha="right" if slanted else "center",
                         fontsize=max(8, FONT_SIZE - 2 - len(data.stages) // 10))
    axis.set_ylabel(_axis_label(data, data.stage_unit))
    axis.set_title("per stage")


def _input_text(report) -> str:
    return "input " + "x".join(map(str, report.input))


def _dtype(report, kind: str) -> str:
    return f", {report.dtype}" if kind == "activations" else ""


def rf_figure(report):
    data: FieldSeries = field_series(report)
    figure, (sizes, strides) = new_figure(2, [3, 2])
    xs = list(range(len(data.names)))
    styles = ("-", "--")
    for axis_index, axis_name in enumerate(data.axes):
        label = "" if len(data.axes) == 1 else f" ({axis_name})"
        sizes.plot(xs, [_gap(s[axis_index]) for s in data.sizes], styles[axis_index], color="#4c72b0", linewidth=2,
                   label=f"receptive field{label}", drawstyle="steps-post")
        strides.plot(xs, [_gap(s[axis_index]) for s in data.strides], styles[axis_index], color="#c44e52", linewidth=2,
                     label=f"effective stride{label}", drawstyle="steps-post")
        sizes.axhline(data.input_size[axis_index], color="#333333", linestyle=":", linewidth=1.5)
        sizes.annotate(f"input {axis_name if len(data.axes) > 1 else 'size'} {data.input_size[axis_index]}",
                       (0, data.input_size[axis_index]), xytext=(4, 4), textcoords="offset points", fontsize=FONT_SIZE - 2)
    if data.whole:
        sizes.plot(data.whole, [data.sizes[i][0] for i in data.whole], "o", color="#55a868", markersize=5,
                   label="sees the whole input")
    sizes.set_ylabel("receptive field (input pixels)")
    strides.set_ylabel("effective stride (input pixels)")
    strides.set_xlabel(f"layer ({len(data.names):,} in order)")
    sizes.set_title(f"{text(report.name)}: receptive field and effective stride by depth ({_input_text(report)})")
    for axis in (sizes, strides):
        axis.grid(alpha=0.3)
        axis.legend(loc="upper left", fontsize=FONT_SIZE - 3)
        axis.set_xlim(-0.5, max(len(xs) - 0.5, 0.5))
        axis.set_ylim(bottom=0)
    sizes.tick_params(labelbottom=False)
    _layer_ticks(strides, data.names, data.labelled)
    return figure


def _gap(value):
    return float("nan") if value is None else value


def memory_figure(result):
    """The training step's and inference's breakdowns (archcalc memory) as two stacked bars."""
    figure, (axis,) = new_figure(1)
    bars = [("training step", result.training), ("inference", result.inference)]
    unit = byte_unit(max(result.training_total, result.inference_total))
    bars = [(label, [line for line in lines if line.bytes]) for label, lines in bars]  # a zero part: not in the legend
    names = list(dict.fromkeys(line.name for _, lines in bars for line in lines))
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    seen: set[str] = set()
    for y, (label, lines) in enumerate(reversed(bars)):
        left = 0.0
        for line in lines:
            width = line.bytes / unit.scale
            axis.barh(y, width, left=left, color=colours[line.name], edgecolor="white", height=0.6,
                      label=None if line.name in seen else line.name)
            seen.add(line.name)
            left += width
        axis.annotate(f"{left:,.1f} {unit.name}", (left, y), xytext=(6, 0), textcoords="offset points",
                      va="center", fontsize=FONT_SIZE)
    axis.set_yticks([0, 1])
    axis.set_yticklabels([label for label, _ in reversed(bars)])
    axis.set_xlabel(f"memory ({unit.name})")
    axis.set_xlim(0, max(result.training_total, result.inference_total) / unit.scale * 1.18)
    axis.set_title(f"{text(result.name)}: memory of a training step ({result.optimizer}) and of inference "
                   f"(batch {result.batch}, {result.dtype})")
    handles, labels = axis.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axis.legend([unique[n] for n in names if n in unique], [n for n in names if n in unique],
                loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=min(4, len(unique)), fontsize=FONT_SIZE - 2,
                frameon=False)
    axis.grid(axis="x", alpha=0.3)
    axis.set_axisbelow(True)
    return figure


def _style():
    import matplotlib

    # svg keeps text as text; neither svg nor pdf stamps a date, so the same net gives the same file
    return matplotlib.rc_context({"font.size": FONT_SIZE, "axes.titlesize": FONT_SIZE + 2, "axes.labelsize": FONT_SIZE,
                                  "xtick.labelsize": FONT_SIZE - 2, "ytick.labelsize": FONT_SIZE - 2,
                                  "svg.fonttype": "none", "svg.hashsalt": "archcalc", "pdf.fonttype": 42})


def plot(kind: str, report, memory=None):
    """The matplotlib Figure of ``kind`` for ``report`` (``memory``: archcalc memory's result)."""
    with _style():
        if kind == "rf":
            return rf_figure(report)
        if kind == "memory":
            return memory_figure(memory)
        return per_layer_figure(report, kind)


def write_plot(kind: str, report, path: Path, dpi: int = 150, memory=None) -> str:
    """Draw ``kind`` and write it to ``path`` (png, svg or pdf by its suffix); returns the format."""
    fmt = output_format(path)
    require_matplotlib()
    with _style():
        figure = plot(kind, report, memory)
        metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
        try:
            figure.savefig(path, format=fmt, dpi=dpi, metadata=metadata)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return fmt
