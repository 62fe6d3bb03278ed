"""The twin's own torch.nn modules, named 'archcalc.NAME' in a layer's ModuleCall: joins built
from a layer type's ``combine``, the probe twin's helpers, the container for groups, and the
layer modules torch.nn lacks (archcalc.pytorch.layermodules, which export copies). Defined
lazily (torch is an optional extra)."""

from __future__ import annotations

from functools import lru_cache

from ..layers import JOIN, ModuleCall


@lru_cache(maxsize=None)
def torch_classes() -> dict:
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Join(nn.Module):
        """A join of several inputs; ``combine(torch, inputs)`` comes from the layer type."""

        def __init__(self, name, combine):
            super().__init__()
            self.join_name, self.combine = name, combine

        def forward(self, *inputs):
            return self.combine(torch, list(inputs))

        def extra_repr(self):
            return self.join_name

    class SumPool(nn.Module):
        """Probe twin of a dilated max pool: zero padding, then a ones convolution."""

        def __init__(self, kernel_size, stride, dilation, pads):
            super().__init__()
            self.kernel_size, self.stride, self.dilation, self.pads = kernel_size, stride, dilation, pads

        def forward(self, x):
            # (before, after) per axis; F.pad takes the last axis first (any number of axes)
            x = F.pad(x, [side for pads in reversed(self.pads) for side in pads])
            weight = x.new_ones((x.shape[1], 1, *self.kernel_size))
            conv = (F.conv1d, F.conv2d, F.conv3d)[len(self.kernel_size) - 1]
            return conv(x, weight, stride=self.stride, dilation=self.dilation, groups=x.shape[1])

    class Spread(nn.Module):
        """Probe twin of a softmax over a spatial dim: every output reads the whole dim."""

        def __init__(self, dim):
            super().__init__()
            self.dim = dim

        def forward(self, x):
            return x.sum(self.dim, keepdim=True).expand_as(x)

    class SnappedBilinear(nn.Module):
        """Probe twin of bilinear upsampling: torch's own interpolation weights per axis, with
        the float noise of weights that are exactly zero in exact arithmetic set to zero."""

        def __init__(self, in_size, out_size, align_corners):
            super().__init__()
            for axis, (n, m) in enumerate(zip(in_size, out_size)):
                eye = torch.eye(n, dtype=torch.float64).reshape(1, n, n, 1)
                scale = (m // n, 1) if m % n == 0 else None
                kwargs = dict(scale_factor=(float(scale[0]), 1.0)) if scale else dict(size=(m, 1))
                rows = F.interpolate(eye, mode="bilinear", align_corners=align_corners, **kwargs)[0, :, :, 0]
                rows = torch.where(rows.abs() < 1e-12, torch.zeros_like(rows), rows)
                self.register_buffer(f"axis{axis}", rows.t().contiguous(), persistent=False)

        def forward(self, x):
            return torch.einsum("bchw,Hh,Ww->bcHW", x, self.axis0.to(x.dtype), self.axis1.to(x.dtype))

    class Group(nn.Module):
        """A named container (a block or sequential group of the spec); the net's forward runs
        its members. A layer may be named like an nn.Module attribute ('training'): plain values
        torch sets (``.eval()`` sets training=False) go to the attribute, not the child."""

        def __setattr__(self, name, value):
            if name in self.__dict__.get("_modules", {}) and not isinstance(value, nn.Module):
                object.__setattr__(self, name, value)
            else:
                super().__setattr__(name, value)

    class SpreadTo(nn.Module):
        """Probe twin of a reshape of a flat vector: every output element reads the whole vector
        (a flat vector's elements have no spatial field: the analysis's convention)."""

        def __init__(self, shape):
            super().__init__()
            self.shape = tuple(shape)

        def forward(self, x):
            total = x.reshape(x.shape[0], -1).sum(1)
            return total.reshape(-1, *([1] * len(self.shape))).expand(-1, *self.shape)


    class Shared(nn.Module):
        """A layer that reuses another's module (``shares``): it runs the owner's forward with the
        owner's parameters, holding none itself. The owner is kept outside ``_modules`` (so its
        parameters count once) and its forward is called directly, not through ``__call__``, so
        FlopCounterMode charges this use to this module's name, not the owner's."""

        def __init__(self, owner):
            super().__init__()
            self.__dict__["owner"] = owner

        def forward(self, *inputs):
            return type(self.owner).forward(self.owner, *inputs)

    return {JOIN: Join, "archcalc.SumPool": SumPool, "archcalc.Spread": Spread, "archcalc.SpreadTo": SpreadTo,
            "archcalc.SnappedBilinear": SnappedBilinear, "Group": Group, "Shared": Shared, **copied_classes()}


def instantiate(call: ModuleCall):
    """The module a ModuleCall names: a torch.nn class or one of the classes above."""
    from torch import nn

    name, args, kwargs = call
    cls = torch_classes().get(name) or getattr(nn, name)
    # a container's members are calls too (nn.Sequential(nn.ZeroPad2d(...), nn.Conv2d(...)))
    return cls(*(instantiate(a) if isinstance(a, ModuleCall) else a for a in args), **kwargs)


def copied_classes() -> dict:
    """The twin's module classes that an export copies verbatim ('archcalc.NAME' -> class): the
    padded convolutions and pools, and the layer modules torch.nn lacks."""
    from .layermodules import CLASSES
    from .padded import PADDED

    return {**PADDED, **CLASSES}
