"""What the peer tools report for the bundled torchvision nets, and archcalc's conventions for the
same nets, for tests/pytorch/test_convention_*.py.

The real torchvision model (built once per net and device) is run through the installed tool;
its per-module figures are read where the tool keeps them while it prints its per-layer table.
A spec row is matched to the module it stands for by torchvision's module path: the row's own
name, or for resnet's one ReLU module called two or three times per block (rows relu1, relu2,
relu) the name without the digits; a row with no module (a functional call: F.relu,
torch.flatten, +) belongs to the innermost module whose forward runs it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io

import pytest

from archcalc.figures.conventions import convention_counts, layer_facts
from archcalc.layers.conventions import lookup_convention

torch = pytest.importorskip("torch")
if importlib.util.find_spec("torchvision") is None:
    pytest.skip("torchvision is not installed", allow_module_level=True)

from peer_models import (TORCHVISION_NETS, cases, module_of, reference_model,  # noqa: E402,F401
                         spec_report as report)

NETS = TORCHVISION_NETS


def model(name: str, device: str):
    return reference_model(name, device)


def batch_input(name: str, batch: int, device: str):
    return torch.zeros(batch, *report(name, 1).input, device=device)


def facts(name: str):
    return layer_facts(report(name, 1))


def by_module(name: str, counts: dict[str, int]) -> dict[str, int]:
    """Per-row counts summed per module (module_of)."""
    summed: dict[str, int] = {}
    for row, count in counts.items():
        path = module_of(name, row)
        summed[path] = summed.get(path, 0) + count
    return summed


def convention_layers(convention: str, name: str, batch: int) -> dict[str, int]:
    """archcalc's per-row counts under a convention for the net at a batch (`flops --convention`)."""
    return convention_counts(report(name, batch), [lookup_convention(convention)])[0].layers


class Snapshot(io.StringIO):
    """A stream that, on the tool's first write of its per-layer table, reads the per-module
    figures the table is printed from."""

    def __init__(self, read):
        super().__init__()
        self.read, self.taken = read, None

    def write(self, text):
        if self.taken is None:
            self.taken = self.read()
        return super().write(text)


def flops_attributes(net, attribute: str, divisor=lambda net: 1) -> dict[str, float]:
    return {path: getattr(m, attribute) / divisor(net) for path, m in net.named_modules() if hasattr(m, attribute)}


# ptflops' pytorch backend patches Python functions (torch.mm, F.relu, ...): on the meta device
# torch's own Python meta kernels call some of them (a linear's shape check runs torch.mm), which
# it would count, so it runs on the CPU. calflops patches fewer (not torch.mm): none of the
# functions it patches runs inside a meta kernel of these nets' ops, so its counts on meta are its
# counts on the CPU (compared on every bundled net at batch 1), and it runs on meta like the aten
# backend's dispatch mode and torchscan's module formulas, which see the same on either device.

def run_ptflops(name: str, batch: int):
    """ptflops' total (get_model_complexity_info, default backend) and its per-module table's
    figures (module.__flops__ / __batch_counter__, as print_model_with_flops prints them)."""
    from ptflops import get_model_complexity_info

    net = model(name, "cpu")
    stream = Snapshot(lambda: flops_attributes(net, "__flops__", lambda n: n.__batch_counter__))
    with torch.no_grad():
        total, _ = get_model_complexity_info(net, tuple(report(name, 1).input), as_strings=False, ost=stream,
                                             print_per_layer_stat=True, flops_units="Mac",
                                             input_constructor=lambda shape: batch_input(name, batch, "cpu"))
    return total, stream.taken


def run_ptflops_aten(name: str, batch: int):
    """ptflops' aten backend: the total (get_model_complexity_info) and the per-child figures of
    its FlopCounterMode (flop_counts, what it prints per direct child of the model)."""
    from ptflops import get_model_complexity_info
    from ptflops.aten_engine import FlopCounterMode

    net = model(name, "meta")
    with torch.no_grad():
        total, _ = get_model_complexity_info(net, tuple(report(name, 1).input), as_strings=False, backend="aten",
                                             print_per_layer_stat=False,
                                             input_constructor=lambda shape: batch_input(name, batch, "meta"))
        counter = FlopCounterMode(net)
        with counter:
            net(batch_input(name, batch, "meta"))
    return total, {child: sum(ops.values()) for child, ops in counter.flop_counts.items() if child != "Global"}


def run_torchscan(name: str, batch: int):
    """crawl_module's module-formula FLOPs: the total, and each leaf module's calls summed. The
    figure is ``known_value``: equal to ``value`` when every module is supported, and what summary
    prints ("known ...") when one is not (``value`` is then None)."""
    from torchscan import crawl_module

    crawled = crawl_module(model(name, "meta"), args=(batch_input(name, batch, "meta"),))
    per_module: dict[str, int] = {}
    for layer in crawled["layers"]:
        if "module_flops" in layer["metrics"]:
            flops = layer["metrics"]["module_flops"]["known_value"]
            per_module[layer["path"]] = per_module.get(layer["path"], 0) + flops
    return crawled["totals"]["module_flops"]["known_value"], per_module


def calflops_device(name: str) -> str:
    """meta, except for a net with a bilinear or bicubic resize: on meta, F.interpolate runs
    torch's Python decomposition, whose tensor ops calflops patches and counts (deeplabv3_resnet50:
    9,069,216,000 FLOPs more than calflops reports on the CPU, where the resize is one kernel)."""
    smooth = any(f.type_name == "upsample" and f.args.get("mode") in ("bilinear", "bicubic") for _, f in facts(name))
    return "cpu" if smooth else "meta"


def run_calflops(name: str, batch: int, device: str | None = None):
    """calculate_flops' FLOPs and each module's own __flops__ (its detailed print shows them
    summed with the children's), read while it prints."""
    from calflops import calculate_flops

    net = model(name, device or calflops_device(name))  # calculate_flops builds its input on the model's device
    stream = Snapshot(lambda: flops_attributes(net, "__flops__"))
    with contextlib.redirect_stdout(stream), torch.no_grad():
        flops, _, _ = calculate_flops(net, input_shape=(batch, *report(name, 1).input), print_results=True,
                                      print_detailed=False, output_as_string=False)
    return flops, stream.taken


def top_level(counts: dict[str, int]) -> dict[str, int]:
    """Per-row counts summed per direct child of the model (the first part of the row's name)."""
    summed: dict[str, int] = {}
    for row, count in counts.items():
        summed[row.split(".")[0]] = summed.get(row.split(".")[0], 0) + count
    return summed


def mismatches(ours: dict[str, int], theirs: dict[str, float]) -> list[tuple[str, int, float]]:
    """Modules where archcalc's figure and the tool's differ (a module either side leaves out
    counts 0 there)."""
    return [(path, ours.get(path, 0), theirs.get(path, 0)) for path in sorted(set(ours) | set(theirs))
            if ours.get(path, 0) != theirs.get(path, 0)]
