"""A traced module (archcalc.pytorch.fx_trace) -> the layers of an imported net
(archcalc.importing.layout.ImportedNet): each module call and functional op read through the
tables of archcalc.layers.imports.torch_ops. An op no table reads stops the import naming the op,
its module path and source line; with ``partial`` it is listed as not counted instead (and so is
everything that reads its output, when it changes the shape)."""

from __future__ import annotations

import re
from collections import Counter

import torch
import torch.fx as fx

from ..importing.layout import Entry, ImportedNet
from ..layers.imports import torch_ops
from ..layers.imports.torch_ops import Alias, OpCall, ParameterArg, TensorArg, Unsupported
from .fx_trace import ImportError_, Traced, class_key, function_key, line_of
from .imported import MultiOutput as _Multi, Uncounted as _Uncounted


class UnsupportedOp(ImportError_):
    pass


def _scope_of(node: fx.Node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    path = next(reversed(stack.values()))[0]
    return path


def _base_name(node: fx.Node) -> str:
    return re.sub(r"_\d+$", "", node.name)


class _Importer:
    def __init__(self, traced: Traced, partial: bool):
        self.traced = traced
        self.partial = partial
        self.modules = dict(traced.root.named_modules())
        self.entries: list[Entry] = []
        self.producer: dict[fx.Node, object] = {}  # tensor node -> entry index, None (the input), _Multi, _Uncounted
        self.not_counted: list[str] = []
        self.calls = Counter(n.target for n in traced.graph.nodes if n.op == "call_module")
        self.seen_calls: Counter = Counter()
        self.packs: dict[fx.Node, tuple] = {}

    # -- nodes ---------------------------------------------------------------------------------
    def run(self) -> list[tuple[int, str]]:
        outputs = []
        for node in self.traced.graph.nodes:
            value = self.traced.values.get(node)
            if node.op == "placeholder":
                self.producer[node] = None
            elif node.op == "output":
                outputs = self._outputs(node)
            elif node.op == "get_attr":
                if isinstance(value, torch.Tensor):
                    self.producer[node] = ("parameter", node.target)
            elif node.op == "call_function" and isinstance(node.target, type) and issubclass(node.target, tuple):
                self.packs[node] = (node.args, node.kwargs)  # a namedtuple of outputs (GoogLeNetOutputs)
            elif isinstance(value, torch.Tensor) and self._parameter_view(node):
                self.producer[node] = self.producer[node.args[0]]
            elif isinstance(value, torch.Tensor):
                self._call(node, value)
            elif isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
                self._multi(node)
        return outputs

    def _describe(self, node: fx.Node) -> tuple[str, str]:
        """(the op as the tables key it, the module path)."""
        if node.op == "call_module":
            return class_key(type(self.modules[node.target])), node.target
        if node.op == "call_function":
            return function_key(node.target), _scope_of(node)
        return f"Tensor.{node.target}", _scope_of(node)

    def _key(self, node: fx.Node) -> tuple[str, dict]:
        if node.op == "call_module":
            return torch_ops.table_key(type(self.modules[node.target]), torch_ops.MODULES), torch_ops.MODULES
        if node.op == "call_function":
            return function_key(node.target), torch_ops.FUNCTIONS
        return str(node.target), torch_ops.METHODS

    def _unsupported(self, node: fx.Node, reason: str, shape_kept: bool) -> None:
        line = line_of(self.traced.root, node.name, self.traced.input_shape, self.traced.batch)
        message = f"{self._origin(node, line)}: {reason}"
        if not self.partial:
            raise UnsupportedOp(f"unsupported operation {message}; `--partial` analyses the rest")
        if node.op == "call_module":
            module = self.modules[node.target]
            held = sum(p.numel() for p in module.parameters()) + sum(b.numel() for b in module.buffers())
            if held:
                message += f" [{held:,} parameters and buffers not counted]"
        self.not_counted.append(message)
        tensors = [a for a in node.all_input_nodes if a in self.producer]
        if shape_kept and tensors:
            self.producer[node] = self.producer[tensors[0]]
        else:
            before = self.producer[tensors[0]] if tensors else None
            self.producer[node] = before if isinstance(before, _Uncounted) else _Uncounted(before)

    def _origin(self, node: fx.Node, line: str = "") -> str:
        """The op as the tables key it, where it is (the module path) and the model's source line."""
        op, path = self._describe(node)
        return f"{op} at {path or 'the top level'}{f' ({line})' if line else ''}"

    def _call(self, node: fx.Node, value: torch.Tensor) -> None:
        if node.op == "call_function" and function_key(node.target) == "operator.getitem" and \
                isinstance(self.producer.get(node.args[0]), _Multi):
            multi = self.producer[node.args[0]]
            part = node.args[1]
            if isinstance(part, int) and part < 0:  # parts[-1]: the last
                part += len(self.traced.values[multi.node])
            self._convert(multi.node, value, part=part, name_node=node)
            return
        self._convert(node, value)

    def _multi(self, node: fx.Node) -> None:
        key, _ = self._key(node)
        kind = "method" if node.op == "call_method" else "function"
        if f"{kind}:{key}" in torch_ops.MULTI_OUTPUT:
            self.producer[node] = _Multi(node)
        else:
            self._unsupported(node, "returns several tensors", shape_kept=False)

    def _args(self, node: fx.Node):
        """The call's arguments with tensors as TensorArg; the producers of those tensors."""
        tensors: list[fx.Node] = []
        problem = []

        def convert(arg):
            if isinstance(arg, fx.Node):
                if arg in self.producer:
                    source = self.producer[arg]
                    if isinstance(source, tuple):  # a parameter: the rule's layer may hold it
                        return ParameterArg(source[1], tuple(self.traced.values[arg].shape))
                    if isinstance(source, _Uncounted):
                        problem.append("reads the output of an operation not counted")
                    tensors.append(arg)
                    value = self.traced.values[arg]
                    return TensorArg(len(tensors) - 1, tuple(value.shape[1:]))
                return self.traced.values.get(arg)
            if isinstance(arg, (list, tuple)) and not hasattr(arg, "_fields"):
                return type(arg)(convert(a) for a in arg)
            if isinstance(arg, dict):
                return {k: convert(v) for k, v in arg.items()}
            if isinstance(arg, slice):
                return slice(convert(arg.start), convert(arg.stop), convert(arg.step))
            return arg

        args = tuple(convert(a) for a in node.args)
        kwargs = {k: convert(v) for k, v in node.kwargs.items()}
        return args, kwargs, tensors, problem

    def _parameter_view(self, node: fx.Node) -> bool:
        """A parameter reshaped or viewed (timm's ``gamma.reshape(1, -1, 1, 1)``) is still that
        parameter, read in its new shape by the call that uses it."""
        return (node.op == "call_method" and f"method:{node.target}" in torch_ops.PARAMETER_VIEWS and bool(node.args)
                and isinstance(self.producer.get(node.args[0]), tuple))

    def _convert(self, node: fx.Node, value, part=None, name_node=None) -> None:
        name_node = name_node or node
        key, table = self._key(node)
        args, kwargs, tensors, problem = self._args(node)
        out = tuple(value.shape[1:])
        if problem:
            return self._unsupported(name_node, problem[0], shape_kept=False)
        rule = table.get(key)
        if rule is None:
            return self._unsupported(name_node, "archcalc has no layer type for it",
                                     shape_kept=bool(tensors) and out == tuple(self.traced.values[tensors[0]].shape[1:]))
        module = self.modules[node.target] if node.op == "call_module" else None
        if module is not None and self.calls[node.target] > 1 and any(True for _ in module.parameters()):
            return self._unsupported(name_node, f"a module with parameters called {self.calls[node.target]} times "
                                     "(weight sharing)", shape_kept=False)
        parameters = _parameters_in((args, kwargs))
        if parameters and not tensors:  # code working on a parameter itself (a weight reshaped in forward)
            return self._unsupported(name_node, f"reads the parameter '{parameters[0].target}' directly", shape_kept=False)
        try:
            result = rule(OpCall(module, args, kwargs, out, part))
        except Unsupported as exc:
            return self._unsupported(name_node, str(exc), shape_kept=False)
        held = set() if isinstance(result, Alias) else {p for emit in result for p in emit.parameters}
        loose = [a.target for a in parameters if a.target not in held]
        if loose:
            return self._unsupported(name_node, f"reads the parameter '{loose[0]}' directly", shape_kept=False)
        if isinstance(result, Alias):
            self.producer[name_node] = self.producer[tensors[result.index]]
        else:
            self._emit(node, name_node, result, tensors, out, part)
        self._follow_in_place(node, name_node)

    def _follow_in_place(self, node: fx.Node, name_node: fx.Node) -> None:
        """``out.mul_(g)`` whose result nothing reads (fx records it, but the code goes on with
        ``out``, now changed in place): later readers of ``out`` read the in-place op's result."""
        if node.op == "call_method" and str(node.target).endswith("_") and not name_node.users and \
                node.args and isinstance(node.args[0], fx.Node) and node.args[0] in self.producer:
            self.producer[node.args[0]] = self.producer[name_node]

    def _emit(self, node, name_node, emits, tensors, out, part) -> None:
        scope, local, is_module, expect = self._name(node, name_node, part)
        first = len(self.entries)
        origin = self._origin(node)
        for k, emit in enumerate(emits):
            if k == 0 or emit.inputs is not None:
                picks = emit.inputs if emit.inputs is not None else range(len(tensors))
                inputs = [self.producer[tensors[i]] for i in picks]
            else:
                inputs = [len(self.entries) - 1]
            last = k == len(emits) - 1
            if k == 0 and emit.name:
                local = emit.name
            self.entries.append(Entry(
                scope=scope, local=local if k == 0 else f"{local}_{emit.suffix or k}", type=emit.type,
                args=emit.args, inputs=inputs, functional=node.op != "call_module", shape=out if last else None,
                expect=expect if k == 0 else None, origin=origin, module=is_module and k == 0))
        self.producer[name_node] = first + len(emits) - 1

    def _name(self, node, name_node, part):
        """(scope, local name, whether it names a module, the module's (parameters, buffers))."""
        if node.op == "call_module":
            parts = tuple(str(node.target).split("."))
            module = self.modules[node.target]
            self.seen_calls[node.target] += 1
            count, calls = self.seen_calls[node.target], self.calls[node.target]
            expect = (sum(p.numel() for p in module.parameters()), sum(b.numel() for b in module.buffers()))
            if count < calls:  # an earlier call of a module called again: relu1, relu2, then relu
                return parts[:-1], f"{parts[-1]}{count}", False, expect
            return parts[:-1], parts[-1], True, expect
        scope = tuple(p for p in _scope_of(node).split(".") if p) if _scope_of(node) else ()
        base = _base_name(node)
        return scope, base if part is None else f"{base}{part}", False, None

    def _outputs(self, node: fx.Node) -> list[tuple[int, str]]:
        found: list[fx.Node] = []

        def walk(arg):
            if isinstance(arg, fx.Node):
                if arg in self.producer:
                    found.append(arg)
                elif arg in self.packs:
                    walk(self.packs[arg])
            elif isinstance(arg, dict):
                for v in arg.values():
                    walk(v)
            elif isinstance(arg, (list, tuple)):
                for v in arg:
                    walk(v)

        walk(node.args[0])
        result = []
        for arg in found:
            source = self.producer[arg]
            if isinstance(source, _Uncounted):  # --partial: the last layer counted before it
                source = source.before
            if isinstance(source, int) and (source, "all") not in result:
                result.append((source, "all"))
        if not result:
            raise ImportError_("the model's output is not computed by any layer archcalc counts")
        return result


def _parameters_in(value) -> list[ParameterArg]:
    if isinstance(value, ParameterArg):
        return [value]
    if isinstance(value, (list, tuple)):
        return [p for item in value for p in _parameters_in(item)]
    if isinstance(value, dict):
        return [p for item in value.values() for p in _parameters_in(item)]
    return []


def read_graph(traced: Traced, input_shape, name: str, partial: bool = False) -> ImportedNet:
    importer = _Importer(traced, partial)
    outputs = importer.run()
    scope_classes = {tuple(path.split(".")): class_key(type(m)) for path, m in importer.modules.items() if path}
    return ImportedNet(name=name, input_shape=tuple(input_shape), entries=importer.entries, outputs=outputs,
                       scope_classes=scope_classes, not_counted=importer.not_counted)
