"""Layer types, one module per family; importing this package registers them all."""

from . import conv, linear, pool, norm, activation, reshape, merge  # noqa: F401,I001 (order = docs order)
from .base import ALIASES, IDENTITY, MERGE, REGISTRY, WHOLE, LayerResult, LayerType, Tensor, lookup
from .reshape import UNKNOWN

__all__ = ["ALIASES", "IDENTITY", "MERGE", "REGISTRY", "UNKNOWN", "WHOLE", "LayerResult", "LayerType", "Tensor", "lookup"]
