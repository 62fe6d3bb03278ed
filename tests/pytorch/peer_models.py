"""Shared by the peer-convention tests (tests/pytorch/test_convention_*.py): the bundled nets that
are torchvision's, torchvision's own model for each (built on the meta device: no memory, no
weights initialised; on the CPU with zeroed storage for the tools that must run it), archcalc's
count under a convention, and how the spec's rows map onto torchvision's modules, so a tool's
per-module figures can be compared row by row.

The net list is derived, not written out: every bundled net (architectures/*.yaml) whose name
torchvision's model registry knows, as test_zoo_torchvision.py checks them module by module, so
a net added to the zoo is checked against every peer tool as soon as it is bundled."""

from __future__ import annotations

import functools
import re
import warnings

import pytest

import archcalc
from archcalc.figures.conventions import ConventionCounts, convention_counts, layer_facts, resolve_conventions
from archcalc.pytorch.torchvision_models import torchvision_model, torchvision_models
from archcalc.spec.bundled import bundled

torch = pytest.importorskip("torch")

from archcalc.pytorch.fx_sources import meta_construction  # noqa: E402  (after the skip: it imports torch)
# torchvision first: calflops (through transformers) and ptflops import it, and a plain import
# fails on this torch build
torchvision_models()

TORCHVISION_NETS = tuple(name for name in bundled() if name in set(torchvision_models().list_models()))

# The nets each peer tool also runs at batch 2 (per-sample against per-batch handling: ptflops'
# division, thop's whole-batch rounding, torchscan's and calflops' per-call constants): one per
# family and every layer type the zoo has, small ones where the tool must run the net on the CPU.
BATCH_2_NETS = tuple(name for name in ("alexnet", "vgg11_bn", "resnet18", "resnext50_32x4d", "densenet121",
                                       "googlenet", "inception_v3", "mobilenet_v2", "mobilenet_v3_small",
                                       "mnasnet0_5", "squeezenet1_1", "shufflenet_v2_x0_5", "regnet_x_400mf",
                                       "regnet_y_400mf", "efficientnet_b0", "efficientnet_v2_s", "convnext_tiny", "r3d_18",
                                       "lraspp_mobilenet_v3_large")
                     if name in TORCHVISION_NETS)


def cases() -> list[tuple[str, int]]:
    """(net, batch) for a tool's parametrisation: every net at batch 1, BATCH_2_NETS at 2 as well."""
    return [(name, 1) for name in TORCHVISION_NETS] + [(name, 2) for name in BATCH_2_NETS]


# googlenet's and inception_v3's auxiliary heads run only in training: the tools measure eval, so
# both sides leave them out (the spec with --set aux_logits=false); weight initialisation is
# irrelevant to any count (and inception's would need scipy).
_BUILD_ARGS = {"googlenet": {"aux_logits": False, "init_weights": False},
               "inception_v3": {"aux_logits": False, "init_weights": False}}
SPEC_ARGS = {"googlenet": {"aux_logits": False}, "inception_v3": {"aux_logits": False}}


@functools.cache
def spec_report(name: str, batch: int | None = None):
    """archcalc's Report of the bundled net, built as the reference model is."""
    return archcalc.analyze(name, batch=batch, args=SPEC_ARGS.get(name))


def input_size(name: str, batch: int) -> tuple[int, ...]:
    return (batch, *spec_report(name, 1).input)


def build_args(name: str) -> dict:
    """torchvision's constructor arguments for the net as the tools measure it: _BUILD_ARGS, and
    weights_backbone=None wherever the builder takes one (segmentation and detection nets would
    otherwise fetch their backbone's weights)."""
    import inspect

    args = dict(_BUILD_ARGS.get(name, {}))
    if "weights_backbone" in inspect.signature(torchvision_models().get_model_builder(name)).parameters:
        args["weights_backbone"] = None
    return args


@functools.lru_cache(maxsize=4)  # the tests go net by net (grouped by net: see conftest's ordering)
def meta_model(name: str):
    with warnings.catch_warnings(), meta_construction():
        warnings.simplefilter("ignore")
        return torchvision_model(name, **build_args(name)).eval()


@functools.lru_cache(maxsize=1)  # regnet_y_128gf alone holds 2.6 GB
def cpu_model(name: str):
    """The model on the CPU with zeroed storage (uninitialised memory could hold denormals,
    which are slow; the counts never read a value)."""
    with warnings.catch_warnings(), meta_construction():
        warnings.simplefilter("ignore")
        net = torchvision_model(name, **build_args(name)).eval()
    net = net.to_empty(device="cpu")
    with torch.no_grad():
        for tensor in (*net.parameters(), *net.buffers()):
            tensor.zero_()
    return net


def reference_model(name: str, device: str = "meta"):
    """torchvision's model in eval mode on ``device`` ('meta' or 'cpu'), cached."""
    return meta_model(name) if device == "meta" else cpu_model(name)


def our_counts(name: str, convention: str, batch: int) -> ConventionCounts:
    return convention_counts(spec_report(name, batch), resolve_conventions(convention))[0]


@functools.cache
def module_paths(name: str) -> frozenset[str]:
    return frozenset(path for path, _ in meta_model(name).named_modules())


@functools.cache
def leaf_paths(name: str) -> frozenset[str]:
    return frozenset(path for path, module in meta_model(name).named_modules() if not list(module.children()))


def module_of(name: str, row: str) -> str:
    """The torchvision module a spec row stands for: the row's own name; for a module called
    several times (resnet's one ``relu`` for rows relu1, relu2, relu) the name without its digits;
    otherwise (a join, F.relu, torch.flatten, x.mean) the innermost module whose forward runs it
    ('' for the model itself)."""
    paths = module_paths(name)
    if row in paths:
        return row
    shared = re.sub(r"\d+$", "", row)
    if shared != row and shared in paths:
        return shared
    while "." in row:
        row = row.rsplit(".", 1)[0]
        if row in paths:
            return row
    return ""


def module_of_rows(name: str) -> dict[str, str | None]:
    """Each spec row's torchvision leaf module, or None for a row no leaf module stands for (a
    call in a parent's forward: functional, a join, a tensor method)."""
    leaves = leaf_paths(name)
    mapping: dict[str, str | None] = {}
    for row_name, _facts in layer_facts(spec_report(name)):
        module = module_of(name, row_name)
        mapping[row_name] = module if module in leaves else None
    return mapping


def ours_by_module(counts: ConventionCounts, mapping: dict[str, str | None]) -> tuple[dict[str, int], int]:
    """archcalc's per-row counts summed per torchvision leaf module, and the other rows' sum."""
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


def subclassed_leaves(model, registered) -> set[str]:
    """Leaf modules a hook tool skips because it looks classes up exactly: the module's class is a
    strict subclass of a class the tool has a hook for (torchvision's r3d_18 builds its 3x3x3
    convolutions as Conv3DSimple, an nn.Conv3d). docs/conventions.md states the difference."""
    registered = set(registered)
    return {name for name, module in model.named_modules()
            if not list(module.children()) and type(module) not in registered
            and any(base in registered for base in type(module).__mro__[1:])}
