"""Prove the analysis against PyTorch: build the spec's twin (archcalc.torchbuild), run it, and
compare, layer by layer, the output shape, parameter and buffer counts (per tensor), FLOPs
(torch.utils.flop_counter.FlopCounterMode, equal, not close) and the receptive field
(archcalc.rfprobe). torch is imported lazily, only when verify runs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ..analysis import analyze
from ..errors import ArchcalcError, UsageError
from ..graph import Graph

QUANTITIES = ("output", "params", "buffers", "flops", "rf", "input_grad", "backward")
TORCH_MISSING = "PyTorch is not installed; verify and export need it: pip install 'archcalc[torch]'"


@dataclass
class Check:
    layer: str
    quantity: str
    expected: Any
    actual: Any
    ok: bool
    detail: str = ""
    skipped: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "quantity": self.quantity, "expected": _plain(self.expected),
                "actual": _plain(self.actual), "ok": self.ok, "skipped": self.skipped, "detail": self.detail}


@dataclass
class Verification:
    name: str
    device: str
    input: tuple[int, ...]
    batch: int
    checks: list[Check] = field(default_factory=list)
    backward: bool = False  # the backward pass was run and checked too
    mode: str = "eval"  # the mode the twin ran in (module.train() or .eval()), as the analysis's --mode

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def mismatches(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def skipped(self) -> list[Check]:
        return [c for c in self.checks if c.skipped]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "device": self.device, "input": list(self.input), "batch": self.batch,
                "mode": self.mode, "backward": self.backward, "ok": self.ok, "checks": [c.as_json() for c in self.checks],
                "mismatches": sorted({c.layer for c in self.mismatches})}


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def require_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ArchcalcError(TORCH_MISSING) from None
    return torch


def check_device(device: str):
    torch = require_torch()
    if device not in ("cpu", "cuda", "meta"):
        raise UsageError(f"unknown device '{device}' (choose cpu, cuda or meta)")
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("CUDA is not available here (no GPU or a CPU-only PyTorch); use --device cpu or meta")
    return torch


def available_memory(device: str) -> int | None:
    """Bytes free for tensors on ``device`` (None where unknown: then nothing is refused)."""
    if device == "cuda":
        import torch

        return torch.cuda.mem_get_info()[0]
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(report, device: str, backward: bool = False) -> None:
    """Refuse a pass that cannot fit, before torch tries (and the OS kills the process)."""
    if device == "meta":
        return
    from ..figures.memory import memory_report
    from ..render import human_bytes

    if backward:  # weights, buffers, gradients and every activation kept for backward
        need, what, run = memory_report(report, "sgd").training_total, "weights, gradients and saved activations", "forward and backward pass"
    else:
        need, what, run = memory_report(report).inference_total, "weights and peak live activations", "forward pass"
    free = available_memory(device)
    if free is not None and need > 0.9 * free:
        raise UsageError(
            f"the {run} on {device} needs about {human_bytes(need)} ({what}, "
            f"float32) but {human_bytes(free)} is free; use --device meta (shapes, parameters and FLOPs without "
            "memory) or a smaller --input or --batch")


def verify(graph: Graph, *, device: str = "cpu", input_shape=None, batch: int = 1, rf: bool = True,
           progress: Callable[[str, int, int], None] | None = None, backward: bool = False,
           mode: str = "eval") -> Verification:
    """Run the twin and compare every layer with the analysis; with ``backward``, also run
    loss.backward() on loss = output.sum() and compare each layer's backward FLOPs and whether
    its input needs a gradient. ``mode`` ('eval' or 'train'): the twin runs in that mode and the
    analysis counts that mode's layers (an aux head runs in train). ``progress(stage, done, total)``
    is called as work proceeds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's performance hints are no concern of the user's
        return _verify(graph, device, input_shape, batch, rf, progress, backward, mode)


def _verify(graph, device, input_shape, batch, rf, progress, backward, mode="eval") -> Verification:
    check_device(device)
    if input_shape is not None:
        graph = replace(graph, input_shape=tuple(input_shape))
    report = analyze(graph, batch=batch, mode=mode)
    check_memory(report, device, backward)
    result = Verification(graph.name, device, tuple(report.input), report.batch, backward=backward, mode=mode)
    progress = progress or (lambda stage, done, total: None)
    net, shapes, counter, grads = _run_twin(graph, report, device, progress, backward, mode)
    modules = dict(net.named_modules())
    counts = counter.get_flop_counts()
    prefix = type(net).__name__ + "."
    rf_results = {}
    if rf:
        from .rfprobe import RFResult, probe
        from .twin import is_net_input

        if any(is_net_input(node) for node in graph.nodes):  # the probe twin takes one input tensor
            why = "skipped: the gradient probe feeds one input (the spec declares several)"
            rf_results = {r.name: RFResult(r.name, True, None, None, why, True) for r in report.rows}
        else:
            rf_results = {r.name: r for r in probe(graph, report, progress)}
    for row in report.rows:
        flops = sum(counts.get(prefix + row.name, {}).values())
        result.checks += _layer_checks(row, modules[row.name], shapes.get(row.name), flops, rf_results.get(row.name), mode)
        if grads is not None and row.active:  # a layer of train-mode outputs only runs no backward in eval
            result.checks += _backward_checks(row, *grads)
    total = counter.get_total_flops()
    result.checks.append(Check("total", "flops", report.total.flops, total, report.total.flops == total))
    if grads is not None:
        result.checks += _backward_totals(report, total, grads[1])
    total_params = sum(p.numel() for p in net.parameters())
    result.checks.append(Check("total", "params", report.total.params, total_params, report.total.params == total_params))
    return result


def _run_twin(graph, report, device, progress, backward=False, mode="eval"):
    """Build the twin and run one forward pass under FlopCounterMode, keeping every layer's
    output shape; with ``backward``, the forward pass keeps the autograd graph and loss.backward()
    follows (archcalc.pytorch.backward). Returns (net, shapes by layer name, the forward counter,
    None or (GradientRecord, BackwardCounts))."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from .backward import GradientRecord, run_backward
    from .twin import build_module, input_tensors

    progress("building the PyTorch twin", 0, 1)
    with torch.device(device):
        net = build_module(graph)
    net.train(mode == "train")
    progress("building the PyTorch twin", 1, 1)
    modules = dict(net.named_modules())
    shapes: dict[str, tuple[int, ...]] = {}
    stage = f"forward pass on {device} (FlopCounterMode)"

    def keep_shape(name):
        def hook(module, inputs, output):
            shapes[name] = tuple(output.shape[1:])
            progress(stage, len(shapes), len(graph.nodes))

        return hook

    hooks = [modules[n.name].register_forward_hook(keep_shape(n.name)) for n in graph.nodes]
    record = GradientRecord() if backward else None
    if record is not None:
        hooks += [modules[n.name].register_forward_hook(record.hook(n.name)) for n in graph.nodes]
    progress(stage, 0, len(graph.nodes))
    counter = FlopCounterMode(display=False)
    try:
        x = torch.zeros((report.batch, *report.input), device=device)
        with torch.set_grad_enabled(backward), counter:
            output = net(x, *input_tensors(graph, report.batch, device))
        if record is not None:
            progress(f"backward pass on {device} (FlopCounterMode)", 0, 1)
            return net, shapes, counter, (record, run_backward(output, record))
    # MemoryError: an allocation past a ulimit or cgroup; ValueError: batch norm in train mode
    # with one value per channel (batch 1 on a 1x1 map), which torch refuses
    except (RuntimeError, MemoryError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "out of memory"
        if isinstance(exc, ValueError) and mode == "train":
            reason += " (batch norm in train mode: verify with --batch 2 or more)"
        raise ArchcalcError(f"PyTorch could not run the net on {device}: {reason[:300]}") from None
    finally:
        for h in hooks:
            h.remove()
    return net, shapes, counter, None


def _layer_checks(row, module, shape, flops: int, probe_result, mode: str = "eval") -> list[Check]:
    """One layer's checks: output shape, parameters and buffers per tensor, FLOPs, receptive field."""
    want_p = {t.name: t.count for t in row.param_tensors}
    got_p = {n: p.numel() for n, p in module.named_parameters(recurse=False)}
    want_b = {t.name: t.count for t in row.buffer_tensors}
    got_b = {n: b.numel() for n, b in module.named_buffers(recurse=False)}
    output = Check(row.name, "output", tuple(row.output), shape, tuple(row.output) == shape)
    if shape is None and not row.active:  # it ran not in this mode, as the analysis says (analysis.modes)
        output = Check(row.name, "output", tuple(row.output), None, True, f"skipped: runs only in {'eval' if mode == 'train' else 'train'} mode", True)
    checks = [
        output,
        Check(row.name, "params", row.params, sum(got_p.values()), want_p == got_p, _tensors(want_p, got_p)),
        Check(row.name, "buffers", row.buffers, sum(got_b.values()), want_b == got_b, _tensors(want_b, got_b)),
        Check(row.name, "flops", row.flops, flops, row.flops == flops),
    ]
    if probe_result is not None:
        checks.append(Check(row.name, "rf", probe_result.expected, probe_result.actual, probe_result.ok,
                            probe_result.detail, probe_result.skipped))
    return checks


def _backward_checks(row, record, counts) -> list[Check]:
    """Whether the layer's input needs a gradient, and its backward FLOPs (both parts together:
    FlopCounterMode counts a convolution's two gradients as one op)."""
    needs = record.input_needs_grad.get(row.name)
    flops = counts.by_layer.get(row.name, 0)
    return [
        Check(row.name, "input_grad", row.input_needs_grad, needs, row.input_needs_grad == needs),
        Check(row.name, "backward", row.backward_flops, flops, row.backward_flops == flops,
              f"analysis: grad input {row.backward_input_flops:,} + grad weight {row.backward_weight_flops:,}"
              if row.backward_flops != flops else ""),
    ]


def _backward_totals(report, forward: int, counts) -> list[Check]:
    """The backward total, what no layer ran (the loss's own ops: 0 for a sum), and the training step."""
    t = report.total
    stray = counts.by_layer.get(None, 0)
    return [
        Check("total", "backward", t.backward_flops, counts.total, t.backward_flops == counts.total),
        Check("loss", "backward", 0, stray, stray == 0, "FLOPs of autograd nodes of no layer"),
        Check("total", "train", t.train_flops, forward + counts.total, t.train_flops == forward + counts.total),
    ]


def _tensors(want: dict, got: dict) -> str:
    if want == got:
        return ""
    return f"analysis {want or '{}'} vs torch {got or '{}'}"
