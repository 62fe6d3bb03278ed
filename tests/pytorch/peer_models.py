"""Shared by the peer-convention tests (tests/pytorch/test_convention_*.py): the bundled nets that
are torchvision's, torchvision's own model for each (built on the meta device: no memory, no
weights initialised), archcalc's count under a convention, and how the spec's rows map onto
torchvision's leaf modules, so a tool's per-module figures can be compared row by row."""

from __future__ import annotations

import re
import warnings

import pytest

import archcalc
from archcalc.figures.conventions import ConventionCounts, convention_counts, layer_facts, resolve_conventions

torch = pytest.importorskip("torch")

TORCHVISION_NETS = ("alexnet", "vgg11", "vgg13", "vgg16", "vgg16_bn", "vgg19", "resnet18", "resnet34", "resnet50",
                    "resnet101", "resnet152", "densenet121", "densenet169", "googlenet", "inception_v3",
                    "mobilenet_v2", "squeezenet1_0", "squeezenet1_1")
# Small nets that also run at batch 2 where running the tool costs seconds (fvcore traces on the CPU).
SMALL_NETS = ("alexnet", "resnet18", "squeezenet1_1", "mobilenet_v2", "googlenet")

# googlenet's and inception_v3's auxiliary heads run only in training: the tools measure eval, so
# both sides leave them out (the spec with --set aux_logits=false); weight initialisation is
# irrelevant to any count.
_BUILD_ARGS = {"googlenet": {"aux_logits": False, "init_weights": False},
               "inception_v3": {"aux_logits": False, "init_weights": False}}
SPEC_ARGS = {"googlenet": {"aux_logits": False}, "inception_v3": {"aux_logits": False}}


def spec_report(name: str, batch: int | None = None):
    """archcalc's Report of the bundled net, built as the reference model is."""
    return archcalc.analyze(name, batch=batch, args=SPEC_ARGS.get(name))


def input_size(name: str, batch: int) -> tuple[int, int, int, int]:
    side = 299 if name == "inception_v3" else 224
    return (batch, 3, side, side)


def reference_model(name: str, device: str = "meta"):
    """torchvision's model in eval mode on ``device`` ('meta', or 'cpu' with uninitialised
    weights: the counts never read a value)."""
    from archcalc.pytorch.torchvision_models import torchvision_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.device("meta"):
            model = torchvision_model(name, **_BUILD_ARGS.get(name, {}))
    if device != "meta":
        model = model.to_empty(device=device)
    return model.eval()


def our_counts(name: str, convention: str, batch: int) -> ConventionCounts:
    return convention_counts(spec_report(name, batch), resolve_conventions(convention))[0]


def module_of_rows(name: str, model) -> dict[str, str | None]:
    """Each spec row's torchvision leaf module (None for a layer torchvision calls as a function).
    A row with no module of its own name is a further call of a shared module: resnet's
    relu1/relu2 are calls of the block's one ``relu``."""
    leaves = {n for n, m in model.named_modules() if not list(m.children())}
    mapping: dict[str, str | None] = {}
    for row_name, facts in layer_facts(spec_report(name)):
        if facts.functional:
            mapping[row_name] = None
        elif row_name in leaves:
            mapping[row_name] = row_name
        else:
            shared = re.sub(r"\d+$", "", row_name)
            assert shared in leaves, f"{name}: row {row_name} has no torchvision module"
            mapping[row_name] = shared
    return mapping


def ours_by_module(counts: ConventionCounts, mapping: dict[str, str | None]) -> tuple[dict[str, int], int]:
    """archcalc's per-row counts summed per torchvision module, and the functional rows' sum."""
    modules: dict[str, int] = {}
    functional = 0
    for row_name, value in counts.layers.items():
        module = mapping[row_name]
        if module is None:
            functional += value
        else:
            modules[module] = modules.get(module, 0) + value
    return modules, functional


def assert_per_module_equal(tool: dict[str, int], ours: dict[str, int], net: str) -> None:
    """Every leaf module's count equal (a module the tool leaves out counts 0)."""
    differ = {m: (tool.get(m, 0), ours.get(m, 0)) for m in set(tool) | set(ours) if tool.get(m, 0) != ours.get(m, 0)}
    assert not differ, f"{net}: per-module counts differ (tool, archcalc): {dict(list(differ.items())[:5])}"
