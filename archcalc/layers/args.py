"""Argument kinds: converters that check, convert and bound one layer argument (sizes and
channel counts at most 2^20, finite numbers, choices with a "did you mean"), and ``Arg``, one
declared argument of a layer type."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import SpecError, brief, clip, near_miss
from ..spec.shapes import MAX_DIM

REQUIRED = object()
# Every size, channel count, kernel, stride, padding, dilation, group count, feature count or factor
# is at most MAX_DIM (2^20), as the input is: beyond that it is a typo, and bounded arguments keep
# every count exact without huge work (a transposed conv's kernel of 10^8 made `rf` loop 10^8 times).
MAX_SIZE = MAX_DIM


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return f"the number {brief(value)}"
    if isinstance(value, str):
        return f"the text '{clip(value)}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null" if value is None else type(value).__name__


# The converters carry no docstrings: the layer reference (docs/spec.md) shows a converter's
# docstring as the argument's notes.
def positive_int(value: Any, minimum: int = 1, maximum: int = MAX_SIZE) -> int:
    # A whole number in [minimum, maximum]; an integral float (64.0, from `/` or a YAML 1e3)
    # counts as the integer it equals, any other float is refused.
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise SpecError(f"must be an integer, got {_type_name(value)}")
    if value < minimum:
        raise SpecError(f"must be at least {minimum}, got {clip(f'{value:,}', 40)}")
    if value > maximum:
        raise SpecError(f"must be at most {maximum:,}, got {clip(f'{value:,}', 40)}")
    return value


def nonneg_int(value: Any) -> int:
    return positive_int(value, 0)


def pair(minimum: int = 1) -> Callable[[Any], tuple[int, int]]:
    """An int for both axes, or [h, w]."""

    def convert(value: Any) -> tuple[int, int]:
        if isinstance(value, (list, tuple)):
            if len(value) != 2:
                raise SpecError(f"must be one integer or a pair [h, w], got {len(value):,} values")
            return (positive_int(value[0], minimum), positive_int(value[1], minimum))
        v = positive_int(value, minimum)
        return (v, v)

    convert.__doc__ = "int or [h, w]"
    return convert


AXIS_LETTERS = {1: "[l]", 2: "[h, w]", 3: "[t, h, w]"}


def per_axis(axes: int, minimum: int = 1) -> Callable[[Any], tuple[int, ...]]:
    """An int for every spatial axis, or one per axis: ``pair`` for 2 axes, [l] for 1, [t, h, w] for 3."""
    if axes == 2:
        return pair(minimum)

    def convert(value: Any) -> tuple[int, ...]:
        if isinstance(value, (list, tuple)):
            if len(value) != axes:
                raise SpecError(f"must be one integer or {AXIS_LETTERS[axes]}, got {len(value):,} values")
            return tuple(positive_int(v, minimum) for v in value)
        return (positive_int(value, minimum),) * axes

    convert.__doc__ = f"int or {AXIS_LETTERS[axes]}"
    return convert


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise SpecError(f"must be true or false, got {_type_name(value)}")


def number(value: Any) -> float:
    # A finite number (eps, momentum, p, slopes): .inf and .nan are refused, as are integers
    # too large for a float.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"must be a number, got {_type_name(value)}")
    try:
        result = float(value)
    except OverflowError:
        raise SpecError(f"must be a finite number, got {_type_name(value)}") from None
    if not math.isfinite(result):
        raise SpecError(f"must be a finite number, got {_type_name(value)}")
    return result


def number_in(low: float, high: float = math.inf) -> Callable[[Any], float]:
    """A finite number within [low, high] (a probability, a non-negative epsilon): values torch
    would refuse, or compute nonsense from, are refused here with the spec's line."""

    def convert(value: Any) -> float:
        result = number(value)
        if not low <= result <= high:
            bound = f"from {low:g} to {high:g}" if math.isfinite(high) else f"at least {low:g}"
            raise SpecError(f"must be a number {bound}, got {result:g}")
        return result

    convert.__doc__ = f"number in [{low:g}, {high:g}]" if math.isfinite(high) else f"number >= {low:g}"
    return convert


def choice(*options: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if value not in options:
            near = near_miss(value, options) if isinstance(value, str) else []
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise SpecError(f"must be one of {', '.join(options)}, got {_type_name(value)}{hint}")
        return value

    convert.__doc__ = " | ".join(options)
    convert.options = options  # type: ignore[attr-defined]
    return convert


def optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        return None if value is None else convert(value)

    wrapped.options = getattr(convert, "options", ())  # type: ignore[attr-defined]
    return wrapped


@dataclass(frozen=True)
class Arg:
    name: str
    convert: Callable[[Any], Any]
    default: Any = REQUIRED
    aliases: tuple[str, ...] = ()
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def string_options(self) -> tuple[str, ...]:
        return tuple(getattr(self.convert, "options", ()))
