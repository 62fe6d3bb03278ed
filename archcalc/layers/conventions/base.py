"""The convention framework: what a tool sees of a layer (LayerFacts), a tool's rule table
(Convention) and the registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any, Callable

from ..base import LayerResult, LayerType, Shape


@dataclass(frozen=True)
class LayerFacts:
    """What a peer tool sees of one layer, per sample: its type, arguments, input and output
    shapes (without the batch), archcalc's own result for it, and how the net calls it."""

    layer: type[LayerType]
    args: dict[str, Any]
    inputs: tuple[Shape, ...]
    output: Shape
    result: LayerResult
    trainable: bool = True
    # The reference code calls it as a function (F.relu, torch.flatten), not as a module, so tools
    # that count through module hooks never see it.
    functional: bool = False
    # The samples the tool runs at once: read only by a convention with ``whole_batch`` (whose
    # rules round the whole batch's count, as thop does); every other rule counts one sample.
    batch: int = 1
    # The net's output depends on it (a tool that traces the graph drops a layer whose output
    # nothing uses, as torch.jit's trace does for fvcore).
    used: bool = True

    @property
    def type_name(self) -> str:
        return self.layer.name

    @property
    def tensor_method(self) -> bool:
        return self.functional == "tensor_method"

    @property
    def input_numel(self) -> int:
        """Elements of the (first) input, one sample."""
        return prod(self.inputs[0])

    @property
    def output_numel(self) -> int:
        """Elements of the output, one sample."""
        return prod(self.output)


Rule = Callable[[LayerFacts], int]


def traced(rule: Rule) -> Rule:
    """A rule of a tool that counts a torch.jit trace: the trace keeps only what the output
    depends on, so a layer on a branch the output does not use counts 0."""
    def counted_if_used(facts: LayerFacts) -> int:
        return rule(facts) if facts.used else 0
    counted_if_used.__doc__ = rule.__doc__
    return counted_if_used


def hooked(rule: Rule) -> Rule:
    """A rule of a tool that counts through module hooks: a layer the reference code calls as a
    function (``functional: true`` in the spec) has no module, so the tool never sees it."""
    def counted_if_a_module(facts: LayerFacts) -> int:
        return 0 if facts.functional else rule(facts)
    counted_if_a_module.__doc__ = rule.__doc__
    return counted_if_a_module


def patched(rule: Rule) -> Rule:
    """A rule of a tool that counts a torch.nn.functional call it patches or traces (F.relu,
    F.adaptive_avg_pool2d): the same work done by a Tensor method (``functional:
    tensor_method``, x.mean([2, 3])) is not patched and counts 0."""
    def counted_unless_a_tensor_method(facts: LayerFacts) -> int:
        return 0 if facts.tensor_method else rule(facts)
    counted_unless_a_tensor_method.__doc__ = rule.__doc__
    return counted_unless_a_tensor_method


def zero(facts: LayerFacts) -> int:
    """The tool counts nothing for this layer."""
    return 0


@dataclass(frozen=True)
class Convention:
    """One tool's way of counting: its name on the command line, the tool and version the rules
    were read from, the unit it prints, one line saying what it counts, and its rules."""

    name: str
    tool: str
    unit: str
    counts: str
    rules: dict[str, Rule] = field(default_factory=dict)
    default: Rule = zero
    # The tool reports one sample's count whatever the batch (ptflops divides by the batch).
    per_sample: bool = False
    # The rules count the whole batch (LayerFacts.batch samples) because the tool rounds that
    # count as a whole (thop's int() of a float product): ``scale`` then leaves it as it is.
    whole_batch: bool = False

    def count(self, facts: LayerFacts) -> int:
        """The tool's count for one layer and one sample."""
        return int(self.rules.get(facts.type_name, self.default)(facts))

    def scale(self, per_sample_count: int, batch: int) -> int:
        """A count for one sample as the tool reports it for ``batch`` samples (a whole_batch
        convention's count already is)."""
        return per_sample_count if self.per_sample or self.whole_batch else per_sample_count * batch

    def reported(self, facts: LayerFacts, batch: int) -> int:
        """The layer's share of the tool's total for ``batch`` samples. A tool whose count is not
        one sample's count scaled by its batch handling (ptflops adds its patched functionals
        for the whole batch after dividing its module hooks by it; torchscan counts a batch
        norm's per-channel work once per call) overrides this."""
        return self.scale(self.count(facts), batch)


CONVENTIONS: dict[str, Convention] = {}


def register_convention(convention: Convention) -> Convention:
    if convention.name in CONVENTIONS:
        raise ValueError(f"convention {convention.name!r} registered twice")
    CONVENTIONS[convention.name] = convention
    return convention


def convention_names() -> list[str]:
    return list(CONVENTIONS)


def lookup_convention(name: str) -> Convention | None:
    return CONVENTIONS.get(name)


