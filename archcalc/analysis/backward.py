"""Which gradients the backward pass computes, as autograd decides them for loss = output.sum().

The net input does not require a gradient. A layer's output requires one exactly when one of its
inputs does or it has a trainable parameter (autograd's rule: an op's result requires grad iff
an argument does). ``loss.backward()`` then runs the backward of every layer whose output
requires a gradient and that the output depends on; each computes the gradient with respect to
its input only where that input requires one, and with respect to its weights only where they
are trainable. Layers after the output, or on a branch it does not use, run no backward."""

from __future__ import annotations

from dataclasses import dataclass

from ..graph import Graph


@dataclass(frozen=True)
class GradientFlow:
    """One layer's part in the backward pass."""

    runs: bool  # its backward runs at all
    input_needs_grad: bool  # one of its inputs requires a gradient (so its input gradient is computed)
    weights_need_grad: bool  # it has trainable parameters
    inputs_need_grad: tuple[bool, ...] = ()  # per input (None, the net input, needs none)

    def input_part(self, flops: int, each: tuple[int, ...] = ()) -> int:
        """The input gradient's FLOPs; ``each``: one part per input, counted where that input needs one."""
        if not (self.runs and self.input_needs_grad):
            return 0
        if each:
            return sum(part for part, needs in zip(each, self.inputs_need_grad) if needs)
        return flops

    def weight_part(self, flops: int) -> int:
        return flops if self.runs and self.weights_need_grad else 0


def gradient_flow(graph: Graph, param_counts: dict[int, int], used: set[int] | None = None) -> dict[int, GradientFlow]:
    """Each node's GradientFlow, by node id; ``param_counts``: each node's parameter count;
    ``used``: the ids of the nodes the loss depends on (default: the output and its ancestors)."""
    requires_grad: dict[int, bool] = {}
    flows: dict[int, GradientFlow] = {}
    if used is None:
        used = ancestors_of_output(graph)
    for node in graph.nodes:
        needs = tuple(producer is not None and requires_grad[id(producer)] for producer in node.inputs)
        input_grad = any(needs)
        weights = node.trainable and param_counts[id(node)] > 0
        requires_grad[id(node)] = input_grad or weights
        flows[id(node)] = GradientFlow(requires_grad[id(node)] and id(node) in used, input_grad, weights, needs)
    return flows


def ancestors_of_output(graph: Graph) -> set[int]:
    """Ids of the output node and every node it depends on (none when the output is the input)."""
    if graph.output is None:
        return set()
    seen, stack = {id(graph.output)}, [graph.output]
    while stack:
        for producer in stack.pop().inputs:
            if producer is not None and id(producer) not in seen:
                seen.add(id(producer))
                stack.append(producer)
    return seen
