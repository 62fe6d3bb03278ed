"""Which output positions reach the net input at all, per spatial axis: the interval [lo, hi]
(its hull) of positions that read at least one real input position through real reads, or None.

The receptive-field algebra extends fields over padding virtually (Araujo et al.), which is the
right convention for sizes and strides; but a map whose every position reads only padding sees
nothing, so what follows it must not be called "whole input". Each step costs O(period) of the
layer's window, never O(map size): the analysis stays independent of the input resolution.
The hull over-approximates where dilation or transposed-conv gaps leave holes inside it.
"""

from __future__ import annotations

from ..layers import Identity, Merge, Windows
from ..layers.base import is_map

Interval = tuple[int, int]


def through_window(window, reach: Interval | None, size_in: int, size_out: int, budget=None) -> Interval | None:
    """The hull of the output positions whose window reads a position of ``reach`` inside the
    map. Positions of phase r are r + t*period, reading [first + t*advance, last + t*advance]."""
    if reach is None:
        return None
    a, b = max(reach[0], 0), min(reach[1], size_in - 1)
    if a > b:
        return None
    lo = hi = None
    phases = min(window.period, size_out)
    if budget is not None:
        budget.spend(phases)
    for phase in range(phases):
        positions = window.positions(phase)  # an ascending range
        if not len(positions):
            continue
        first, last = positions[0], positions[-1]
        steps = (size_out - 1 - phase) // window.period
        if window.advance == 0:  # the window does not move (reads a whole axis)
            if first > b or last < a:
                continue
            t_lo, t_hi = 0, steps
        else:
            t_lo = max(0, -(-(a - last) // window.advance))  # first step whose window ends at or after a
            t_hi = min(steps, (b - first) // window.advance)
        if t_lo <= t_hi and positions.step > 1 and b - a + 1 < positions.step:
            t_lo, t_hi = _skip_holes(positions, window.advance, a, b, t_lo, t_hi, budget)
        if t_lo > t_hi:
            continue
        o_lo, o_hi = phase + t_lo * window.period, phase + t_hi * window.period
        lo, hi = (o_lo, o_hi) if lo is None else (min(lo, o_lo), max(hi, o_hi))
    return None if lo is None else (lo, hi)


def _skip_holes(positions: range, advance: int, a: int, b: int, t_lo: int, t_hi: int, budget) -> tuple[int, int]:
    """The first and last step whose window really reads a position of [a, b], where the reach
    is narrower than the gap between the window's taps (dilation): the hull of the taps then
    overlaps the reach without a tap landing in it (a 2-tap window dilated by 2 at a 1-wide map
    reads only padding). Only the steps whose hull overlaps are tried: as many as the window
    spans, never the map's size."""
    def reads(t: int) -> bool:
        low, high = a - t * advance - positions[0], b - t * advance - positions[0]
        first_tap, last_tap = max(0, -(-low // positions.step)), min(len(positions) - 1, high // positions.step)
        return first_tap <= last_tap

    if advance == 0:  # every step reads the same taps
        return (t_lo, t_hi) if reads(t_lo) else (1, 0)
    if budget is not None:
        budget.spend(t_hi - t_lo + 1)

    hits = [t for t in range(t_lo, t_hi + 1) if reads(t)]
    return (hits[0], hits[-1]) if hits else (1, 0)


def node_reach(rule, in_reaches: list, in_shapes: list, out_shape: tuple[int, ...], budget=None):
    """A node's reach: per-axis intervals for a map, True for a flat output that reaches the
    input, None when nothing of the output reaches it. Past the work budget the answer is the
    conservative one (everything reaches): the field itself is then reported unknown."""
    first = in_reaches[0]
    if type(rule) is Identity:  # element-wise layers, most of a net: the input's reach
        return first
    if type(rule) is Merge:
        if all(r is None for r in in_reaches):
            return None
        if not is_map(out_shape):
            return True
        return _union([_broadcast(r, shape, out_shape[1:]) for r, shape in zip(in_reaches, in_shapes)])
    if first is None:
        return None
    if not is_map(out_shape):
        return True
    if first is True or not is_map(in_shapes[0]) or type(rule) is not Windows:
        # from a flat vector, through a global pool, or a non-uniform resize: reaching in, it reaches out
        return tuple((0, size - 1) for size in out_shape[1:])
    try:
        axes = tuple(through_window(w, r, n, m, budget)
                     for w, r, n, m in zip(rule.axes, first, in_shapes[0][1:], out_shape[1:]))
    except ValueError:
        return tuple((0, size - 1) for size in out_shape[1:])
    return None if None in axes else axes


def _broadcast(reach, shape, sizes):
    """An input repeated along an axis (size 1 there) reaches at every position of that axis."""
    if reach is None or reach is True or not is_map(shape):
        return reach if reach is None else tuple((0, size - 1) for size in sizes)
    return tuple((0, size - 1) if n == 1 < size else r for r, n, size in zip(reach, shape[1:], sizes))


def _union(reaches: list):
    present = [r for r in reaches if r is not None]
    if not present:
        return None
    return tuple((min(r[axis][0] for r in present), max(r[axis][1] for r in present)) for axis in range(len(present[0])))
