"""archcalc: exact, explained analysis of CNN architectures from a YAML spec.

The analysis path is pure Python: importing archcalc never imports torch.
"""

from __future__ import annotations

__version__ = "0.1.0"


def _input_shape(value):
    """An input shape as the API accepts it: None, 'CxHxW' text ('3x512x512'), or a sequence of
    1 or 3 positive ints; anything else is an ArchcalcError (SpecError) naming input_shape."""
    from .spec import parse_shape

    if value is None:
        return None
    if isinstance(value, tuple):
        value = list(value)
    return parse_shape(value, "input_shape")


def _batch(value):
    from .errors import UsageError
    from .spec import MAX_DIM

    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DIM:
        raise UsageError(f"batch must be a whole number from 1 to {MAX_DIM:,}, got {value!r}")
    return value


def load(spec, *, input_shape=None, batch=None, args=None):
    """Load a spec file (or bundled net name, or ``FILE:VARIANT``) into a Graph; a Graph is
    returned as it is (with ``input_shape``/``batch`` applied). ``input_shape`` is CxHxW:
    '3x224x224' or (3, 224, 224); ``args`` replaces net arguments ({'num_classes': 10}, as --set;
    a text value is an expression over the net's other arguments)."""
    from dataclasses import replace

    from .graph import Graph
    from .graph import load_graph
    from .spec.bundled import resolve_spec

    input_shape, batch, args = _input_shape(input_shape), _batch(batch), _args(args)
    if isinstance(spec, Graph):
        if args:
            raise TypeError("args= needs a spec to expand, not a Graph")
        changes = {k: v for k, v in (("input_shape", input_shape), ("batch", batch)) if v is not None}
        return replace(spec, **changes)
    if not isinstance(spec, str) and not hasattr(spec, "__fspath__"):
        raise TypeError(f"spec must be a path, a bundled net's name or a Graph, not {type(spec).__name__}")
    source = spec if getattr(spec, "variant", None) else resolve_spec(str(spec))
    return load_graph(source, input_shape=input_shape, batch=batch, settings=args)


def _args(value):
    from .errors import UsageError

    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise UsageError(f"args must map argument names to values, got {type(value).__name__}")
    return value


def analyze(spec, *, input_shape=None, batch=None, dtype="float32", args=None, mode="eval"):
    """Analyse a spec file, bundled net name or Graph; returns a Report. ``input_shape`` is CxHxW
    ('3x512x512' or (3, 512, 512)); ``args`` replaces net arguments (as --set); ``mode`` is eval
    or train (layers of train-only outputs run); mistakes raise archcalc.errors.ArchcalcError."""
    from .analysis import analyze as _analyze

    input_shape, batch = _input_shape(input_shape), _batch(batch)
    graph = load(spec, input_shape=input_shape, batch=batch, args=args)
    return _analyze(graph, input_shape=input_shape, batch=batch, dtype=dtype, mode=mode)


def analyze_text(text, *, name="<spec>", input_shape=None, batch=None, dtype="float32", args=None, variant=None,
                 mode="eval"):
    """Analyse a spec given as YAML text (``variant``: one of its variants)."""
    from .analysis import analyze as _analyze
    from .graph import load_graph

    input_shape, batch, args = _input_shape(input_shape), _batch(batch), _args(args)
    graph = load_graph(name, text=text, input_shape=input_shape, batch=batch, variant=variant, settings=args)
    return _analyze(graph, input_shape=input_shape, batch=batch, dtype=dtype, mode=mode)


def to_torch(spec, *, input_shape=None, geometric=False):
    """The spec's PyTorch twin (torch.nn.Module, module names = the spec's layer names).
    Imports torch; needs the 'torch' extra."""
    from .pytorch.twin import build_module
    from .pytorch.verify import require_torch

    require_torch()
    return build_module(load(spec, input_shape=input_shape), geometric=geometric)
