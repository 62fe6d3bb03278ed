"""What a layer holds in memory in PyTorch, as plain data (archcalc.figures.memory does the
arithmetic; layers/ never imports torch).

A layer type states one ``MemoryRule`` per application (``LayerType.memory_rule``): which of its
tensors autograd keeps for the backward pass (torch's derivatives.yaml: a convolution keeps its
input, ReLU its output, max pooling its input and int64 indices, batch norm its input and the
per-channel mean and inverse deviation), whether its output is a view of its input (flatten) or
the input itself (identity, dropout at inference), whether backward hands the output's gradient
to the inputs as views (add, concat), and what it allocates besides its output while it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# dtypes a kept tensor may have besides the activations' own
ACTIVATION = "activation"  # the activations' dtype (float16 under autocast where the layer runs in half)
INT64 = "int64"  # max-pooling indices
FLOAT32 = "float32"  # batch norm's saved statistics (float32 even under autocast)
MASK = "mask"  # dropout's mask: float noise on the CPU, a one-byte bool mask in CUDA's fused kernel


class Kept(NamedTuple):
    """A new tensor autograd keeps for the layer's backward (not its input or output)."""

    elements: int  # per sample when ``per_sample``, else in all
    dtype: str = ACTIVATION
    per_sample: bool = True


@dataclass(frozen=True)
class MemoryRule:
    """One layer's memory behaviour in a PyTorch forward and backward pass."""

    saves_input: bool = False  # autograd keeps every input tensor for backward
    saves_output: bool = False  # autograd keeps the output tensor
    kept: tuple[Kept, ...] = ()  # new tensors kept for backward (indices, masks, statistics)
    # tensors the op returns beside its output that die at once where no autograd keeps them
    # (max pooling's indices: ATen computes them for FakeTensors and on CUDA even without grad)
    transient: tuple[Kept, ...] = ()
    view: bool = False  # the output shares its input's storage (a view, the input itself, in-place)
    grad_view: bool = False  # backward passes the output's gradient to the inputs as views: no new tensor
    scratch: int = 0  # elements per sample alive beside the inputs and output while the forward runs
    backward_scratch: int = 0  # elements per sample alive beside the gradients while its backward runs
    # elements per sample the backward makes on its way to an input's gradient, alive beside it,
    # where an input needs one (the padded copy's gradient, before its padding is cut off)
    input_grad_scratch: int = 0
    # backward reads a dense gradient of the output: where that is the loss's expanded gradient
    # (the layer is the net's output), a copy of the output's size is made first (group norm)
    dense_grad: bool = False


NEW_OUTPUT = MemoryRule()  # a new output, nothing kept: the default
PASS_THROUGH = MemoryRule(view=True, grad_view=True)  # a view or the input itself (flatten, identity)
