"""Shared pieces of the homework commands (one-liners, chains, solve): reading the course's
HxWxC notation, and analysing a list of layers given on the command line.

A command-line net is turned into an ordinary spec (JSON is YAML) and goes through the normal
loader and analysis, so shapes, formulas, MACs and receptive fields come from the layer registry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..errors import ArchcalcError, UsageError

LAYOUTS = ("hwc", "chw")
MAX_DIM = 1 << 20
COMMAND_LINE = "<command line>"


@dataclass(frozen=True)
class InputMap:
    """A feature map as the user typed it: the dims in PyTorch order plus how they were read."""

    shape: tuple[int, ...]  # (C, H, W) or (F,)
    layout: str  # "hwc" or "chw"

    def describe(self) -> str:
        return describe_shape(self.shape, self.layout)

    def text(self, shape: tuple[int, ...] | None = None) -> str:
        return shape_in_layout(self.shape if shape is None else shape, self.layout)


def parse_layout(layout: str) -> str:
    value = layout.strip().lower()
    if value not in LAYOUTS:
        raise UsageError(f"--layout must be hwc (the course's HxWxC) or chw (PyTorch's CxHxW), got '{layout}'")
    return value


# sizes beside HxWxC / CxHxW maps and feature counts that --input also reads (channels first):
# CxL sequences and CxTxHxW volumes (archcalc.spec.shapes); the homework commands read neither
OTHER_MAPS = {2: ("CxL", "CL"), 4: ("CxTxHxW", "CTHW")}


def parse_map(text: str, layout: str = "hwc", what: str = "input", other_maps: bool = False) -> InputMap:
    """'40x50x128' (HxWxC by default, CxHxW with layout chw) or a feature count '1024'; with
    ``other_maps``, also CxL and CxTxHxW (channels first only)."""
    layout = parse_layout(layout)
    parts = [p for p in re.split(r"\s*[x×X*,]\s*|\s+", str(text).strip()) if p]
    try:
        dims = [int(p) for p in parts]
    except ValueError:
        example = "40x50x128 (HxWxC)" if layout == "hwc" else "3x224x224 (CxHxW)"
        raise UsageError(f"{what} '{text}' is not a shape like {example} or a feature count like 1024") from None
    if other_maps and len(dims) in OTHER_MAPS:
        if layout == "hwc":
            raise UsageError(f"{what} '{text}' has {len(dims)} sizes: a {OTHER_MAPS[len(dims)][0]} input is written "
                             "channels first (--layout hwc is for HxWxC maps)")
    elif len(dims) not in (1, 3):
        sizes = "HxWxC, or CxHxW with --layout chw" if layout == "hwc" else "CxHxW, or HxWxC with --layout hwc"
        more = ", 2 (CxL), 4 (CxTxHxW)" if other_maps else ""
        raise UsageError(f"{what} '{text}' must have 3 sizes ({sizes}){more} or 1 (features)")
    for d in dims:
        if d < 1:
            raise UsageError(f"{what} '{text}': sizes must be positive, got {d}")
        if d > MAX_DIM:
            raise UsageError(f"{what} '{text}': size {d:,} exceeds the limit of {MAX_DIM:,}")
    return InputMap(to_chw(tuple(dims), layout), layout)


# A first or last size of 1 or 3 (a grey or colour image's channels) at the other layout's
# channel position, with two sides of at least MIN_SIDE, reads as the other layout: 224x224x3 in
# CxHxW (C=224 H=224 W=3) or 3x224x224 in HxWxC (H=3 W=224 C=224) is far likelier a slip.
IMAGE_CHANNELS = (1, 3)
MIN_SIDE = 8
ORDER = {"hwc": "HxWxC", "chw": "CxHxW"}


def other_layout(dims: tuple[int, ...], layout: str) -> str | None:
    """The layout the typed sizes look like, when it is not ``layout``."""
    if len(dims) != 3:
        return None
    if layout == "chw":
        edge, channels, sides = dims[2], dims[0], dims[:2]
    else:
        edge, channels, sides = dims[0], dims[2], dims[1:]
    if edge in IMAGE_CHANNELS and channels not in IMAGE_CHANNELS and min(sides) >= MIN_SIDE:
        return "hwc" if layout == "chw" else "chw"
    return None


def check_layout(given: "InputMap", what: str = "input") -> None:
    """Refuse sizes that look like the other layout (unless --layout was given: see read_map)."""
    c, *rest = given.shape
    typed = (*rest, c) if given.layout == "hwc" and rest else given.shape  # the sizes as typed
    other = other_layout(typed, given.layout)
    if other is None:
        return
    as_other = InputMap(to_chw(typed, other), other)
    raise UsageError(
        f"{what} {given.text()} looks like {ORDER[other]} ({letters(as_other)}) but reads as "
        f"{ORDER[given.layout]} ({letters(given)}): write {shape_in_layout(as_other.shape, given.layout)}, or give --layout {other} "
        f"(--layout {given.layout} if {ORDER[given.layout]} is meant)"
    )


def to_chw(dims: tuple[int, ...], layout: str) -> tuple[int, ...]:
    return (dims[2], dims[0], dims[1]) if len(dims) == 3 and layout == "hwc" else tuple(dims)


def letters(given: "InputMap") -> str:
    """'C=3 H=224 W=224' in the order of the layout; '1024 features' for a flat vector."""
    if len(given.shape) in OTHER_MAPS:
        return " ".join(f"{letter}={size}" for letter, size in zip(OTHER_MAPS[len(given.shape)][1], given.shape))
    if len(given.shape) != 3:
        return f"{given.shape[0]} features"
    c, h, w = given.shape
    return f"H={h} W={w} C={c}" if given.layout == "hwc" else f"C={c} H={h} W={w}"


def read_as_line(given: "InputMap") -> str:
    """'input read as CxHxW: C=3 H=224 W=224', for the commands that do not echo their input."""
    if len(given.shape) in OTHER_MAPS:
        return f"input read as {OTHER_MAPS[len(given.shape)][0]}: {letters(given)}"
    if len(given.shape) != 3:
        return f"input read as a flat vector of {given.shape[0]} features"
    return f"input read as {ORDER[given.layout]}: {letters(given)}"


def read_map(text: str, layout: str | None, default: str = "hwc", what: str = "input",
             other_maps: bool = False) -> InputMap:
    """A typed input in ``layout``, else in ``default`` (hwc for the homework commands); without
    an explicit --layout, sizes that look like the other layout are refused (check_layout)."""
    given = parse_map(text, layout or default, what, other_maps)
    if layout is None:
        check_layout(given, what)
    return given


def shape_in_layout(shape: tuple[int, ...], layout: str) -> str:
    if len(shape) == 3 and layout == "hwc":
        c, h, w = shape
        return f"{h}x{w}x{c}"
    return "x".join(str(d) for d in shape)


def describe_shape(shape: tuple[int, ...], layout: str) -> str:
    if len(shape) == 3:
        c, h, w = shape
        order = "HxWxC" if layout == "hwc" else "CxHxW"
        return f"{shape_in_layout(shape, layout)} = H={h} W={w} C={c} (read as {order})"
    return f"{shape[0]} features (a flat vector)"


def parse_value(text: str) -> Any:
    """A command-line argument value: int, 'AxB' pair, true/false, number, else the text."""
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if re.fullmatch(r"-?\d+", low):
        return int(low)
    pair = re.fullmatch(r"(\d+)\s*[x×,]\s*(\d+)", low)
    if pair:
        return [int(pair.group(1)), int(pair.group(2))]
    try:
        return float(low)
    except ValueError:
        return low


def analyze_layers(layers: list[dict[str, Any]], shape: tuple[int, ...], name: str, batch: int = 1,
                   dtype: str = "float32", describe=None):
    """Analyse layers given as spec entries (dicts with 'type' and 'name') on an input shape.

    Errors lose the spec location (there is no file) and are named by ``describe(layer name)``.
    """
    from ..analysis import analyze
    from ..graph import load_graph

    text = json.dumps({"name": name, "input": list(shape), "batch": batch, "layers": layers})
    try:
        graph = load_graph(COMMAND_LINE, text=text)
        return analyze(graph, dtype=dtype)
    except ArchcalcError as exc:
        where = describe(exc.layer) if (describe and exc.layer) else (exc.layer or name)
        raise UsageError(f"{where}: {exc.message}") from None
