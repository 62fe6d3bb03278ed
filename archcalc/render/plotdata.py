"""What `archcalc plot` draws, as plain data (no matplotlib): one value per layer and per stage,
the stage each layer belongs to, the readable unit of an axis, which layer names to label, and
the receptive-field series. archcalc.render.plots turns these into a figure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..analysis import Report, Row, fold

KINDS = ("params", "flops", "activations", "rf", "memory")
# At most this many layer names under the per-layer axis: more would overlap at a slide's size.
MAX_LABELS = 36
# A longer layer name under the axis keeps its end ('...denseblock3.denselayer32.conv1' would
# take half the figure's height); the bar's colour says its stage.
LABEL_CHARACTERS = 24
# A per-stage panel with more bars than this says nothing more than the per-layer one does (a
# chain of 2,500 repeated units); such a net is drawn per layer only.
MAX_STAGES = 60
# Stages are the groups of the shallowest nesting depth (up to this) with two groups or more:
# ResNet's layer1..layer4 (depth 1), DenseNet's dense blocks and transitions (depth 2).
MAX_STAGE_DEPTH = 3

COUNT_UNITS = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K"))
BYTE_UNITS = ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"))


@dataclass(frozen=True)
class Unit:
    """An axis's readable unit: values are divided by ``scale`` and the label says ``name``."""

    scale: float
    name: str


def count_unit(largest: float, what: str) -> Unit:
    """K/M/G/T of ``what`` for an axis whose largest value is ``largest`` ('M parameters')."""
    for scale, prefix in COUNT_UNITS:
        if largest >= scale:
            return Unit(scale, f"{prefix} {what}" if what else prefix)
    return Unit(1.0, what)


def byte_unit(largest: float) -> Unit:
    for scale, name in BYTE_UNITS:
        if largest >= scale:
            return Unit(float(scale), name)
    return Unit(1.0, "bytes")


@dataclass(frozen=True)
class Figure:
    """One per-layer figure (params, flops, activations): values per layer, grouped into stages."""

    kind: str
    title: str
    axis: str  # what is counted, for the axis label: 'parameters'
    unit: Unit
    names: list[str]  # layer names, in topological order
    values: list[int]
    stage_of: list[int]  # per layer: index into stages (-1: the layer belongs to no stage)
    stages: list[str]  # stage names in order of first appearance
    grouped: list[bool]  # per stage: a group of layers (False: a single layer between groups)
    stage_values: list[int]  # per stage; [] when the net has no stages worth a panel
    stage_unit: Unit
    labelled: list[int]  # indices of the layers whose names label the axis


def thinned(count: int, limit: int = MAX_LABELS) -> list[int]:
    """Evenly spaced indices into ``count`` items, at most ``limit``, first and last included."""
    if count <= limit:
        return list(range(count))
    step = math.ceil((count - 1) / (limit - 1))
    picked = list(range(0, count, step))
    if picked[-1] != count - 1:
        picked[-1] = count - 1
    return picked


def label(name: str) -> str:
    return name if len(name) <= LABEL_CHARACTERS else "..." + name[len(name) - LABEL_CHARACTERS + 3:]


def stage_rows(report: Report) -> tuple[list[Row], int]:
    """The net's stages and the depth they sit at: the folded rows of the shallowest depth with
    at least two groups ([], 0 when no depth has them or there are too many to draw)."""
    for depth in range(1, MAX_STAGE_DEPTH + 1):
        rows = fold(report, depth)
        if sum(1 for r in rows if r.folded > 1) >= 2:
            return (rows, depth) if len(rows) <= MAX_STAGES else ([], 0)
    return [], 0


def _stage_key(name: str, depth: int) -> str:
    return ".".join(name.split(".")[:depth])


VALUES = {
    "params": ("parameters per layer", "parameters", lambda report, row: row.params),
    "flops": ("forward FLOPs per layer", "FLOPs", lambda report, row: row.flops),
    "activations": ("activation memory per layer", "activation memory", lambda report, row: row.activations * report.dtype_bytes),
}


def per_layer(report: Report, kind: str) -> Figure:
    """The per-layer (and per-stage) figure of ``kind``: params, flops or activations."""
    title, axis, value = VALUES[kind]
    names = [r.name for r in report.rows]
    values = [value(report, r) for r in report.rows]
    stage_list, depth = stage_rows(report)
    stages = [r.name for r in stage_list]
    index = {name: i for i, name in enumerate(stages)}
    stage_of = [index.get(_stage_key(n, depth), -1) for n in names] if depth else [-1] * len(names)
    stage_values = [value(report, r) for r in stage_list]
    units = byte_unit if kind == "activations" else (lambda largest: count_unit(largest, axis))
    return Figure(kind, title, axis, units(max(values, default=0)), names,
                  values, stage_of, stages, [r.folded > 1 for r in stage_list], stage_values, units(max(stage_values, default=0)), thinned(len(names)))


@dataclass(frozen=True)
class FieldSeries:
    """Receptive-field size and effective stride per layer along each axis (None where the field
    is not a window: 'whole' rows are drawn at the input size and marked, unknown rows are gaps)."""

    axes: tuple[str, ...]  # 'height', 'width' (one entry when both agree everywhere)
    input_size: tuple[int, ...]
    names: list[str]
    sizes: list[tuple[int | None, ...]]
    strides: list[tuple[float | None, ...]]
    whole: list[int]  # indices of layers whose field is the whole input
    labelled: list[int]


def field_series(report: Report) -> FieldSeries:
    spatial = tuple(report.input[1:]) or tuple(report.input)
    axes_count = 2 if len(spatial) >= 2 else 1
    sizes, strides, whole = [], [], []
    for index, row in enumerate(report.rows):
        rf = row.rf
        if rf.kind == "whole":
            whole.append(index)
            sizes.append(tuple(spatial[-axes_count:]))
            strides.append((None,) * axes_count)
        elif rf.axes is None:
            sizes.append((None,) * axes_count)
            strides.append((None,) * axes_count)
        else:
            sizes.append(tuple(a.size for a in rf.axes[-axes_count:]))
            strides.append(tuple(float(Fraction(a.stride)) for a in rf.axes[-axes_count:]))
    names = ("height", "width") if axes_count == 2 else ("length",)
    same = axes_count == 2 and all(s[0] == s[1] for s in sizes) and all(s[0] == s[1] for s in strides) \
        and spatial[-1] == spatial[-2]
    if same:
        names, sizes, strides = ("height and width",), [s[:1] for s in sizes], [s[:1] for s in strides]
    input_size = (spatial[-1],) if same else tuple(spatial[-axes_count:])
    return FieldSeries(names, input_size, [r.name for r in report.rows], sizes, strides, whole,
                       thinned(len(report.rows)))
