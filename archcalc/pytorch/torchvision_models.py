"""torchvision's model definitions, the reference the zoo is checked against.

torchvision's wheel ships compiled ops (nms, roi_align, ...) built for its own torch; on a torch
build they do not match, registering their meta kernels raises "operator torchvision::nms does
not exist" while ``import torchvision`` runs. The model code never calls those ops, so the
registration failures of torchvision's own operators are tolerated while it imports (and only
those: any other error still raises), and the patched torch.library functions are restored."""

from __future__ import annotations

import functools
import importlib
import sys


def _tolerant(register, returns_decorator: bool):
    @functools.wraps(register)
    def wrapper(*args, **kwargs):
        try:
            return register(*args, **kwargs)
        except RuntimeError as exc:
            if "torchvision::" not in str(exc):
                raise
            if returns_decorator and kwargs.get("func", args[1] if len(args) > 1 else None) is None:
                return lambda fn: fn
            return None
    return wrapper


def torchvision_models():
    """``torchvision.models``, imported once, with torchvision's op-registration failures tolerated."""
    if "torchvision.models" in sys.modules:
        return sys.modules["torchvision.models"]
    import torch.library as library

    saved = library.Library.impl, library.register_fake
    library.Library.impl = _tolerant(library.Library.impl, returns_decorator=False)
    library.register_fake = _tolerant(library.register_fake, returns_decorator=True)
    try:
        return importlib.import_module("torchvision.models")
    finally:
        library.Library.impl, library.register_fake = saved


def torchvision_model(name: str, **kwargs):
    """A torchvision model built by name, without weights (never downloads anything)."""
    models = torchvision_models()
    return models.get_model(name, weights=None, **kwargs)
