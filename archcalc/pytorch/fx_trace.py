"""Tracing a module for the importer: torch.fx's symbolic trace, with the modules and functions
archcalc reads (archcalc.layers.imports.torch_ops) kept whole, then one run on the meta device (or
under FakeTensorMode for a module with real weights: no arithmetic, no memory) recording every
node's value, so each node's shape (and each size computed on the way) is known."""

from __future__ import annotations

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

    def __init__(self, stack_traces: bool = False):
        super().__init__(autowrap_functions=_wrapped_functions())
        self.record_stack_traces = stack_traces

    def is_leaf_module(self, m: torch.nn.Module, qualname: str) -> bool:
        return class_key(type(m)) in torch_ops.MODULES or super().is_leaf_module(m, qualname)


@dataclass
class Traced:
    """A traced module: its fx graph, the module, and each node's value from one meta run."""

    graph: fx.Graph
    root: torch.nn.Module
    values: dict  # node -> its value (meta/fake tensors, sizes, tuples)


def source_line(node: fx.Node) -> str:
    """'file.py:LINE' of the model code that made the node, from fx's recorded stack (an
    installed package's file by its path in the package)."""
    trace = node.stack_trace or ""
    frames = [(f, n) for f, n in re.findall(r'File "([^"]+)", line (\d+)', trace)
              if "/torch/" not in f.replace("\\", "/")]
    if not frames:
        return ""
    file, line = frames[-1]
    file = re.sub(r"^.*[/\\](?:site|dist)-packages[/\\]", "", file)
    return f"{file}:{line}"


def line_of(module: torch.nn.Module, node_name: str) -> str:
    """The source line of one node, traced again with stack traces: recording them for every
    node costs a third of an import, so it is done only when a message needs a line."""
    try:
        graph = _Tracer(stack_traces=True).trace(module)
    except Exception:  # noqa: BLE001  it traced once; a second failure leaves the line out
        return ""
    return next((source_line(n) for n in graph.nodes if n.name == node_name), "")


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


def on_meta(module: torch.nn.Module) -> bool:
    return any(t.is_meta for t in module.parameters())


def _execute(graph: fx.Graph, module: torch.nn.Module, x, values: dict) -> None:
    """Run the graph's nodes in order, keeping every value (what fx.Interpreter does, without
    building a GraphModule's code first)."""
    modules = dict(module.named_modules())

    def load(arg):
        return fx.node.map_arg(arg, lambda n: values[n])

    for node in graph.nodes:
        if node.op == "placeholder":
            values[node] = x
        elif node.op == "get_attr":
            target = module
            for part in str(node.target).split("."):
                target = getattr(target, part)
            values[node] = target
        elif node.op == "call_module":
            values[node] = modules[node.target](*load(node.args), **load(node.kwargs))
        elif node.op == "call_function":
            values[node] = node.target(*load(node.args), **load(node.kwargs))
        elif node.op == "call_method":
            args = load(node.args)
            values[node] = getattr(args[0], node.target)(*args[1:], **load(node.kwargs))
        elif node.op == "output":
            values[node] = load(node.args[0])


def _run(graph: fx.Graph, module: torch.nn.Module, input_shape, batch: int) -> dict:
    """Every node's value from one run of the traced graph: on the meta device for a module built
    there, under FakeTensorMode (no arithmetic, no memory) for one with real weights."""
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise ImportError_(f"{type(module).__name__}.forward takes {len(placeholders)} tensors; archcalc imports "
                           "models of one input")
    values: dict = {}
    try:
        with torch.no_grad():
            if on_meta(module) or not [*module.parameters(), *module.buffers()]:
                _execute(graph, module, torch.empty(batch, *input_shape, device="meta"), values)
            else:
                from torch._subclasses.fake_tensor import FakeTensorMode

                with FakeTensorMode(allow_non_fake_inputs=True) as mode:
                    _execute(graph, module, mode.from_tensor(torch.empty(batch, *input_shape)), values)
    except ArchcalcError:
        raise
    except Exception as exc:  # noqa: BLE001  the model's own forward raised
        where = next((n for n in graph.nodes if n not in values), None)
        line = line_of(module, where.name) if where is not None else ""
        at = f" at {where.name} ({line})" if line else ""
        shape = "x".join(str(s) for s in input_shape)
        raise ImportError_(f"{type(module).__name__}.forward raised on a {shape} input{at}: {_reason(exc)}") from None
    return values
