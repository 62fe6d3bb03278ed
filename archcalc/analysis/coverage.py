"""Whether some output of a layer reads no real input position along an axis (only padding, a
transposed conv's output_padding, or the gaps of a dilated window), computed arithmetically.

Listing every output and every tap would cost outputs x kernel (2^20 x 2^20 for the largest
arguments); instead each phase class of outputs is one arithmetic progression sliding right by
the window's advance, and whether it misses [0, n) has a closed form except in one case (the
input fits in the gap between two taps), which needs at most one cycle of residues.
"""

from __future__ import annotations

import math
from typing import Sequence

from ..layers.windows import Window
from .rf import RfBudget


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _phase_misses(first: int, step: int, taps: int, advance: int, count: int, size_in: int, budget: RfBudget) -> bool:
    """Whether one of ``count`` outputs, whose taps are first + t*advance + j*step (j < taps,
    t < count), reads no position of [0, size_in)."""
    last = first + (taps - 1) * step
    if taps == 0 or last < 0 or first >= size_in:
        return True  # the first output of the class reads nothing
    if advance == 0:
        return first < 0 and first % step >= size_in
    if first + (count - 1) * advance >= size_in:
        return True  # the last output of the class starts past the input
    # Every output of the class now has its last tap >= 0 and its first tap < size_in. Those whose
    # first tap is >= 0 read it; the others, t < ceil(-first / advance), read their smallest
    # non-negative tap (first + t*advance) % step unless it is >= size_in.
    straddling = min(count, _ceil_div(-first, advance)) if first < 0 else 0
    if straddling == 0 or step <= size_in:
        return False
    cycle = step // math.gcd(advance, step)  # (first + t*advance) % step repeats after this many t
    checked = min(straddling, cycle)
    budget.spend(checked)
    return any((first + t * advance) % step >= size_in for t in range(checked))


def reads_nothing(windows: Sequence[Window], in_shape: tuple[int, ...], out_shape: tuple[int, ...],
                  budget: RfBudget) -> bool:
    """Whether along some axis an output position reads no real input position. Raises
    ValueError when the budget runs out (millions of phases)."""
    for window, size_in, size_out in zip(windows, in_shape[1:], out_shape[1:]):
        phases = min(window.period, size_out)
        budget.spend(phases)
        for phase in range(phases):
            positions = window.positions(phase)
            count = (size_out - 1 - phase) // window.period + 1
            step = positions.step if len(positions) > 1 else 1
            if _phase_misses(positions.start, step, len(positions), window.advance, count, size_in, budget):
                return True
    return False
