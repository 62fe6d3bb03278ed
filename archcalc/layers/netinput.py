"""The net's inputs beyond the first (spec ``inputs: {left: ..., right: ...}``): each is a node of
this type at the head of the graph, so every stage reads it as it reads a layer's output. It is
not a registered layer type (a spec cannot write ``type: input``); graph.build makes one per
declared input. Its field is the identity on the first input's positions: receptive fields read
the inputs as aligned images (a Siamese net's two views)."""

from __future__ import annotations

from .base import LayerResult, LayerType, ModuleCall
from .fieldrules import IDENTITY


class NetInput(LayerType):
    name = "input"
    family = "structure"
    summary = "One of the net's declared inputs: the tensor forward receives under its name."
    shape_rule = "the declared shape"
    rf_rule = "the identity on input positions (the inputs are read as aligned images)"
    net_input = True  # the twin feeds it from forward's arguments; export names it in forward's signature

    @classmethod
    def infer(cls, args, inputs):
        return LayerResult(output=tuple(args["shape"]), rf=IDENTITY)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("Identity")
