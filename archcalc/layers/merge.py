"""Joins of several paths: add (residual sum), mul (broadcast product, e.g. a squeeze-excitation
gate) and concat (channel join).

Each join states ``combine(torch, inputs)``: the PyTorch twin runs it, and export writes its body
as the join module's forward, so the two cannot disagree."""

from __future__ import annotations

from ..errors import ShapeError
from .base import LayerResult, LayerType, elements, register, shape_text
from .fieldrules import MERGE, Merge
from .memrules import MemoryRule


def _broadcast(inputs):
    """The shape inputs of one rank broadcast to (each dimension equal, or 1 in all but one), and
    per input whether it is repeated along a spatial axis (its field is then the same everywhere)."""
    rank = len(inputs[0])
    if any(len(shape) != rank for shape in inputs):
        raise ShapeError(f"cannot join inputs of different ranks: {', '.join(shape_text(s) for s in inputs)}")
    output = []
    for dims in zip(*inputs):
        sizes = set(dims) - {1}
        if len(sizes) > 1:
            raise ShapeError(f"shapes {' and '.join(shape_text(s) for s in inputs)} do not broadcast "
                             "(each dimension must be equal or 1)")
        output.append(sizes.pop() if sizes else 1)
    broadcast = tuple(rank >= 2 and any(d == 1 < o for d, o in zip(shape[1:], output[1:])) for shape in inputs)
    return tuple(output), broadcast


@register
class Add(LayerType):
    name = "add"
    aliases = ("sum", "residual")
    family = "merge"
    summary = ("Element-wise sum of two or more inputs of the same shape (a residual join), or of shapes that "
               "broadcast (a Cx1x1 context added to a CxHxW map).")
    arity = "many"
    shape_rule = "all inputs have the same shape, or shapes that broadcast; output has the (broadcast) shape"
    ops_rule = "(inputs - 1) x output elements"
    rf_rule = ("union of the inputs' fields; flagged when their centres or strides differ; an input repeated along a "
               "spatial axis contributes the same field at every position")
    join_class = "Add"

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        # backward hands the output's gradient to every input as is; a sum of more than two
        # inputs goes through one partial sum at a time. A broadcast input (a Cx1x1 context) gets
        # the gradient summed down to its own few elements, left out here as a view would be
        return MemoryRule(grad_view=True, scratch=elements(out_shape) if len(in_shapes) > 2 else 0)

    @classmethod
    def infer(cls, args, inputs):
        first = inputs[0]
        if all(other == first for other in inputs[1:]):
            return LayerResult(output=first, ops=(len(inputs) - 1) * elements(first), rf=MERGE)
        # a Cx1x1 context added to a map (timm's global context with fuse_add), as torch broadcasts
        try:
            output, broadcast = _broadcast(inputs)
        except ShapeError:
            raise ShapeError(f"cannot add a {shape_text(first)} map and a "
                             f"{shape_text(next(o for o in inputs if o != first))} map: shapes differ "
                             "(and do not broadcast)") from None
        return LayerResult(output=output, ops=(len(inputs) - 1) * elements(output), rf=Merge(broadcast))

    @staticmethod
    def combine(torch, inputs):
        """Element-wise sum of the inputs (a residual join)."""
        out = inputs[0]
        for other in inputs[1:]:
            out = out + other
        return out


@register
class Mul(LayerType):
    name = "mul"
    aliases = ("multiply", "product")
    family = "merge"
    summary = ("Element-wise product of two or more inputs whose shapes broadcast (torch.mul), e.g. a CxHxW map "
               "times a Cx1x1 gate (squeeze-excitation).")
    arity = "many"
    shape_rule = "the inputs' shapes broadcast (each dimension equal, or 1 in all but one input); output is the broadcast shape"
    macs_rule = "0 (FLOPs 0: torch's FlopCounterMode counts no element-wise op)"
    ops_rule = "(inputs - 1) x output elements"
    rf_rule = ("union of the inputs' fields; an input repeated along a spatial axis contributes the same field at every "
               "position (a gate from a global pool: the whole input)")
    join_class = "Mul"

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        # each input's gradient is the output's times the others, made at the output's size and
        # then summed down to a broadcast input's shape (a gate's)
        broadcast = sum(1 for shape in in_shapes if tuple(shape) != tuple(out_shape))
        return MemoryRule(saves_input=True, backward_scratch=broadcast * elements(out_shape))

    @classmethod
    def infer(cls, args, inputs):
        output, broadcast = _broadcast(inputs)
        return LayerResult(output=output, ops=(len(inputs) - 1) * elements(output), rf=Merge(broadcast))

    @staticmethod
    def combine(torch, inputs):
        """Element-wise product of the inputs, broadcasting (e.g. a map times a gate)."""
        out = inputs[0]
        for other in inputs[1:]:
            out = out * other
        return out


@register
class Concat(LayerType):
    name = "concat"
    aliases = ("cat",)
    family = "merge"
    summary = "Joins inputs along the channels (torch.cat(dim=1)); other dimensions must match."
    arity = "many"
    shape_rule = "C_out = sum of input channels; H and W must match"
    rf_rule = "union of the inputs' fields; flagged when their centres or strides differ"
    join_class = "Concat"
    # backward narrows the output's gradient: each input's gradient is a view of it
    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: MemoryRule(grad_view=True))

    @classmethod
    def infer(cls, args, inputs):
        first = inputs[0]
        for other in inputs[1:]:
            if len(other) != len(first) or other[1:] != first[1:]:
                raise ShapeError(
                    f"cannot concatenate a {shape_text(first)} map and a {shape_text(other)} map: "
                    "all dimensions but the channels must match"
                )
        return LayerResult(output=(sum(s[0] for s in inputs), *first[1:]), rf=MERGE)

    @staticmethod
    def combine(torch, inputs):
        """Joins the inputs along the channels."""
        return torch.cat(inputs, dim=1)
