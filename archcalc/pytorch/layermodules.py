"""The twin's own modules for layer types that torch.nn has no class for (ConvNeXt's LayerNorm2d,
layer scale, stochastic depth and Permute as torchvision writes them; a channel slice). A layer type names
one as ``ModuleCall("archcalc.CLASS", ...)``; the twin builds it from here and export copies the
class's source into the exported file, so the two cannot disagree. Each class uses only ``torch``
and ``nn`` (the names an exported file imports) and stays TorchScript-able.

Imported lazily (by archcalc.pytorch.modules and export), as torch is an optional extra.
"""

from __future__ import annotations

import torch
from torch import nn


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW map at each position (torchvision's LayerNorm2d
    in ConvNeXt): channels last, F.layer_norm, channels first again."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class LayerScale(nn.Module):
    """A learnable per-channel scale (ConvNeXt's CNBlock: layer_scale, shape C x 1 x 1)."""

    def __init__(self, channels: int, init: float = 1e-6):
        super().__init__()
        self.layer_scale = nn.Parameter(torch.ones(channels, 1, 1) * init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_scale * x


class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: an identity at inference; in training each sample
    ('row') or the whole batch ('batch') is dropped with probability p, the rest scaled by 1/(1-p)."""

    def __init__(self, p: float, mode: str = "row"):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [1] * x.dim()
        if self.mode == "row":
            size[0] = x.shape[0]
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


class Slice(nn.Module):
    """Channels [start, end) of a map or features [start, end) of a vector: a view, as one of
    the parts of x.chunk(n, dim=1) or x[:, start:end]."""

    def __init__(self, start: int, end: int):
        super().__init__()
        self.start, self.end = start, end

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start:self.end]

    def extra_repr(self) -> str:
        return f"start={self.start}, end={self.end}"


class Permute(nn.Module):
    """The dimensions reordered, a view (torchvision.ops.Permute: dims with the batch first)."""

    def __init__(self, dims: list[int]):
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class ViewAxes(nn.Module):
    """Axes start..end (counting the batch) viewed as ``sizes`` (one may be -1): a flatten of that
    range and an unflatten, as torch's x.view / x.reshape of a range of axes (ResNeSt's radix
    groups split off the channels, a map's positions read as one sequence axis)."""

    def __init__(self, start: int, end: int, sizes: list[int]):
        super().__init__()
        self.start, self.end, self.sizes = start, end, list(sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(self.start, self.end).unflatten(self.start, self.sizes)

    def extra_repr(self) -> str:
        return f"start={self.start}, end={self.end}, sizes={self.sizes}"


class ChannelSum(nn.Module):
    """x.sum(dim=1): stacked branches or radix groups summed (timm's selective kernel and split
    attention). ``fold`` > 1 first folds that many axes into one (the receptive-field probe's
    one channel with the axis the sum removes)."""

    def __init__(self, keepdim: bool = False, fold: int = 1):
        super().__init__()
        self.keepdim, self.fold = keepdim, fold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fold > 1:
            x = x.flatten(1, self.fold)
        return x.sum(1, keepdim=self.keepdim)

    def extra_repr(self) -> str:
        return f"keepdim={self.keepdim}" + (f", fold={self.fold}" if self.fold > 1 else "")


# the classes a layer type's ModuleCall may name as "archcalc.CLASS" (and export may copy)
CLASSES = {f"archcalc.{cls.__name__}": cls for cls in (LayerNorm2d, LayerScale, StochasticDepth, Slice, Permute, ViewAxes,
                                                      ChannelSum)}
