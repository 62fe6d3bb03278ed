"""What the ATen importer (archcalc.pytorch.aten_import) reads of a torch.export program besides
its ops: the graph signature (which placeholders are parameters, buffers and constants, by
state_dict name, and their sizes; the user input and outputs), an op's table key, a module class's
table key, and the static shape of the input."""

from __future__ import annotations

import re

import torch

from ..layers.imports import torch_ops
from .fx_trace import ImportError_


def op_key(target) -> str:
    """``aten.conv2d`` for aten.conv2d.default; a higher-order op or Python function by its name."""
    if isinstance(target, torch._ops.OpOverload):
        return f"{target.namespace}.{target._schema.name.split('::')[-1]}"
    if isinstance(target, torch._ops.HigherOrderOperator):
        return f"higher_order.{target.name()}"
    module = getattr(target, "__module__", "") or ""
    return f"{'operator' if module == '_operator' else module}.{getattr(target, '__name__', repr(target))}"


def module_class_key(kind) -> str:
    """A module class in nn_module_stack (a type, or its qualified name as a saved program has
    it) as the fx tables name it: torch.nn's classes by their public path."""
    if isinstance(kind, type):
        return torch_ops.table_key(kind, torch_ops.MODULES)
    text = str(kind)
    return re.sub(r"^torch\.nn\.modules\.[A-Za-z_0-9]+\.", "torch.nn.", text)


class Program:
    """What the importer needs of an ExportedProgram: its graph, the placeholders that are
    parameters, buffers and constants (with their state_dict names and shapes), the user input."""

    def __init__(self, program):
        signature = program.graph_signature
        self.graph = program.graph
        self.weights: dict[str, tuple[str, str]] = {}  # placeholder name -> (kind, state_dict name)
        for spec in signature.input_specs:
            kind = spec.kind.name
            if kind in ("PARAMETER", "BUFFER", "CONSTANT_TENSOR"):
                self.weights[spec.arg.name] = ({"PARAMETER": "parameter", "BUFFER": "buffer"}.get(kind, "constant"),
                                               spec.target)
        self.user_inputs = [s.arg.name for s in signature.input_specs if s.kind.name == "USER_INPUT"]
        self.user_outputs = {getattr(s.arg, "name", None) for s in signature.output_specs if s.kind.name == "USER_OUTPUT"}
        self.sizes: dict[str, tuple[str, int]] = {}  # parameter or buffer name -> (kind, elements)
        for node in self.graph.nodes:
            if node.op == "placeholder" and node.name in self.weights:
                kind, name = self.weights[node.name]
                if kind != "constant":  # a tensor made in forward and lifted: the module holds no such tensor
                    self.sizes[name] = (kind, numel(node.meta.get("val")))


def numel(value) -> int:
    return int(value.numel()) if isinstance(value, torch.Tensor) else 0


def static(value, what: str):
    """A node's value with plain int sizes; a program exported with dynamic shapes is refused."""
    if isinstance(value, torch.Tensor) and not all(isinstance(s, int) for s in value.shape):
        raise ImportError_(f"{what} has dynamic sizes {list(value.shape)}; archcalc reads a program exported for one "
                           "input shape")
    return value


def program_input(program) -> tuple[int, ...]:
    """The shape (batch first) of the program's one tensor input."""
    wrapped = Program(program)
    found = [n for n in wrapped.graph.nodes if n.op == "placeholder" and n.name in wrapped.user_inputs]
    if len(found) != 1:
        raise ImportError_(f"the program takes {len(found)} tensors; archcalc imports models of one input")
    value = static(found[0].meta.get("val"), "the program's input")
    return tuple(int(s) for s in value.shape)
