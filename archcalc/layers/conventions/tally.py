"""Shape arithmetic the peer tools' rule tables share (per sample): channels, positions, kernel
areas, weight elements (element counts are LayerFacts.input_numel / output_numel)."""

from __future__ import annotations

from math import prod

from .base import LayerFacts


def in_channels(facts: LayerFacts) -> int:
    return facts.inputs[0][0]


def out_channels(facts: LayerFacts) -> int:
    return facts.output[0]


def in_positions(facts: LayerFacts) -> int:
    """Spatial positions of the first input (every axis after the channels)."""
    return prod(facts.inputs[0][1:])


def out_positions(facts: LayerFacts) -> int:
    """Spatial positions of the output (every axis after the channels)."""
    return prod(facts.output[1:])


def kernel_area(facts: LayerFacts) -> int:
    return prod(facts.args["kernel_size"])


def has_bias(facts: LayerFacts) -> bool:
    return bool(facts.args.get("bias", False))


def is_affine(facts: LayerFacts) -> bool:
    return bool(facts.args.get("affine", True))


def conv_weight_numel(facts: LayerFacts) -> int:
    """A convolution's weight elements: k_h * k_w * in/groups * out."""
    return kernel_area(facts) * in_channels(facts) // facts.args["groups"] * facts.args["out_channels"]


def linear_in_features(facts: LayerFacts) -> int:
    return facts.inputs[0][-1]


def linear_rows(facts: LayerFacts) -> int:
    """The rows a linear layer maps, one sample: every input axis but the last."""
    return prod(facts.inputs[0][:-1])


def adaptive_kernel(facts: LayerFacts) -> tuple[int, ...]:
    """The kernel an adaptive pool is taken to use per axis, as torchscan approximates it:
    in // out where out divides in, else in % out + 1."""
    return tuple(i // o if i % o == 0 else i % o + 1 for i, o in zip(facts.inputs[0][1:], facts.output[1:]))
