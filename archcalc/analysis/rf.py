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
# Table entries (and positions looked up to fill them) one analysis may compute: a period-4096
# field carried through 100,000 layers would otherwise take hours and gigabytes. An ordinary net
# (period 1) uses a few per layer; past this budget later fields are reported as unknown.
MAX_RF_WORK = 2_000_000


class RfBudget:
    """What is left of MAX_RF_WORK for one analysis; spending past it raises ValueError, which
    the walk reports as an unknown receptive field with the reason."""

    def __init__(self, units: int = MAX_RF_WORK) -> None:
        self.left = units

    def spend(self, units: int) -> None:
        self.left -= units
        if self.left < 0:
            raise ValueError(f"receptive-field tables for this net would pass {MAX_RF_WORK:,} entries "
                             "(long chains after upsampling are tabulated per phase)")


def _extremes(field: "AxisField", positions: range) -> tuple[int | None, int | None]:
    """min start and max end over ``positions``, looking at no more than one period of them.

    start(p + period) = start(p) + shift with shift >= 0, so each phase class is smallest at its
    first position and largest at its last; a range with step e meets every phase class it
    meets within its first (and its last) period / gcd(e, period) positions."""
    if not positions:
        return None, None
    period, shift, starts, ends = field.period, field.shift, field.starts, field.ends
    if period == 1:  # the ordinary case: the extremes are at the ends of the range
        return (None if starts[0] is None else starts[0] + positions[0] * shift,
                None if ends[0] is None else ends[0] + positions[-1] * shift)
    classes = period // math.gcd(positions.step, period)
    head = positions[:classes] if len(positions) > classes else positions
    tail = positions[-classes:] if len(positions) > classes else positions
    # start(p) and end(p) inlined: turns = p // period, phase = p % period
    low = [starts[p % period] + p // period * shift for p in head if starts[p % period] is not None]
    high = [ends[p % period] + p // period * shift for p in tail if ends[p % period] is not None]
    return (min(low) if low else None), (max(high) if high else None)


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

    def through(self, window: Window, budget: RfBudget | None = None) -> "AxisField":
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
            if budget is not None:
                budget.spend(1 + min(len(positions), 2 * self.period))
            # min/max, not first/last: after an upsampling layer start(o) is not monotone in o
            start, end = _extremes(self, positions)
            starts.append(start)
            ends.append(end)
        return AxisField(period, shift, tuple(starts), tuple(ends))


def merge_axis(fields: Iterable[AxisField], budget: RfBudget | None = None) -> tuple[AxisField, bool, bool]:
    """Union of the fields of paths that meet at an add or concat.

    Returns the union and two flags: whether all paths have the same effective stride, and
    whether their centres coincide (Araujo's alignment condition).
    """
    fields = list(fields)
    first = fields[0]
    if all(f.period == first.period and f.shift == first.shift for f in fields):
        period, shift, same_stride = first.period, first.shift, True  # the usual join, without Fractions
    else:
        strides = {f.stride for f in fields}
        same_stride = len(strides) == 1
        period = math.lcm(*(f.period for f in fields))
        stride = max(strides)
        shift = stride * period
        if shift.denominator != 1:  # only when strides differ; keep the table exact anyway
            period *= shift.denominator
            shift = stride * period
    if period > MAX_PERIOD:  # lcm(4096, 4095) would be a table of 16 million phases
        raise ValueError(f"receptive-field period {period} exceeds {MAX_PERIOD}")
    if budget is not None:
        budget.spend(period * len(fields))
    starts, ends = [], []
    aligned = same_stride
    for o in range(period):
        s_values = [f.start(o) for f in fields]
        e_values = [f.end(o) for f in fields]
        defined_s = [v for v in s_values if v is not None]
        defined_e = [v for v in e_values if v is not None]
        starts.append(min(defined_s) if defined_s else None)
        ends.append(max(defined_e) if defined_e else None)
        # centres compared doubled (start + end), in integers
        centres = {s + e for s, e in zip(s_values, e_values) if s is not None}
        if len(centres) > 1:
            aligned = False
    return AxisField(period, int(shift), tuple(starts), tuple(ends)), same_stride, aligned


def as_number(value: Fraction) -> int | float:
    """JSON-friendly: an int when whole (the usual case), else a float."""
    return int(value) if value.denominator == 1 else float(value)


def as_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
