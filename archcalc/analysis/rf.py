"""Receptive-field algebra, kept apart from graph parsing (as in Araujo, Norris and Sim,
"Computing Receptive Fields of Convolutional Neural Networks", Distill 2019).

Along one axis, the receptive field of output position ``o`` is the interval of input positions
``[start(o), end(o)]`` (virtual positions beyond the border count, as padding does). For nets of
strided convolutions and pooling, ``start(o) = o * stride - padding`` and ``end(o) = start(o) +
size - 1``: Araujo's effective stride, effective padding and size. Upsampling layers
(transposed convolutions, upsample) make the effective stride a fraction and the interval depend
on ``o`` modulo a period; we keep that exact with tables over one period:
``start(o + period) = start(o) + shift``. For ordinary nets the period is 1.

Each layer contributes a *window*: for an output position ``o`` the input positions it reads, in
increasing order. Composition only needs that, so every layer rule is one small function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from ..layers.windows import Window

# A transposed conv with stride s multiplies the period by s; beyond this we give up rather than
# let adversarial specs build huge tables.
MAX_PERIOD = 4096


@dataclass(frozen=True)
class AxisField:
    """Exact receptive field along one axis, relative to the net input."""

    period: int
    shift: int
    starts: tuple[int | None, ...]
    ends: tuple[int | None, ...]

    @classmethod
    def identity(cls) -> "AxisField":
        return cls(1, 1, (0,), (0,))

    def start(self, o: int) -> int | None:
        turns, phase = divmod(o, self.period)
        value = self.starts[phase]
        return None if value is None else value + turns * self.shift

    def end(self, o: int) -> int | None:
        turns, phase = divmod(o, self.period)
        value = self.ends[phase]
        return None if value is None else value + turns * self.shift

    @property
    def stride(self) -> Fraction:
        """Effective stride: how far the field moves per output step."""
        return Fraction(self.shift, self.period)

    @property
    def size(self) -> int:
        sizes = [e - s + 1 for s, e in zip(self.starts, self.ends) if s is not None]
        return max(sizes) if sizes else 0

    @property
    def padding(self) -> Fraction:
        """Effective padding: how far left of input position 0 the field of output 0 starts."""
        if self.starts[0] is not None:
            return Fraction(-self.starts[0])
        for o, s in enumerate(self.starts):
            if s is not None:
                return -(s - o * self.stride)
        return Fraction(0)

    def centre(self, o: int) -> Fraction | None:
        s, e = self.start(o), self.end(o)
        return None if s is None else Fraction(s + e, 2)

    def through(self, window: Window) -> "AxisField":
        """The field after a layer that reads its input through ``window``."""
        common = math.gcd(self.period, window.advance)
        period = window.period * (self.period // common)
        if period > MAX_PERIOD:
            raise ValueError(f"receptive-field period {period} exceeds {MAX_PERIOD}")
        shift = self.shift * (window.advance // common)
        starts: list[int | None] = []
        ends: list[int | None] = []
        for o in range(period):
            positions = window.positions(o)
            # min/max, not first/last: after an upsampling layer start(o) is not monotone in o
            starts.append(min((v for v in map(self.start, positions) if v is not None), default=None))
            ends.append(max((v for v in map(self.end, positions) if v is not None), default=None))
        return AxisField(period, shift, tuple(starts), tuple(ends))


def merge_axis(fields: Iterable[AxisField]) -> tuple[AxisField, bool, bool]:
    """Union of the fields of paths that meet at an add or concat.

    Returns the union and two flags: whether all paths have the same effective stride, and
    whether their centres coincide (Araujo's alignment condition).
    """
    fields = list(fields)
    strides = {f.stride for f in fields}
    same_stride = len(strides) == 1
    period = math.lcm(*(f.period for f in fields))
    stride = max(strides)
    shift = stride * period
    if shift.denominator != 1:  # only when strides differ; keep the table exact anyway
        period *= shift.denominator
        shift = stride * period
    starts, ends = [], []
    aligned = same_stride
    for o in range(period):
        s_values = [f.start(o) for f in fields]
        e_values = [f.end(o) for f in fields]
        defined_s = [v for v in s_values if v is not None]
        defined_e = [v for v in e_values if v is not None]
        starts.append(min(defined_s) if defined_s else None)
        ends.append(max(defined_e) if defined_e else None)
        centres = {f.centre(o) for f in fields} - {None}
        if len(centres) > 1:
            aligned = False
    return AxisField(period, int(shift), tuple(starts), tuple(ends)), same_stride, aligned


def as_number(value: Fraction) -> int | float:
    """JSON-friendly: an int when whole (the usual case), else a float."""
    return int(value) if value.denominator == 1 else float(value)


def as_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
