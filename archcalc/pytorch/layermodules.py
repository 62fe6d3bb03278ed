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


class ScaledStdConv2d(nn.Conv2d):
    """NF-Nets' convolution with scaled weight standardisation (timm's ScaledStdConv2d): each filter
    standardised over its fan-in in forward (F.batch_norm of the weight), times gain x gamma /
    sqrt(fan-in); pads = (left, right, top, bottom) applied first where the padding is asymmetric
    (TensorFlow's SAME, as timm's ScaledStdConv2dSame)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, gamma: float = 1.0, eps: float = 1e-6, gain_init: float = 1.0,
                 pads=(0, 0, 0, 0)):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding, dilation=dilation,
                         groups=groups, bias=bias)
        self.scale = gamma * self.weight[0].numel() ** -0.5
        self.eps = eps
        self.gain = nn.Parameter(torch.full((out_channels, 1, 1, 1), gain_init))
        self.pads = list(pads)
        self.pad_first = any(p != 0 for p in pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad_first:
            x = nn.functional.pad(x, self.pads)
        weight = nn.functional.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None,
                                          weight=(self.gain * self.scale).view(-1), training=True, momentum=0.0,
                                          eps=self.eps).reshape_as(self.weight)
        return nn.functional.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class BlurPool2d(nn.Module):
    """Anti-aliased downsampling (timm's BlurPool2d): pad by ((stride - 1) + (filter_size - 1)) // 2
    on both sides of each axis, then a depthwise convolution with a fixed binomial filter, the
    buffer filt (left out of the state dict, as timm's)."""

    def __init__(self, channels: int, filter_size=3, stride=2, pad_mode: str = "reflect"):
        super().__init__()
        kernel = tuple(filter_size) if isinstance(filter_size, (tuple, list)) else (filter_size, filter_size)
        strides = tuple(stride) if isinstance(stride, (tuple, list)) else (stride, stride)
        self.channels, self.stride, self.pad_mode = channels, strides, pad_mode
        rows, cols = (((s - 1) + (k - 1)) // 2 for k, s in zip(kernel, strides))
        self.padding = [cols, cols, rows, rows]
        rows_cols = []
        for size in kernel:  # a row of Pascal's triangle, normalised to sum to 1 (timm's taps)
            taps = [1.0]
            for _ in range(size - 1):
                taps = [a + b for a, b in zip(taps + [0.0], [0.0] + taps)]
            rows_cols.append(torch.tensor(taps) / 2 ** (size - 1))
        blur = rows_cols[0][:, None] * rows_cols[1][None, :]
        self.register_buffer("filt", blur[None, None].repeat(channels, 1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.pad(x, self.padding, mode=self.pad_mode)
        return nn.functional.conv2d(x, self.filt, stride=self.stride, groups=self.channels)

    def extra_repr(self) -> str:
        return f"{self.channels}, filter={tuple(self.filt.shape[2:])}, stride={tuple(self.stride)}, pad_mode={self.pad_mode}"


class SpaceToDepth(nn.Module):
    """Each block_h x block_w block of every channel moved into channels (timm's SpaceToDepth in
    TResNet's stem): C x H x W -> (block_h * block_w * C) x H/block_h x W/block_w, the channel
    index (row in block, column in block, channel)."""

    def __init__(self, block_size=4):
        super().__init__()
        self.block = list(block_size) if isinstance(block_size, (tuple, list)) else [block_size, block_size]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        bh, bw = self.block[0], self.block[1]
        x = x.view(n, c, h // bh, bh, w // bw, bw).permute(0, 3, 5, 1, 2, 4).contiguous()
        return x.view(n, c * bh * bw, h // bh, w // bw)

    def extra_repr(self) -> str:
        return f"block_size={tuple(self.block)}"


class Scale(nn.Module):
    """The input times a constant (Inception-ResNet's ``x * 0.17``, NF-Nets' alpha and beta)."""

    def __init__(self, factor: float = 1.0):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


class LearnableScale(nn.Module):
    """The input times one learnable scalar, gain (NF-Nets' skipinit gain)."""

    def __init__(self, factor: float = 1.0):
        super().__init__()
        self.gain = nn.Parameter(torch.tensor(factor))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gain


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
CLASSES = {f"archcalc.{cls.__name__}": cls for cls in (LayerNorm2d, ScaledStdConv2d, BlurPool2d, SpaceToDepth, LayerScale,
                                                      Scale, LearnableScale, StochasticDepth, Slice, Permute, ViewAxes,
                                                      ChannelSum)}
