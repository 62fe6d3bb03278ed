"""`archcalc verify --memory`: archcalc's memory estimate against PyTorch's own measurement.

The measurement builds the spec's twin under FakeTensorMode (tensors without storage: no memory,
no GPU) and runs it under torch's MemTracker (torch.distributed._tools.mem_tracker), which sees
every tensor storage an op allocates or frees and keeps the peak. Two runs:

- inference: eval mode, torch.no_grad(), one forward pass;
- a training step (train mode) with the chosen optimizer, after one optimizer step on zero
  gradients so that its state exists (the step every later step repeats): forward, loss = output.sum(),
  backward (peak: "forward+backward"), optimizer.step() (peak: "training step").

The optimizer runs torch.optim's single-tensor loop (foreach=False) everywhere, so the CPU, the
tracker and CUDA run the same code. Where CUDA is available, ``measure_cuda`` runs the same steps
on real tensors and reads torch.cuda.max_memory_allocated. torch is imported lazily, here only.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from ..analysis import analyze
from ..errors import ArchcalcError
from ..figures.memory import OPTIMIZER_SLOTS, memory_report
from ..figures.memtimeline import Options
from ..graph import Graph
from .memrun import build_net, run_net, warm_up

PHASES = ("inference", "forward+backward", "training step")
TOLERANCE = 0.01  # the largest relative difference `verify --memory` accepts (docs/memory.md)


@dataclass(frozen=True)
class PhaseCheck:
    phase: str
    optimizer: str  # "" for inference
    estimate: int
    measured: int
    tolerance: float = TOLERANCE

    @property
    def difference(self) -> float:
        """(estimate - measured) / measured: positive where archcalc estimates more."""
        return (self.estimate - self.measured) / self.measured if self.measured else float(self.estimate != 0)

    @property
    def ok(self) -> bool:
        return abs(self.difference) <= self.tolerance

    def as_json(self) -> dict:
        return {"phase": self.phase, "optimizer": self.optimizer or None, "estimate": self.estimate,
                "measured": self.measured, "difference": round(self.difference, 6), "ok": self.ok}


@dataclass
class MemoryCheck:
    name: str
    batch: int
    device: str  # "fake" (MemTracker under FakeTensorMode) or "cuda" (max_memory_allocated)
    options: Options
    checks: list[PhaseCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_json(self) -> dict:
        o = self.options
        return {"name": self.name, "batch": self.batch, "device": self.device, "tolerance": TOLERANCE,
                "amp": o.amp, "inplace": o.inplace, "checkpoint": [list(s) for s in o.checkpoint],
                "ok": self.ok, "checks": [c.as_json() for c in self.checks]}


def optimizers_of(choice: str) -> list[str]:
    return list(OPTIMIZER_SLOTS) if choice == "all" else [choice]


def check_memory(graph: Graph, *, batch: int | None = None, optimizers=("adam",), options: Options | None = None,
                 device: str = "fake") -> MemoryCheck:
    """Estimate and measure inference and one training step per optimizer."""
    options = replace(options or Options(), device="cuda" if device == "cuda" else "cpu")
    report = analyze(graph, batch=batch)
    result = MemoryCheck(graph.name, report.batch, device, options)
    measure = measure_cuda if device == "cuda" else measure_fake
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notes on autocast and checkpointing concern no user
        for index, optimizer in enumerate(optimizers):
            estimate = memory_report(report, optimizer, options)
            measured = measure(graph, report, optimizer, options, inference=index == 0)
            if index == 0:
                result.checks.append(PhaseCheck("inference", "", estimate.inference_total, measured["inference"]))
            fb = max(estimate.phases["forward"], estimate.phases["backward"])
            result.checks.append(PhaseCheck("forward+backward", optimizer, fb, measured["forward+backward"]))
            result.checks.append(PhaseCheck("training step", optimizer, estimate.training_total,
                                            measured["training step"]))
    return result


def measure_fake(graph, report, optimizer: str, options: Options, inference: bool = True) -> dict[str, int]:
    """Peaks as MemTracker sees them under FakeTensorMode (bytes, every tensor on the CPU)."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.distributed._tools.mem_tracker import MemTracker

    def peak(tracker) -> int:
        return sum(snapshot["Total"] for snapshot in tracker.get_tracker_snapshot("peak").values())

    tracker_class = _global_peak_tracker(MemTracker)
    found: dict[str, int] = {}
    with FakeTensorMode(), _torch_errors("cpu"), _hooks_hold_no_gradients():
        net, x = build_net(graph, report, options, "cpu")
        if inference:
            tracker = tracker_class()
            _skip_frozen(tracker, net)
            tracker.track_external(net, x)
            with tracker:
                run_net(net, x, options, training=False)
            found["inference"] = peak(tracker)
        step, opt = run_net(net, x, options, training=True, optimizer=optimizer)
        warm_up(opt)
        tracker = tracker_class()
        _skip_frozen(tracker, net)
        tracker.track_external(net, opt, x)
        with tracker:
            step(until_backward=True)
            found["forward+backward"] = peak(tracker)
            opt.step()
            opt.zero_grad(set_to_none=True)
        found["training step"] = peak(tracker)
    del torch
    return found


def _global_peak_tracker(tracker):
    """MemTracker keeping only the whole net's peak. Its per-module peaks walk every module on
    every op (O(ops x modules): a minute for densenet121); the global peak is the same figure.
    Falls back to MemTracker itself where its internals differ from torch 2.x's."""
    probe = tracker()
    if not all(hasattr(probe, a) for a in ("_curr_mem_snap", "_peak_mem", "_peak_mem_snap", "_update_peak_stats")):
        return tracker

    class GlobalPeakTracker(tracker):
        def _update_peak_stats(self, peak_state) -> None:
            for device, snapshot in self._curr_mem_snap.items():
                total = snapshot["Total"]
                if self._peak_mem.get(device, 0) < total:
                    self._peak_mem[device] = total
                    self._peak_mem_snap[device] = dict(snapshot)

    return GlobalPeakTracker


@contextmanager
def _hooks_hold_no_gradients():
    """MemTracker follows modules in backward through ModTracker, which hooks each module's
    inputs with register_multi_grad_hook in its "all" mode: that buffers the gradient of every
    input until the last one is computed, so a join of two inputs (x * mask, mask computed from
    x) holds one gradient that plain PyTorch frees, a map too many. The "any" mode fires on the
    first gradient and holds none; only the tracker's per-module attribution, which the global
    peak does not read, changes. Left as it is where ModTracker differs from torch 2.x's."""
    try:
        from torch.distributed._tools import mod_tracker
    except ImportError:
        yield
        return
    original = getattr(mod_tracker, "register_multi_grad_hook", None)
    if original is None:
        yield
        return

    def any_mode(tensors, fn, *args, **kwargs):
        kwargs.pop("mode", None)
        return original(tensors, fn, mode="any")

    mod_tracker.register_multi_grad_hook = any_mode
    try:
        yield
    finally:
        mod_tracker.register_multi_grad_hook = original


def measure_cuda(graph, report, optimizer: str, options: Options, inference: bool = True) -> dict[str, int]:
    """Peaks from torch.cuda.max_memory_allocated on a real GPU (the caching allocator's view:
    every tensor rounded up to 512 bytes; the CUDA context is not counted)."""
    import torch

    found: dict[str, int] = {}
    with _torch_errors("cuda"):
        net, x = build_net(graph, report, options, "cuda")
        torch.cuda.synchronize()
        if inference:
            torch.cuda.reset_peak_memory_stats()
            run_net(net, x, options, training=False)
            found["inference"] = torch.cuda.max_memory_allocated()
        step, opt = run_net(net, x, options, training=True, optimizer=optimizer)
        warm_up(opt)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        step(until_backward=True)
        found["forward+backward"] = torch.cuda.max_memory_allocated()
        opt.step()
        opt.zero_grad(set_to_none=True)
        found["training step"] = torch.cuda.max_memory_allocated()
    return found


@contextmanager
def _torch_errors(device: str):
    """What torch refuses (batch norm on one value per channel in train mode, memory it cannot
    get) is one clear line, not torch's traceback."""
    try:
        yield
    except (RuntimeError, ValueError, MemoryError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "out of memory"
        raise ArchcalcError(f"PyTorch could not run the net on {device}: {reason[:300]}") from None


class _NoHook:
    def remove(self) -> None:
        pass


def _skip_frozen(tracker, net) -> None:
    """MemTracker hooks every parameter's gradient, which torch refuses for a frozen one (it has
    no gradient to track): mark those as hooked already."""
    handles = getattr(tracker, "_param_to_grad_hook_handles", None)
    if handles is not None:
        for param in net.parameters():
            if not param.requires_grad:
                handles[param] = (_NoHook(), _NoHook())

