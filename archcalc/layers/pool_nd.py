"""Max, average and adaptive pooling over a CxL sequence (1-D) or a CxTxHxW volume (3-D): the
classes of layers/pool.py registered once per number of spatial axes, with their own rule texts."""

from __future__ import annotations

from .base import NoChainNotation, register
from .pool import (AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, _adaptive_args, _keeps_argmax, _pool_args)


@register
class MaxPool1d(NoChainNotation, MaxPool2d):
    dims = 1
    torch_class = "MaxPool1d"
    name = "maxpool1d"
    aliases = ("max_pool1d",)
    summary = "Max pooling over a CxL sequence (torch.nn.MaxPool1d)."
    title = "1-D max pooling"
    args = _pool_args(1, dilation=True)
    shape_rule = "as conv1d with C unchanged; ceil_mode rounds up, but the last window must start inside the input or left padding"
    ops_rule = "(kernel - 1) comparisons per output element"
    rf_rule = "as conv1d"


@register
class MaxPool3d(NoChainNotation, MaxPool2d):
    dims = 3
    torch_class = "MaxPool3d"
    name = "maxpool3d"
    aliases = ("max_pool3d",)
    summary = "Max pooling over a CxTxHxW volume (torch.nn.MaxPool3d)."
    title = "3-D max pooling"
    args = _pool_args(3, dilation=True)
    shape_rule = "as conv3d with C unchanged; ceil_mode rounds up, but the last window must start inside the input or left padding"
    ops_rule = "(kernel_t x kernel_h x kernel_w - 1) comparisons per output element"
    rf_rule = "as conv3d"


@register
class AvgPool1d(NoChainNotation, AvgPool2d):
    dims = 1
    torch_class = "AvgPool1d"
    name = "avgpool1d"
    aliases = ("avg_pool1d",)
    summary = "Average pooling over a CxL sequence (torch.nn.AvgPool1d)."
    title = "1-D average pooling"
    args = _pool_args(1, dilation=False)
    shape_rule = MaxPool1d.shape_rule
    ops_rule = "kernel ops (adds and one divide) per output element"
    rf_rule = "as conv1d"


@register
class AvgPool3d(NoChainNotation, AvgPool2d):
    dims = 3
    torch_class = "AvgPool3d"
    name = "avgpool3d"
    aliases = ("avg_pool3d",)
    summary = "Average pooling over a CxTxHxW volume (torch.nn.AvgPool3d)."
    title = "3-D average pooling"
    args = _pool_args(3, dilation=False)
    shape_rule = MaxPool3d.shape_rule
    ops_rule = "kernel_t x kernel_h x kernel_w ops (adds and one divide) per output element"
    rf_rule = "as conv3d"


@register
class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    dims = 1
    name = "adaptive_avgpool1d"
    aliases = ("adaptive_avg_pool1d",)
    summary = "Adaptive average pooling of a CxL sequence to a fixed length (torch.nn.AdaptiveAvgPool1d)."
    args = _adaptive_args(1)
    shape_rule = "C x output_size"
    rf_rule = "whole input when the output length is 1; else bin o reads [floor(o*in/out), ceil((o+1)*in/out))"
    torch_class = "AdaptiveAvgPool1d"


@register
class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    dims = 3
    name = "adaptive_avgpool3d"
    aliases = ("adaptive_avg_pool3d",)
    summary = "Adaptive average pooling of a CxTxHxW volume to a fixed size (torch.nn.AdaptiveAvgPool3d)."
    args = _adaptive_args(3)
    shape_rule = "C x output_size (T x H x W)"
    rf_rule = "whole input when the output is 1x1x1; else per axis, bin o reads [floor(o*in/out), ceil((o+1)*in/out))"
    torch_class = "AdaptiveAvgPool3d"


@register
class AdaptiveMaxPool1d(AdaptiveAvgPool1d):
    name = "adaptive_maxpool1d"
    aliases = ("adaptive_max_pool1d",)
    summary = "Adaptive max pooling of a CxL sequence (torch.nn.AdaptiveMaxPool1d)."
    torch_class = "AdaptiveMaxPool1d"

    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: _keeps_argmax(out_shape))


@register
class AdaptiveMaxPool3d(AdaptiveAvgPool3d):
    name = "adaptive_maxpool3d"
    aliases = ("adaptive_max_pool3d",)
    summary = "Adaptive max pooling of a CxTxHxW volume (torch.nn.AdaptiveMaxPool3d)."
    torch_class = "AdaptiveMaxPool3d"

    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: _keeps_argmax(out_shape))
