"""Padding forms: per-side padding for convolutions and pooling ([top, bottom, left, right]) and
TensorFlow's 'SAME' padding for strided layers (asymmetric: the odd pixel goes bottom/right). The
`pad` layer type is in layers/pad.py.

Every padding form resolves to (before, after) per axis. The receptive field follows the
before side (top/left): the field of output 0 starts that far left of the input. PyTorch's
modules take one symmetric padding per axis; an asymmetric one is the module with an explicit
F.pad first (archcalc.pytorch.padded), as TF ports such as timm's Conv2dSame do, so parameters
keep the module's own names."""

from __future__ import annotations

from typing import Any

from ..errors import SpecError
from .args import positive_int
from .base import ModuleCall, keep_axis

TF_SAME = "tf_same"
Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))


def padding_converter(*words: str):
    """A padding argument: one of ``words``, an int, [h, w] or [top, bottom, left, right].
    Symmetric forms stay an (h, w) pair, as before; an asymmetric one is ((top, bottom), (left, right))."""

    def convert(value: Any) -> Any:
        if isinstance(value, str) and value in words:
            return value
        if isinstance(value, (list, tuple)) and len(value) == 4:
            top, bottom, left, right = (positive_int(v, 0) for v in value)
            return (top, left) if (top, left) == (bottom, right) else ((top, bottom), (left, right))
        if isinstance(value, (list, tuple)) and len(value) == 2:
            return (positive_int(value[0], 0), positive_int(value[1], 0))
        if isinstance(value, (list, tuple)):
            raise SpecError(f"must be one integer, [h, w] or [top, bottom, left, right], got {len(value):,} values")
        if isinstance(value, str):
            options = ", ".join(f"'{w}'" for w in words)
            raise SpecError(f"must be an integer, [h, w], [top, bottom, left, right]{', ' + options if words else ''}")
        size = positive_int(value, 0)
        return (size, size)

    convert.options = words  # type: ignore[attr-defined]
    convert.__doc__ = "int, [h, w], [top, bottom, left, right]" + "".join(f", '{w}'" for w in words)
    return convert


def axes_padding_converter(axes: int, *words: str):
    """A padding argument for ``axes`` spatial axes: ``padding_converter`` for 2 (per side and
    tf_same included); for 1 or 3 axes one of ``words``, an int or one per axis (symmetric)."""
    if axes == 2:
        return padding_converter(*words)
    from .args import AXIS_LETTERS, per_axis

    sizes = per_axis(axes, 0)

    def convert(value: Any) -> Any:
        if isinstance(value, str) and value in words:
            return value
        if value == TF_SAME:
            raise SpecError(f"'{TF_SAME}' (TensorFlow's SAME) is for 2-D layers only; give the padding per axis, "
                            f"an integer or {AXIS_LETTERS[axes]}")
        if isinstance(value, str):
            options = "".join(f", '{w}'" for w in words)
            raise SpecError(f"must be an integer, {AXIS_LETTERS[axes]}{options}")
        return sizes(value)

    convert.options = (*words, TF_SAME)  # type: ignore[attr-defined]  # read as words, tf_same refused clearly
    convert.__doc__ = f"int, {AXIS_LETTERS[axes]}" + "".join(f", '{w}'" for w in words)
    return convert


def tf_same(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's 'SAME': output ceil(size / stride), the total padding that needs split with
    the odd pixel after (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def side_pads(padding: Any, kernel, stride, dilation, sizes) -> Pads:
    """(before, after) per axis for any padding form, given the input's (H, W)."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":  # PyTorch's (stride 1): d*(k-1) in all, the odd one after
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))  # type: ignore[return-value]
    if padding == TF_SAME:
        return tuple(tf_same(n, k, s, d) for n, k, s, d in zip(sizes, kernel, stride, dilation))  # type: ignore[return-value]
    if isinstance(padding[0], tuple):
        return padding
    return tuple((p, p) for p in padding)  # type: ignore[return-value]


def symmetric(pads: Pads) -> tuple[int, ...] | None:
    """The (h, w) padding (one per axis) of a symmetric Pads, else None."""
    if all(before == after for before, after in pads):
        return tuple(before for before, _ in pads)
    return None


def torch_order(pads: Pads) -> tuple[int, ...]:
    """torch.nn's pad modules take the last axis first: (left, right, top, bottom)."""
    return tuple(side for before, after in reversed(pads) for side in (before, after))


def padded(call: ModuleCall, pads: Pads) -> ModuleCall:
    """``call`` (a torch.nn Conv2d, MaxPool2d or AvgPool2d) with its padding: the module's own
    where symmetric, else the twin's padded form of the class (archcalc.pytorch.padded), which
    pads (left, right, top, bottom) first and keeps the module's parameter names."""
    even = symmetric(pads)
    if even is not None:
        return call._replace(kwargs={**call.kwargs, "padding": even})
    return ModuleCall(f"archcalc.Padded{call.name}", call.args, {**call.kwargs, "padding": 0, "pads": torch_order(pads)})


def padded_copy(padding: Any, pads: Pads, in_shape) -> int:
    """Elements of the padded copy of the input PyTorch makes before the layer, which the layer
    then reads (and autograd keeps) instead of its input; 0 where the module pads by itself.
    'same' with an odd total pads the odd pixel first (ATen); an asymmetric padding pads every
    side (archcalc.pytorch.padded's F.pad)."""
    if padding == "same":
        extra = [after - before for before, after in pads]
    elif symmetric(pads) is not None:
        return 0
    else:
        extra = [before + after for before, after in pads]
    if not any(extra):
        return 0
    count = in_shape[0]
    for size, more in zip(in_shape[1:], extra):
        count *= size + more
    return count


def axis_padding(padding: Any, axis: int) -> Any:
    """The padding of the one-axis probe: kept along ``axis``, none along the other."""
    if isinstance(padding, str):
        return padding
    return keep_axis(padding, axis, (0, 0) if isinstance(padding[0], tuple) else 0)


def padding_text(padding: Any) -> str:
    if isinstance(padding, str):
        return padding
    if isinstance(padding[0], tuple):
        return str([side for pads in padding for side in pads])
    return str(padding[0] if len(set(padding)) == 1 else list(padding))
