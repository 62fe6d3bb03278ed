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


def load(spec, *, input_shape=None, batch=None, args=None, partial=False):
    """Load a spec file (or bundled net name, or ``FILE:VARIANT``) into a Graph; a Graph is
    returned as it is (with ``input_shape``/``batch`` applied). ``input_shape`` is CxHxW:
    '3x224x224' or (3, 224, 224); ``args`` replaces net arguments ({'num_classes': 10}, as --set;
    a text value is an expression over the net's other arguments). A torch.nn.Module, or a model
    source ('torchvision:resnet50', 'timm:NAME', 'model.py:Net(width=64)', an .onnx or .pt2 file)
    is imported first (``partial``: leave out what archcalc cannot express, listed in
    ``graph.imported.not_counted``, instead of raising)."""
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
    imported = _imported(spec, input_shape, partial)
    if imported is not None:
        if args:
            raise TypeError("args= sets a spec's net arguments; an imported model has none")
        graph = load_graph(imported.source.text, text=imported.text, input_shape=input_shape, batch=batch)
        graph.imported = imported
        return graph
    if partial:
        raise TypeError("partial= applies to an imported model")
    if not isinstance(spec, str) and not hasattr(spec, "__fspath__"):
        raise TypeError(f"spec must be a path, a bundled net's name, a Graph or a torch.nn.Module, not {type(spec).__name__}")
    source = spec if getattr(spec, "variant", None) else resolve_spec(str(spec))
    return load_graph(source, input_shape=input_shape, batch=batch, settings=args)


def _is_module(value) -> bool:
    """A torch.nn.Module, told without importing torch."""
    return any(f"{c.__module__}.{c.__qualname__}" == "torch.nn.modules.module.Module" for c in type(value).__mro__)


def _imported(spec, input_shape, partial):
    """The import of a torch.nn.Module or of a model source text, or None for a spec."""
    from .importing.sources import ImportedSpec, Source, import_source, parse_source

    if _is_module(spec):
        from .errors import UsageError
        from .pytorch.importer import import_module

        if input_shape is None:
            raise UsageError("analysing a torch.nn.Module needs input_shape, e.g. input_shape=(3, 224, 224)")
        name = type(spec).__name__
        result = import_module(spec, input_shape, name=name, partial=partial)
        return ImportedSpec(Source("module", name, target=name), result.text, list(result.not_counted), result)
    if isinstance(spec, str):
        source = parse_source(spec)
        if source is not None:
            return import_source(source, input_shape, partial)
    return None


def _args(value):
    from .errors import UsageError

    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise UsageError(f"args must map argument names to values, got {type(value).__name__}")
    return value


def analyze(spec, *, input_shape=None, batch=None, dtype="float32", args=None, mode="eval", partial=False):
    """Analyse a spec file, bundled net name, Graph, torch.nn.Module or model source
    ('torchvision:resnet50', ...); returns a Report. ``input_shape`` is CxHxW ('3x512x512' or
    (3, 512, 512)); ``args`` replaces net arguments (as --set); ``mode`` is eval or train (layers
    of train-only outputs run); ``partial``: an imported model's operations archcalc cannot
    express are left out and listed in ``report.not_counted``; mistakes raise
    archcalc.errors.ArchcalcError."""
    from .analysis import analyze as _analyze

    input_shape, batch = _input_shape(input_shape), _batch(batch)
    graph = load(spec, input_shape=input_shape, batch=batch, args=args, partial=partial)
    report = _analyze(graph, input_shape=input_shape, batch=batch, dtype=dtype, mode=mode)
    imported = getattr(graph, "imported", None)
    if imported is not None:
        report.not_counted = list(imported.not_counted)
    return report


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
