"""Layer types, one module per family; importing this package registers them all."""

from . import activation, conv, linear, merge, norm, pool, reshape  # noqa: F401
from .base import ALIASES, IDENTITY, MERGE, REGISTRY, WHOLE, LayerResult, LayerType, Tensor, lookup
from .reshape import UNKNOWN

__all__ = ["ALIASES", "IDENTITY", "MERGE", "REGISTRY", "UNKNOWN", "WHOLE", "LayerResult", "LayerType", "Tensor", "lookup"]
