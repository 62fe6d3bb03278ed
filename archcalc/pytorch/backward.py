"""The backward pass measured layer by layer: ``loss = output.sum()``, ``loss.backward()`` under
FlopCounterMode, and every FLOP it counts attributed to the layer that ran it.

FlopCounterMode's own per-module counts cannot be used for the backward pass: its ModuleTracker
enters a module's backward when the gradient of its output is ready and leaves it when the
gradients of its inputs are, so a module whose input needs no gradient (a stem reading the net
input) is never left, and every later backward op (another branch reading the net input) is
counted for it as well; a module whose input also feeds a residual join is left only once the
join's gradient has arrived too. Instead, the forward pass records the autograd nodes each layer
creates (from its output's grad_fn back to its inputs'), and while the backward runs, each op that
FlopCounterMode counts is charged to the layer owning the autograd node being executed
(torch._C._current_autograd_node()). The formulas are FlopCounterMode's own, so the per-layer
figures add up to its total, which verify checks as well.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class GradientRecord:
    """What the forward pass with gradients tells about each layer (by layer name)."""

    input_needs_grad: dict[str, bool] = field(default_factory=dict)
    owner: dict = field(default_factory=dict)  # autograd node -> layer name

    def hook(self, name: str):
        """A forward hook noting whether the layer's input requires a gradient, and the autograd
        nodes its forward created (those between its output and its inputs)."""
        def record(module, inputs, output):
            tensors = [t for t in inputs if hasattr(t, "requires_grad")]
            self.input_needs_grad[name] = any(t.requires_grad for t in tensors)
            stop = {t.grad_fn for t in tensors if t.grad_fn is not None}
            for node in _nodes_between(output.grad_fn, stop):
                self.owner.setdefault(node, name)

        return record


def _nodes_between(root, stop: set) -> list:
    """The autograd nodes reachable from ``root`` without passing through ``stop``."""
    seen: list = []
    found: set = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node is None or node in stop or node in found:
            continue
        found.add(node)
        seen.append(node)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return seen


@dataclass
class BackwardCounts:
    """FLOPs of loss.backward(): FlopCounterMode's total and its counts per layer name (None:
    ops of no layer's autograd node, e.g. the loss's own)."""

    total: int
    by_layer: dict


def run_backward(output, record: GradientRecord) -> BackwardCounts:
    """loss = output.sum() (plus the sums of the mode's other declared outputs, which the twin
    hands on as ``output.archcalc_extra_outputs``); loss.backward() under FlopCounterMode,
    attributed per layer. An output that requires no gradient (every layer frozen or
    parameter-free) runs no backward: 0."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode, flop_registry

    by_layer: dict = defaultdict(int)
    outputs = [output, *getattr(output, "archcalc_extra_outputs", ())]
    outputs = [o for o in outputs if o.requires_grad]
    if not outputs:
        return BackwardCounts(0, {})

    def attributing(formula):
        def count(*args, **kwargs):
            flops = formula(*args, **kwargs)
            by_layer[record.owner.get(torch._C._current_autograd_node())] += flops
            return flops

        count._get_raw = True  # the registry's formulas take the op's arguments as they are
        return count

    counter = FlopCounterMode(display=False, custom_mapping={op: attributing(f) for op, f in flop_registry.items()})
    with counter:
        loss = outputs[0].sum()
        for extra in outputs[1:]:
            loss = loss + extra.sum()
        loss.backward()
    return BackwardCounts(counter.get_total_flops(), dict(by_layer))
