"""Tracing a module for the importer: torch.fx's symbolic trace, with the modules and functions
archcalc reads (archcalc.layers.imports.torch_ops) kept whole, then one run on the meta device (or
under FakeTensorMode for a module with real weights: no arithmetic, no memory) recording every
node's value, so each node's shape (and each size computed on the way) is known."""

from __future__ import annotations

import contextlib
import os
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


class FxCannotTrace(ImportError_):
    """torch.fx cannot follow the module's code (the importer then tries torch.export)."""




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


class _ForwardRaised(Exception):
    """The model's own code raised while it ran on the example input (at ``node``)."""

    def __init__(self, node: str, error: BaseException):
        super().__init__(node)
        self.node, self.error = node, error


class _ShapedProxy(fx.Proxy):
    """A proxy that knows its tensor's real (meta) sizes: model code that branches on a shape
    (timm's VGG head: ``if x.shape[-2] < kernel``) traces; code that branches on values still
    stops the trace, as data-dependent control flow."""

    def _value(self):
        return self.tracer.values.get(self.node)

    @property
    def shape(self):
        value = self._value()
        return value.shape if isinstance(value, torch.Tensor) else super().__getattr__("shape")

    def size(self, dim=None):
        value = self._value()
        if not isinstance(value, torch.Tensor):
            return self.tracer.create_proxy("call_method", "size", (self,) if dim is None else (self, dim), {})
        return value.size() if dim is None else value.size(dim)

    def dim(self):
        value = self._value()
        return value.dim() if isinstance(value, torch.Tensor) else self.tracer.create_proxy("call_method", "dim", (self,), {})

    @property
    def ndim(self):
        return self.dim()


class _Tracer(fx.Tracer):
    """Keeps the modules the tables read (and torch.nn's other modules, which then stop the import
    by name) whole; traces through everything else; runs every op as it is recorded on the example
    input (meta or fake tensors), so each node's value is known (``values``) and sizes are numbers."""

    def __init__(self, example=None, stack_traces: bool = False):
        super().__init__(autowrap_functions=_wrapped_functions())
        self.record_stack_traces = stack_traces
        self.example = example
        self.values: dict = {}
        self.evaluating = False

    def call_module(self, m, forward, args, kwargs):
        if self.evaluating:  # a module called while an op runs on the example: just run it
            return forward(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        if self.evaluating:  # a parameter read while an op runs: the tensor itself
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def is_leaf_module(self, m: torch.nn.Module, qualname: str) -> bool:
        return torch_ops.table_key(type(m), torch_ops.MODULES) in torch_ops.MODULES or super().is_leaf_module(m, qualname)

    def proxy(self, node: fx.Node) -> fx.Proxy:
        return _ShapedProxy(node, self)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        proxy = super().create_proxy(kind, target, args, kwargs, name, type_expr, proxy_factory_fn)
        if self.example is not None and kind != "output":
            try:
                self.values[proxy.node] = self._evaluate(proxy.node, kind, target, args, kwargs)
            except ArchcalcError:
                raise
            except Exception as exc:  # noqa: BLE001  the model's own code raised on the example
                raise _ForwardRaised(proxy.node.name, exc) from None
        return proxy

    def _evaluate(self, node, kind, target, args, kwargs):
        def real(value):
            return fx.node.map_aggregate(value, lambda a: self.values[a.node] if isinstance(a, fx.Proxy) else a)

        args, kwargs = real(args), real(kwargs)
        if kind == "placeholder":
            if any(n.op == "placeholder" for n in self.values):
                if args:  # an optional argument keeps its default
                    return args[0]
                raise ImportError_(f"forward takes more than one tensor ('{target}'); archcalc imports models of one input")
            return self.example
        self.evaluating = True
        try:
            if kind == "get_attr":
                value = self.root
                for part in str(target).split("."):
                    value = getattr(value, part)
                return value
            if kind == "call_module":
                return self.root.get_submodule(target)(*args, **kwargs)
            if kind == "call_function":
                return target(*args, **kwargs)
            return getattr(args[0], target)(*args[1:], **kwargs)
        finally:
            self.evaluating = False


@dataclass
class Traced:
    """A traced module: its fx graph, the module, and each node's value from one meta run."""

    graph: fx.Graph
    root: torch.nn.Module
    values: dict  # node -> its value (meta/fake tensors, sizes, tuples)
    input_shape: tuple = ()
    batch: int = 1


_HERE = os.path.dirname(os.path.abspath(__file__))


def source_line(node: fx.Node) -> str:
    """'file.py:LINE' of the model code that made the node, from fx's recorded stack (an
    installed package's file by its path in the package)."""
    trace = node.stack_trace or ""
    frames = [(f, n) for f, n in re.findall(r'File "([^"]+)", line (\d+)', trace)
              if "/torch/" not in f.replace("\\", "/") and not f.startswith(_HERE)]
    if not frames:
        return ""
    file, line = frames[-1]
    file = re.sub(r"^.*[/\\](?:site|dist)-packages[/\\]", "", file)
    return f"{file}:{line}"


def line_of(module: torch.nn.Module, node_name: str, input_shape=None, batch: int = 1) -> str:
    """The source line of one node, traced again with stack traces: recording them for every
    node costs a third of an import, so it is done only when a message needs a line."""
    with _example(module, input_shape, batch) as example:
        tracer = _Tracer(example, stack_traces=True)
        try:
            tracer.trace(module)
        except Exception:  # noqa: BLE001  the failing node is in the graph all the same
            pass
    return next((source_line(n) for n in tracer.graph.nodes if n.name == node_name), "")


@contextlib.contextmanager
def _example(module: torch.nn.Module, input_shape, batch: int):
    """The example input, and the mode it runs in: the meta device for a module built there (or
    one holding nothing), FakeTensorMode for one with real weights (no arithmetic, no memory)."""
    if input_shape is None:
        yield None
        return
    with torch.no_grad():
        if on_meta(module) or not [*module.parameters(), *module.buffers()]:
            yield torch.empty(batch, *input_shape, device="meta")
        else:
            from torch._subclasses.fake_tensor import FakeTensorMode

            with FakeTensorMode(allow_non_fake_inputs=True) as mode:
                yield mode.from_tensor(torch.empty(batch, *input_shape))


def trace(module: torch.nn.Module, input_shape: tuple[int, ...], batch: int = 1) -> Traced:
    shape = "x".join(str(s) for s in input_shape)
    with _example(module, input_shape, batch) as example:
        tracer = _Tracer(example)
        try:
            graph = tracer.trace(module)
        except _ForwardRaised as raised:
            line = line_of(module, raised.node, input_shape, batch)
            at = f" at {raised.node} ({line})" if line else ""
            raise ImportError_(f"{type(module).__name__}.forward raised on a {shape} input{at}: "
                               f"{_reason(raised.error)}") from None
        except ArchcalcError:
            raise
        except Exception as exc:  # noqa: BLE001  fx raises many kinds for code it cannot follow
            raise FxCannotTrace(f"torch.fx cannot trace {type(module).__name__}: {_reason(exc)}") from None
    return Traced(graph, module, tracer.values, tuple(input_shape), batch)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "symbolically traced variables cannot be used as inputs to control flow" in text:
        text = "data-dependent control flow (an 'if' or loop on a tensor's value)"
    return f"{type(exc).__name__}: {text[:300]}"


def on_meta(module: torch.nn.Module) -> bool:
    return any(t.is_meta for t in module.parameters())
