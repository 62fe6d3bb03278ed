"""Shape arithmetic the peer tools' rule tables share (per sample): channels, positions, kernel
areas, weight elements (element counts are LayerFacts.input_numel / output_numel)."""

from __future__ import annotations

from math import prod

from ..padding import side_pads, symmetric
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


def twin_pads(facts: LayerFacts) -> tuple[tuple[int, int], tuple[int, int]]:
    """A conv's or pool's (before, after) padding per axis, as layers/padding.py resolves it."""
    kernel = facts.args["kernel_size"]
    return side_pads(facts.args["padding"], kernel, facts.args.get("stride") or kernel,
                     facts.args.get("dilation", (1, 1)), facts.inputs[0][1:])


def padded_first(facts: LayerFacts) -> bool:
    """The twin's module is archcalc.pytorch.padded's PaddedConv2d / PaddedMaxPool2d /
    PaddedAvgPool2d (a subclass of the torch.nn class that runs F.pad first): an asymmetric or
    TF-'SAME' padding that is not symmetric. 'same' and 'valid' stay the module's own."""
    return facts.args["padding"] not in ("same", "valid") and symmetric(twin_pads(facts)) is None


def padded_input_numel(facts: LayerFacts) -> int:
    """Elements of what the module's functional (F.conv2d, F.max_pool2d, ...) receives: the
    input after the twin's F.pad where padded_first, else the input itself."""
    if not padded_first(facts):
        return facts.input_numel
    (top, bottom), (left, right) = twin_pads(facts)
    channels, height, width = facts.inputs[0]
    return channels * (height + top + bottom) * (width + left + right)


def exact_class(rule):
    """A rule of a tool that looks a module's class up exactly (type(m) in a table): the twin's
    padded subclasses (padded_first) are not in it, so they count 0."""
    def counted_if_the_class_is_torchs(facts: LayerFacts) -> int:
        return 0 if padded_first(facts) else rule(facts)
    counted_if_the_class_is_torchs.__doc__ = rule.__doc__
    return counted_if_the_class_is_torchs


def normalised_size(facts: LayerFacts) -> int:
    """The size of the dimension a layer norm normalises: C (dimension 0), or the last with
    ``over: last`` (nn.LayerNorm on ConvNeXt's channels-last map)."""
    return facts.inputs[0][-1 if facts.args.get("over") == "last" else 0]


def norm_numel_rows(facts: LayerFacts) -> tuple[int, int]:
    """A layer norm's elements and rows (the groups it normalises: numel // their size)."""
    return facts.input_numel, facts.input_numel // normalised_size(facts)


def is_layernorm2d(facts: LayerFacts) -> bool:
    """A layernorm over the channels of a C x H x W map: the twin's LayerNorm2d (torchvision's
    too), a subclass of nn.LayerNorm; on a vector, or over the last dimension, it is
    nn.LayerNorm itself."""
    return len(facts.inputs[0]) == 3 and facts.args.get("over") != "last"
