"""The tensor algebra of timm's attention units, where a map is stacked, summed over an axis or
multiplied as matrices: ``stack_maps`` (selective kernel's branches, torch.stack(dim=1)),
``channel_sum`` (a sum over the first axis: ResNeSt's radix groups, the stacked branches) and
``matmul`` (global context's attention pooling, ``x @ attn``)."""

from __future__ import annotations

from ..errors import ShapeError
from .args import Arg, boolean
from .base import JOIN, LayerResult, LayerType, ModuleCall, elements, register, shape_text, sum_inputs
from .fieldrules import IDENTITY, MERGE, Unknown
from .memrules import MemoryRule


def _matmul_reach(torch, inputs):
    """The probe twin of a matrix product: output (i, j) reaches row i of a and column j of b,
    as a sum (every probe weight is positive) rather than a product of probe values."""
    return inputs[0].sum(-1, keepdim=True) + inputs[1].sum(-2, keepdim=True)


def _stacked_reach(channels: int):
    """The probe twin of a stack: the one-channel probes summed (every probe weight is positive,
    so the sum reaches what any input reaches), repeated along the stacked inputs' channel axis,
    so the probe keeps its one channel first and the output's other axes."""
    def combine(torch, inputs):
        total = sum_inputs(torch, inputs)
        return total.unsqueeze(2).expand(-1, -1, channels, *total.shape[2:])
    return combine


@register
class Stack(LayerType):
    name = "stack_maps"
    family = "merge"
    summary = ("Stacks inputs of one shape along a new first axis (torch.stack(dim=1)): n CxHxW maps become an "
               "n x C x H x W volume (timm's selective kernel stacks its branches so).")
    arity = "many"
    shape_rule = "all inputs have the same shape S; output n x S (a CxHxW map becomes a CxTxHxW volume)"
    rf_rule = "union of the inputs' fields (each slice of the output is one input)"
    join_class = "Stack"
    # backward unbinds the output's gradient: each input's gradient is a view of it
    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: MemoryRule(grad_view=True))

    @classmethod
    def infer(cls, args, inputs):
        first = inputs[0]
        for other in inputs[1:]:
            if other != first:
                raise ShapeError(f"cannot stack a {shape_text(first)} map and a {shape_text(other)} map: shapes differ")
        if len(first) > 3:
            raise ShapeError(f"cannot stack {shape_text(first)} volumes (archcalc's maps have at most 3 spatial axes)")
        return LayerResult(output=(len(inputs), *first), rf=MERGE)

    @staticmethod
    def combine(torch, inputs):
        """Stacks the inputs along a new axis after the batch."""
        return torch.stack(inputs, dim=1)

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        return ModuleCall(JOIN, (), {"name": "StackedReach", "combine": _stacked_reach(out_shape[1])})


@register
class ChannelSum(LayerType):
    name = "channel_sum"
    family = "structure"
    summary = ("Sums over the first axis (x.sum(dim=1)): an n x C x H x W volume of stacked branches or radix "
               "groups becomes a CxHxW map (timm's split attention and selective kernel).")
    args = (Arg("keepdim", boolean, False, (), "keep the summed axis as size 1"),)
    shape_rule = "C x S -> S (1 x S with keepdim); the input has at least 2 spatial axes, or keepdim"
    macs_rule = "0 (FLOPs 0: FlopCounterMode counts no sum)"
    ops_rule = "(C - 1) x output elements (the additions)"
    rf_rule = "unchanged (a field covers every channel at a position; the sum keeps the positions)"
    torch_defaults = dict(keepdim=False)
    # backward expands the output's gradient over the summed axis: a view, nothing kept
    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: MemoryRule(grad_view=True))

    @classmethod
    def infer(cls, args, inputs):
        shape = inputs[0]
        if len(shape) < 2 or (len(shape) < 3 and not args["keepdim"]):
            raise ShapeError(f"channel_sum of a {shape_text(shape)} tensor would leave no map "
                             "(sum a volume, or keep the axis with keepdim: true)")
        output = (1, *shape[1:]) if args["keepdim"] else tuple(shape[1:])
        return LayerResult(output=output, ops=(shape[0] - 1) * elements(output), rf=IDENTITY)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("archcalc.ChannelSum", (), dict(keepdim=args["keepdim"]))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        # the probe's input has one channel: folded with the axes the sum removes (a volume's
        # first two after a reshape; none more after a stack, whose probe already summed its
        # branches), then summed, one channel kept
        fold = len(probe_in[0]) - len(out_shape) + (0 if args["keepdim"] else 1)
        return ModuleCall("archcalc.ChannelSum", (), dict(keepdim=True, fold=max(fold, 1)))


@register
class MatMul(LayerType):
    name = "matmul"
    family = "merge"
    summary = ("Matrix product of two tensors over their last two axes, the axes before broadcast (a @ b, "
               "torch.matmul): timm's global context pools a 1 x C x HW map with 1 x HW x 1 attention weights.")
    arity = "many"
    shape_rule = "a: ... x m x k, b: ... x k x n (same rank; the leading axes broadcast) -> ... x m x n"
    macs_rule = "leading elements x m x k x n; FLOPs = 2 x MACs (FlopCounterMode's bmm)"
    ops_rule = "2 x MACs"
    rf_rule = ("unknown: each output element reads a row of a and a column of b, two inputs' different axes, which "
               "per-axis fields cannot follow; whole where an input's field already is (global context's inputs are "
               "views of its map, whole by flatten's convention)")
    backward_rule = ("two bmm, one per input that requires a gradient: the output gradient x b transposed (FLOPs) "
                     "and a transposed x the output gradient (FLOPs)")
    join_class = "MatMul"
    autocast_output = "half"  # autocast runs matrix products in half precision

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        return MemoryRule(saves_input=True)  # each input's gradient reads the other input

    @classmethod
    def infer(cls, args, inputs):
        if len(inputs) != 2:
            raise ShapeError(f"matmul multiplies 2 inputs, got {len(inputs)}")
        a, b = inputs
        if len(a) != len(b) or len(a) < 2:
            raise ShapeError(f"matmul needs two inputs of one rank (at least 2), got {shape_text(a)} and {shape_text(b)}")
        if a[-1] != b[-2]:
            raise ShapeError(f"cannot multiply {shape_text(a)} by {shape_text(b)}: {a[-1]:,} columns, {b[-2]:,} rows")
        lead = []
        for x, y in zip(a[:-2], b[:-2]):
            if x != y and 1 not in (x, y):
                raise ShapeError(f"the leading axes of {shape_text(a)} and {shape_text(b)} do not broadcast")
            lead.append(max(x, y))
        m, k, n = a[-2], a[-1], b[-1]
        macs = elements(lead) * m * k * n
        return LayerResult(output=(*lead, m, n), macs=macs, flops=2 * macs, ops=2 * macs,
                           rf=Unknown("a matrix product reads a row of one input and a column of the other"),
                           backward_input_flops=4 * macs, backward_input_flops_each=(2 * macs, 2 * macs))

    @staticmethod
    def combine(torch, inputs):
        """The matrix product of the two inputs (the @ operator, as timm writes it)."""
        return inputs[0] @ inputs[1]

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        # the product's reach, linear in each input (a product of probe values could pass no gradient)
        return ModuleCall(JOIN, (), {"name": "MatMulReach", "combine": _matmul_reach})

    @classmethod
    def probe_shape(cls, args, out_shape, probe_in):
        a, b = probe_in
        return (*(max(x, y) for x, y in zip(a[:-2], b[:-2])), a[-2], b[-1])
