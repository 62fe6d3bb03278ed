"""Which dimension of a tensor is which: a layout names, for each dimension (batch left out), the
spatial axis of the net input it runs along, or None for a channel (feature) dimension. A
channels-first map of a 2-D net is (None, 0, 1); after ConvNeXt's Permute([0, 2, 3, 1]) it is
channels last, HxWxC = (0, 1, None).

Most layer types read dimension 0 as channels and the rest as the input's axes in order (the
standard layout). A tensor in any other layout is "permuted"; only layers that treat every
spatial position alike and on its own accept one (each type says how: ``LayerType.on_permuted``),
so such a layer leaves every receptive field as it is. The walk (archcalc.analysis.walk) tracks
the layouts and refuses the rest with one clear line; the probe twin holds every tensor in the
standard layout (archcalc.pytorch.twin).
"""

from __future__ import annotations

from typing import Optional

from ..errors import ShapeError

Layout = tuple[Optional[int], ...]

# LayerType.on_permuted: how a layer type treats a permuted tensor
REFUSES = ""  # reads dimension 0 as channels and the others as the input's axes in order
ELEMENTWISE = "elementwise"  # every element on its own (activations, dropout, stochastic depth)
LAST_AXIS = "last"  # acts on the last dimension only (linear, layer norm over it), which must be channels

AXIS_LETTERS = {1: "L", 2: "HW", 3: "THW"}


def standard(rank: int) -> Layout:
    """Channels first, then the spatial axes in order (a flat vector: one feature dimension)."""
    return (None, *range(rank - 1))


def is_standard(layout: Layout) -> bool:
    return layout == standard(len(layout))


def layout_text(layout: Layout, spatial_axes: int) -> str:
    """The layout in letters, e.g. 'HxWxC' (channels last) or 'CxWxH'."""
    letters = AXIS_LETTERS.get(spatial_axes, "")
    return "x".join("C" if axis is None else (letters[axis] if axis < len(letters) else f"axis{axis}")
                    for axis in layout)


def canonical_sizes(shape, layout: Layout) -> tuple[int, ...]:
    """The spatial sizes of a tensor in the net input's axis order, whatever its layout."""
    where = {axis: dim for dim, axis in enumerate(layout) if axis is not None}
    return tuple(shape[where[axis]] for axis in sorted(where))


def check_permuted_input(layer, args, in_shapes, in_layouts, spatial_axes: int) -> bool:
    """Whether the layer reads a permuted tensor; raises the one-line error when its type does
    not accept the layout it gets."""
    permuted = [layout for layout in in_layouts if not is_standard(layout)]
    if not permuted:
        return False
    use = layer.permuted_use(args)
    shape, layout = in_shapes[in_layouts.index(permuted[0])], permuted[0]
    seen = f"a permuted {'x'.join(map(str, shape))} tensor ({layout_text(layout, spatial_axes)})"
    if use == REFUSES or len(in_layouts) > 1:
        raise ShapeError(f"{layer.name} needs its input channels first ({layout_text(standard(len(layout)), spatial_axes)}), "
                         f"got {seen}; permute it back first")
    if use == LAST_AXIS and layout[-1] is not None:
        raise ShapeError(f"{layer.name} acts on the last dimension, which in {seen} is a spatial axis; on a "
                         f"permuted tensor it must act on the channels (put them last)")
    return True
