"""ONNX op types -> archcalc layer types: one handler per op type in ``ONNX_OPS``.

A handler reads one node through the importer's view of it (``op``: attributes, which inputs are
activations or constants and their shapes, constant values, the node's sole consumer for the
patterns exporters write as several nodes) and returns the layers it becomes (``Emit``), or
refuses it with ``op.fail`` (one line naming the op and the node). The importer
(archcalc.importing.onnx_reader) never branches on a layer type: everything that says "this ONNX
op is that layer" lives here.

Shapes seen through ``op`` are the ONNX ones, batch first (N x C x H x W, or N x F); the layers'
arguments are archcalc's (no batch)."""

from __future__ import annotations

from typing import Callable

from .onnx_compute import (GLOBAL_AVERAGE, GLOBAL_MAX, activation, average_pool, batch_norm, clip, conv, conv_transpose,
                           gated, layer_norm, linear, lrn, matmul, max_pool, reduce_to_global, softmax)
from .onnx_mapping import Emit, Mapped
from .onnx_patterns import divide, scaled, split_to_sequence
from .onnx_structure import (concat, dropout, flatten, identity, join, pad, reshape, resize, slice_channels, split,
                             transpose)

__all__ = ["ONNX_OPS", "Emit", "Mapped"]

_join_mul = join("mul", "layer_scale")


def multiply(op) -> Mapped:
    """Mul: the first node of an Erf-written GELU, else a join or a layer scale."""
    return scaled(op) or _join_mul(op)


ONNX_OPS: dict[str, Callable] = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "Gemm": linear,
    "MatMul": matmul,
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "GlobalAveragePool": GLOBAL_AVERAGE,
    "GlobalMaxPool": GLOBAL_MAX,
    "ReduceMean": reduce_to_global(GLOBAL_AVERAGE),
    "ReduceMax": reduce_to_global(GLOBAL_MAX),
    "BatchNormalization": batch_norm,
    "LayerNormalization": layer_norm,
    "LRN": lrn,
    "Relu": activation("relu"),
    "Tanh": activation("tanh"),
    "LeakyRelu": activation("leaky_relu", negative_slope=("alpha", 0.01)),
    "Elu": activation("elu", alpha=("alpha", 1.0)),
    "Gelu": activation("gelu", approximate=("approximate", "none")),
    "HardSwish": activation("hardswish"),
    "Sigmoid": gated("sigmoid", "silu"),
    "HardSigmoid": gated("hardsigmoid", "hardswish", alpha=1 / 6, beta=0.5),
    "Clip": clip,
    "Softmax": softmax,
    "Add": join("add"),
    "Sum": join("add"),
    "Mul": multiply,
    "Div": divide,
    "Concat": concat,
    "Split": split,
    "SplitToSequence": split_to_sequence,
    "Slice": slice_channels,
    "Flatten": flatten,
    "Reshape": reshape,
    "Transpose": transpose,
    "Pad": pad,
    "Resize": resize,
    "Upsample": resize,
    "Dropout": dropout,
    "Identity": identity,
}
