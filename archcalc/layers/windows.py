"""Windows: how a layer reads its input along one axis (the per-layer half of the
receptive-field algebra; archcalc.analysis.rf composes them).

Every window gives, for an output position, the input positions it reads as a ``range`` (an
arithmetic progression): computed in constant time whatever the kernel, so callers can reason
about a kernel of 2^20 taps without listing them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable


@dataclass(frozen=True)
class Window:
    """How one layer reads its input along one axis.

    ``positions(o)`` is the range of input positions output ``o`` reads, ascending. ``period`` and
    ``advance`` state its regularity: ``positions(o + period)`` is ``positions(o)`` moved by
    ``advance``.
    """

    period: int
    advance: int
    positions: Callable[[int], range]


def conv_window(kernel: int, stride: int, padding: int, dilation: int = 1) -> Window:
    """Convolution and pooling: output o reads o*stride - padding + k*dilation, k < kernel."""

    def positions(o: int) -> range:
        first = o * stride - padding
        return range(first, first + (kernel - 1) * dilation + 1, dilation)

    return Window(1, stride, positions)


def transposed_conv_window(kernel: int, stride: int, padding: int, dilation: int = 1) -> Window:
    """Transposed convolution: input i writes to i*stride - padding + k*dilation, so output o
    reads the inputs (o + padding - k*dilation) / stride for the taps k that divide exactly.

    Those taps solve k*dilation = o + padding (mod stride): with g = gcd(dilation, stride) they
    exist when g divides o + padding and then form k0, k0 + stride/g, ... (k0 from the modular
    inverse), so the inputs read are an arithmetic progression with step dilation/g."""
    common = math.gcd(dilation, stride)
    tap_step, input_step = stride // common, dilation // common
    inverse = pow(dilation // common, -1, tap_step) if tap_step > 1 else 0

    def positions(o: int) -> range:
        target = o + padding
        if target % common:
            return range(0)
        first_tap = (target // common) * inverse % tap_step if tap_step > 1 else 0
        if first_tap > kernel - 1:
            return range(0)
        last_tap = first_tap + (kernel - 1 - first_tap) // tap_step * tap_step
        first = (target - last_tap * dilation) // stride
        count = (last_tap - first_tap) // tap_step + 1
        return range(first, first + count * input_step, input_step)

    return Window(stride, 1, positions)


def nearest_upsample_window(factor: int) -> Window:
    return Window(factor, 1, lambda o: range(o // factor, o // factor + 1))


def bilinear_upsample_window(factor: int) -> Window:
    """align_corners=False: source = (o + 1/2)/factor - 1/2; both neighbours with weight > 0."""

    def positions(o: int) -> range:
        source = Fraction(2 * o + 1, 2 * factor) - Fraction(1, 2)
        low = math.floor(source)
        return range(low, low + 1) if source == low else range(low, low + 2)

    return Window(factor, 1, positions)


def adaptive_pool_window(in_size: int, out_size: int) -> Window:
    """PyTorch's adaptive pooling bins: [floor(o*in/out), ceil((o+1)*in/out))."""
    common = math.gcd(in_size, out_size)

    def positions(o: int) -> range:
        return range((o * in_size) // out_size, -((-(o + 1) * in_size) // out_size))

    return Window(out_size // common, in_size // common, positions)


IDENTITY_WINDOW = Window(1, 1, lambda o: range(o, o + 1))


def whole_axis_window(in_size: int) -> Window:
    """Every output reads the whole axis (a dense layer or softmax along it)."""
    return Window(1, 0, lambda o: range(in_size))
