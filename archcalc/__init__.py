"""archcalc: exact, explained analysis of CNN architectures from a YAML spec.

The analysis path is pure Python: importing archcalc never imports torch.
"""

from __future__ import annotations

__version__ = "0.1.0"


def load(spec, *, input_shape=None, batch=None):
    """Load a spec file (or bundled net name) into a Graph; a Graph is returned as it is (with
    ``input_shape``/``batch`` applied)."""
    from dataclasses import replace

    from .graph import Graph
    from .graph import load_graph
    from .spec.bundled import resolve_spec

    if isinstance(spec, Graph):
        changes = {k: v for k, v in (("input_shape", input_shape), ("batch", batch)) if v is not None}
        return replace(spec, **{k: tuple(v) if k == "input_shape" else v for k, v in changes.items()})
    if not isinstance(spec, str) and not hasattr(spec, "__fspath__"):
        raise TypeError(f"spec must be a path, a bundled net's name or a Graph, not {type(spec).__name__}")
    return load_graph(resolve_spec(str(spec)), input_shape=input_shape, batch=batch)


def analyze(spec, *, input_shape=None, batch=None, dtype="float32"):
    """Analyse a spec file, bundled net name or Graph; returns a Report."""
    from .analysis import analyze as _analyze

    graph = load(spec, input_shape=input_shape, batch=batch)
    return _analyze(graph, input_shape=input_shape, batch=batch, dtype=dtype)


def analyze_text(text, *, name="<spec>", input_shape=None, batch=None, dtype="float32"):
    """Analyse a spec given as YAML text."""
    from .analysis import analyze as _analyze
    from .graph import load_graph

    graph = load_graph(name, text=text, input_shape=input_shape, batch=batch)
    return _analyze(graph, input_shape=input_shape, batch=batch, dtype=dtype)


def to_torch(spec, *, input_shape=None, geometric=False):
    """The spec's PyTorch twin (torch.nn.Module, module names = the spec's layer names).
    Imports torch; needs the 'torch' extra."""
    from .pytorch.twin import build_module
    from .pytorch.verify import require_torch

    require_torch()
    return build_module(load(spec, input_shape=input_shape), geometric=geometric)
