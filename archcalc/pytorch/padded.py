"""Convolution and pooling with an explicit, possibly asymmetric padding (per-side padding and
TensorFlow's 'SAME' for strided layers): torch.nn's module with the padding applied first, as
timm's Conv2dSame does, so parameters keep the module's own names (``conv.weight``).

These classes are written verbatim into an exported file that uses them (archcalc.pytorch.export
reads their source), so they name nothing but torch and nn (the file's imports) and stay
TorchScript-able."""

from __future__ import annotations

import torch
from torch import nn


class PaddedConv2d(nn.Conv2d):
    """nn.Conv2d after torch.nn.functional.pad(x, pads); pads = (left, right, top, bottom)."""

    def __init__(self, *args, pads: tuple[int, int, int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.pads = list(pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(torch.nn.functional.pad(x, self.pads), self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, pads={tuple(self.pads)}"


class PaddedMaxPool2d(nn.MaxPool2d):
    """nn.MaxPool2d after padding with -inf (a pad never wins); pads = (left, right, top, bottom)."""

    def __init__(self, *args, pads: tuple[int, int, int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.pads = list(pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # nn.MaxPool2d.forward's call (super() is not TorchScript)
        padded = torch.nn.functional.pad(x, self.pads, value=float("-inf"))
        return torch.nn.functional.max_pool2d(padded, self.kernel_size, self.stride, self.padding, self.dilation,
                                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, pads={tuple(self.pads)}"


class PaddedAvgPool2d(nn.AvgPool2d):
    """nn.AvgPool2d after zero padding; pads = (left, right, top, bottom). The zeros count in the
    average, as count_include_pad=True does (TensorFlow's SAME averages the real pixels only: the
    values differ on the border, the shapes and counts do not)."""

    def __init__(self, *args, pads: tuple[int, int, int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.pads = list(pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = torch.nn.functional.pad(x, self.pads)
        return torch.nn.functional.avg_pool2d(padded, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                              self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, pads={tuple(self.pads)}"


PADDED = {"archcalc.PaddedConv2d": PaddedConv2d, "archcalc.PaddedMaxPool2d": PaddedMaxPool2d,
          "archcalc.PaddedAvgPool2d": PaddedAvgPool2d}
