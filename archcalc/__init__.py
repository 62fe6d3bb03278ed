"""archcalc: exact, explained analysis of CNN architectures from a YAML spec.

The analysis path is pure Python: importing archcalc never imports torch.
"""

from __future__ import annotations

__version__ = "0.1.0"


def load(spec, *, input_shape=None, batch=None):
    """Load a spec file (or bundled net name) into a Graph."""
    from .spec import load_graph
    from .zoo import resolve_spec

    return load_graph(resolve_spec(str(spec)), input_shape=input_shape, batch=batch)


def analyze(spec, *, input_shape=None, batch=None, dtype="float32"):
    """Analyse a spec file (or bundled net name); returns a Report."""
    from .analysis import analyze as _analyze

    graph = load(spec, input_shape=input_shape, batch=batch)
    return _analyze(graph, input_shape=input_shape, batch=batch, dtype=dtype)


def analyze_text(text, *, name="<spec>", input_shape=None, batch=None, dtype="float32"):
    """Analyse a spec given as YAML text."""
    from .analysis import analyze as _analyze
    from .spec import load_graph

    graph = load_graph(name, text=text, input_shape=input_shape, batch=batch)
    return _analyze(graph, input_shape=input_shape, batch=batch, dtype=dtype)


def to_torch(spec, *, input_shape=None, geometric=False):
    """The spec's PyTorch twin (torch.nn.Module, module names = the spec's layer names).
    Imports torch; needs the 'torch' extra."""
    from .torchbuild import build_module
    from .verify import require_torch

    require_torch()
    return build_module(load(spec, input_shape=input_shape), geometric=geometric)
