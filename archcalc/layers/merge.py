"""Joins of several paths: add (residual sum) and concat (channel join)."""

from __future__ import annotations

from ..errors import ShapeError
from .base import MERGE, LayerResult, LayerType, elements, register, shape_text


@register
class Add(LayerType):
    name = "add"
    aliases = ("sum", "residual")
    family = "merge"
    summary = "Element-wise sum of two or more inputs of the same shape (a residual join)."
    arity = "many"
    shape_rule = "all inputs have the same shape; output has it too"
    ops_rule = "(inputs - 1) x elements"
    rf_rule = "union of the inputs' fields; flagged when their centres or strides differ"

    @classmethod
    def infer(cls, args, inputs):
        first = inputs[0]
        for other in inputs[1:]:
            if other != first:
                raise ShapeError(f"cannot add a {shape_text(first)} map and a {shape_text(other)} map: shapes differ")
        return LayerResult(output=first, ops=(len(inputs) - 1) * elements(first), rf=MERGE)


@register
class Concat(LayerType):
    name = "concat"
    aliases = ("cat",)
    family = "merge"
    summary = "Joins inputs along the channels (torch.cat(dim=1)); other dimensions must match."
    arity = "many"
    shape_rule = "C_out = sum of input channels; H and W must match"
    rf_rule = "union of the inputs' fields; flagged when their centres or strides differ"

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
