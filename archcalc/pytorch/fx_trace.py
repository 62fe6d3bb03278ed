"""Tracing a module for the importer: torch.fx's symbolic trace, with the modules and functions
archcalc reads (archcalc.layers.imports.torch_ops) kept whole, then one run on the meta device (or
under FakeTensorMode for a module with real weights: no arithmetic, no memory) recording every
node's value, so each node's shape (and each size computed on the way) is known."""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass

import torch
import torch.fx as fx

from ..errors import ArchcalcError
from ..layers.imports import torch_ops
from ..layers.imports.torch_ops import class_key  # noqa: F401  (the importer reads it from here)


class ImportError_(ArchcalcError):
    """The module cannot be traced or imported (one line)."""




def function_key(function) -> str:
    module = getattr(function, "__module__", None) or "torch"
    if module == "_operator":
        module = "operator"
    if module == "torch._C._nn":  # the functional ops torch.nn.functional re-exports as they are
        module = "torch.nn.functional"
    elif module in ("torch._C._VariableFunctions", "torch.functional"):
        module = "torch"
    return f"{module}.{getattr(function, '__name__', repr(function))}"


def _wrapped_functions() -> tuple:
    """The functions of torch_ops.WRAPPED_FUNCTIONS whose module is already imported (a model
    that uses one has imported it)."""
    found = []
    for key in torch_ops.WRAPPED_FUNCTIONS:
        module, _, name = key.rpartition(".")
        if module in sys.modules:
            function = getattr(sys.modules[module], name, None)
            if function is not None:
                found.append(function)
    return tuple(found)


class _Tracer(fx.Tracer):
    """Keeps the modules the tables read (and torch.nn's other modules, which then stop the import
    by name) whole; traces through everything else."""

    def __init__(self):
        super().__init__(autowrap_functions=_wrapped_functions())
        self.record_stack_traces = True

    def is_leaf_module(self, m: torch.nn.Module, qualname: str) -> bool:
        return class_key(type(m)) in torch_ops.MODULES or super().is_leaf_module(m, qualname)


@dataclass
class Traced:
    """A traced module: its fx graph, the module, and each node's value from one meta run."""

    graph: fx.Graph
    root: torch.nn.Module
    values: dict  # node -> its value (meta/fake tensors, sizes, tuples)


def source_line(node: fx.Node) -> str:
    """'file.py:LINE' of the model code that made the node, from fx's recorded stack."""
    trace = node.stack_trace or ""
    frames = [(f, n) for f, n in re.findall(r'File "([^"]+)", line (\d+)', trace)
              if "/torch/" not in f.replace("\\", "/")]
    if not frames:
        return ""
    file, line = frames[-1]
    return f"{file}:{line}"


def trace(module: torch.nn.Module, input_shape: tuple[int, ...], batch: int = 1) -> Traced:
    try:
        graph = _Tracer().trace(module)
    except Exception as exc:  # noqa: BLE001  fx raises many kinds for code it cannot follow
        raise ImportError_(f"torch.fx cannot trace {type(module).__name__}: {_reason(exc)}") from None
    values = _run(graph, module, input_shape, batch)
    return Traced(graph, module, values)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "symbolically traced variables cannot be used as inputs to control flow" in text:
        text = "data-dependent control flow (an 'if' or loop on a tensor's value)"
    return f"{type(exc).__name__}: {text[:300]}"


class _Recorder(fx.Interpreter):
    def __init__(self, module):
        super().__init__(module)
        self.values = {}

    def run_node(self, n):
        value = super().run_node(n)
        self.values[n] = value
        return value


def on_meta(module: torch.nn.Module) -> bool:
    return any(t.is_meta for t in module.parameters())


def _run(graph: fx.Graph, module: torch.nn.Module, input_shape, batch: int) -> dict:
    """Every node's value from one run of the traced graph: on the meta device for a module built
    there, under FakeTensorMode (no arithmetic, no memory) for one with real weights."""
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise ImportError_(f"{type(module).__name__}.forward takes {len(placeholders)} tensors; archcalc imports "
                           "models of one input")
    gm = fx.GraphModule(module, graph)
    recorder = _Recorder(gm)
    try:
        with torch.no_grad():
            if on_meta(module) or not [*module.parameters(), *module.buffers()]:
                recorder.run(torch.empty(batch, *input_shape, device="meta"))
            else:
                from torch._subclasses.fake_tensor import FakeTensorMode

                with FakeTensorMode(allow_non_fake_inputs=True) as mode:
                    recorder.run(mode.from_tensor(torch.empty(batch, *input_shape)))
    except ArchcalcError:
        raise
    except Exception as exc:  # noqa: BLE001  the model's own forward raised
        where = next((n for n in graph.nodes if n not in recorder.values), None)
        at = f" at {where.name} ({source_line(where)})" if where is not None and source_line(where) else ""
        shape = "x".join(str(s) for s in input_shape)
        raise ImportError_(f"{type(module).__name__}.forward raised on a {shape} input{at}: {_reason(exc)}") from None
    return recorder.values


def import_object(path: str):
    """A module-level object by its dotted path (``package.module.name``)."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)
