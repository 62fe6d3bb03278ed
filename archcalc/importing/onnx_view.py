"""One node as the op table (archcalc/layers/imports/onnx_ops.py) sees it: attributes, which
inputs are computed (activations, with their ONNX shapes) or constant (shapes, values), the
model's inferred output shapes, and the node's sole consumer for patterns spread over nodes."""

from __future__ import annotations

from typing import Any, NoReturn

from ..errors import clip


class NodeView:
    def __init__(self, walk, node):
        self.walk = walk
        self.node = node
        self.op_type = node.op_type
        self.opset = walk.loaded.opset

    def fail(self, message: str) -> NoReturn:
        self.walk.fail_node(self.node, message)
        raise AssertionError("unreachable")

    def attr(self, name: str, default: Any = None) -> Any:
        from .onnx_fold import attribute

        return attribute(self.node, name, default)

    # inputs
    def input_count(self) -> int:
        return len(self.node.input)

    def has_input(self, index: int) -> bool:
        return index < len(self.node.input) and bool(self.node.input[index])

    def input(self, index: int) -> str:
        if not self.has_input(index):
            self.fail(f"input {index + 1} is missing")
        return self.node.input[index]

    def inputs(self) -> list[str]:
        return [name for name in self.node.input if name]

    def is_activation(self, index: int) -> bool:
        return self.has_input(index) and self.node.input[index] in self.walk.activations

    def is_constant(self, index: int) -> bool:
        return self.has_input(index) and self.node.input[index] in self.walk.constants

    def shape(self, index: int) -> tuple[int, ...]:
        name = self.input(index)
        if name not in self.walk.activations:
            self.fail(f"input {index + 1} ('{clip(name)}') must be computed by the net")
        shape = self.walk.activations[name]
        if shape is None:
            self.fail(f"the shape of input '{clip(name)}' is not known statically (give the input shape)")
        return shape

    def const_shape(self, index: int) -> tuple[int, ...]:
        name = self.input(index)
        if name not in self.walk.constants:
            self.fail(f"input {index + 1} ('{clip(name)}') must be a constant (an initializer)")
        return self.walk.constants[name].shape

    def const_size(self, index: int) -> int:
        count = 1
        for dim in self.const_shape(index):
            count *= dim
        return count

    def weight_shape(self, index: int, rank: int) -> tuple[int, ...]:
        shape = self.const_shape(index)
        if len(shape) != rank:
            self.fail(f"its weight '{clip(self.input(index))}' is {len(shape)}-d {shape}, not {rank}-d")
        return shape

    def weight_size(self, index: int, expect: tuple[int, ...], also: tuple = ()) -> int:
        shape = self.const_shape(index)
        if tuple(shape) != tuple(expect) and tuple(shape) not in also:
            self.fail(f"its input '{clip(self.input(index))}' has shape {shape}, expected {expect}")
        return self.const_size(index)

    def is_computed_zero(self, index: int) -> bool:
        """Input ``index`` is a constant the graph computes (not a stored tensor) and all zeros:
        the dynamo exporter feeds a bias-free Conv an Expand of 0, which is no parameter."""
        constant = self.walk.constants.get(self.node.input[index]) if self.has_input(index) else None
        return bool(constant is not None and constant.computed and not constant.array.any())

    def value(self, index: int):
        return self.walk.value(self.input(index), self.node)

    # outputs
    def output(self, index: int) -> str:
        return self.node.output[index]

    def output_count(self) -> int:
        return len(self.node.output)

    def output_used(self, index: int) -> bool:
        if index >= len(self.node.output) or not self.node.output[index]:
            return False
        name = self.node.output[index]
        return bool(self.walk.consumers.get(name)) or name in self.walk.graph_outputs

    def out_shape(self, index: int) -> tuple[int, ...] | None:
        return self.walk.loaded.shapes.get(self.node.output[index])

    def readers(self, tensor: str) -> "list[NodeView]":
        """Every node reading ``tensor`` (an input of this node, for patterns that start there)."""
        return [NodeView(self.walk, reader) for reader in self.walk.consumers.get(tensor, [])]

    def readers_of_output(self, index: int) -> "list[NodeView]":
        """Every node reading output ``index``; refused when it is also a graph output."""
        name = self.node.output[index]
        if name in self.walk.graph_outputs:
            self.fail(f"its output '{clip(name)}' is a graph output, which archcalc cannot read as a layer's")
        return self.readers(name)

    def sole_consumer(self, index: int) -> "NodeView | None":
        """The one node reading output ``index``, when nothing else (no other node, no graph
        output) reads it."""
        name = self.node.output[index]
        readers = self.walk.consumers.get(name, [])
        if len(readers) != 1 or name in self.walk.graph_outputs:
            return None
        return NodeView(self.walk, readers[0])
