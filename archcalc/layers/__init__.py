"""Layer types, one module per family; importing this package registers them all.

A layer type is one place: its class states its arguments, output shape, parameters and
buffers, MACs/FLOPs/ops, receptive-field rule (fieldrules) and its PyTorch side as plain data
(module, probe twin, export defaults). No code outside this package branches on a type's name."""

from . import conv, linear, pool, pool_nd, pad, norm, activation, gates, reshape, merge, tensorops, stdconv  # noqa: F401,I001 (order = docs order)
from .base import ALIASES, JOIN, REGISTRY, LayerResult, LayerType, ModuleCall, Tensor, lookup
from .fieldrules import IDENTITY, MERGE, WHOLE, FieldRule, Identity, Merge, Unknown, Whole, Windows

__all__ = ["ALIASES", "IDENTITY", "JOIN", "MERGE", "REGISTRY", "WHOLE", "FieldRule", "Identity", "LayerResult", "LayerType",
           "Merge", "ModuleCall", "Tensor", "Unknown", "Whole", "Windows", "lookup"]
