"""Windows: how a layer reads its input along one axis (the per-layer half of the
receptive-field algebra; archcalc.analysis.rf composes them)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence


@dataclass(frozen=True)
class Window:
    """How one layer reads its input along one axis.

    ``positions(o)`` lists the input positions output ``o`` reads, ascending. ``period`` and
    ``advance`` state its regularity: ``positions(o + period)`` is ``positions(o)`` moved by
    ``advance``.
    """

    period: int
    advance: int
    positions: Callable[[int], Sequence[int]]


def conv_window(kernel: int, stride: int, padding: int, dilation: int = 1) -> Window:
    """Convolution and pooling: output o reads o*stride - padding + k*dilation, k < kernel."""

    def positions(o: int) -> Sequence[int]:
        first = o * stride - padding
        return range(first, first + (kernel - 1) * dilation + 1, dilation)

    return Window(1, stride, positions)


def transposed_conv_window(kernel: int, stride: int, padding: int, dilation: int = 1) -> Window:
    """Transposed convolution: input i writes to i*stride - padding + k*dilation."""

    def positions(o: int) -> Sequence[int]:
        found = []
        for k in range(kernel - 1, -1, -1):
            numerator = o + padding - k * dilation
            if numerator % stride == 0:
                found.append(numerator // stride)
        return found

    return Window(stride, 1, positions)


def nearest_upsample_window(factor: int) -> Window:
    return Window(factor, 1, lambda o: (o // factor,))


def bilinear_upsample_window(factor: int) -> Window:
    """align_corners=False: source = (o + 1/2)/factor - 1/2; both neighbours with weight > 0."""

    def positions(o: int) -> Sequence[int]:
        source = Fraction(2 * o + 1, 2 * factor) - Fraction(1, 2)
        low = math.floor(source)
        return (low,) if source == low else (low, low + 1)

    return Window(factor, 1, positions)


def adaptive_pool_window(in_size: int, out_size: int) -> Window:
    """PyTorch's adaptive pooling bins: [floor(o*in/out), ceil((o+1)*in/out))."""
    common = math.gcd(in_size, out_size)

    def positions(o: int) -> Sequence[int]:
        return range((o * in_size) // out_size, -((-(o + 1) * in_size) // out_size))

    return Window(out_size // common, in_size // common, positions)


IDENTITY_WINDOW = Window(1, 1, lambda o: (o,))


def whole_axis_window(in_size: int) -> Window:
    """Every output reads the whole axis (a dense layer or softmax along it)."""
    return Window(1, 0, lambda o: range(in_size))
