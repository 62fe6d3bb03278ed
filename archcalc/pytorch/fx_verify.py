"""`archcalc verify SOURCE` for an imported model: the analysis of the written spec against the
original module (not a twin), run once under FlopCounterMode on the meta device (or the cpu, with
uninitialised weights): every module the import names a layer after has that layer's output shape
(its last call), parameters and buffers (per tensor) and FLOPs (all its calls together), every
module holding layers has the FLOPs of its layers, and the totals agree."""

from __future__ import annotations

import warnings

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..analysis import analyze
from ..errors import ArchcalcError
from .verify import Check, Verification, _tensors


def verify_import(graph, module: torch.nn.Module, *, device: str = "meta", batch: int = 1) -> Verification:
    report = analyze(graph, batch=batch)
    if device == "cpu" and any(p.is_meta for p in module.parameters()):
        module = module.to_empty(device="cpu")  # built on meta: memory, no initialisation (values unused)
    module.eval()
    rows = {row.name: row for row in report.rows}
    named = dict(module.named_modules())
    shapes: dict[str, tuple] = {}
    hooks = [named[name].register_forward_hook(lambda m, i, o, n=name: shapes.__setitem__(n, tuple(o.shape[1:])))
             for name in rows if name in named]
    called: set[str] = set()  # a container (ModuleList) is never called itself: its FLOPs are its modules'
    hooks += [m.register_forward_pre_hook(lambda m, i, n=name: called.add(n)) for name, m in named.items()]
    counter = FlopCounterMode(display=False)
    try:
        with warnings.catch_warnings(), torch.no_grad(), counter:
            warnings.simplefilter("ignore")
            output = module(torch.zeros((report.batch, *report.input), device=device))
    except (RuntimeError, MemoryError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "out of memory"
        raise ArchcalcError(f"PyTorch could not run the module on {device}: {reason[:300]}") from None
    finally:
        for hook in hooks:
            hook.remove()
    prefix = type(module).__name__ + "."
    counts = {key[len(prefix):]: sum(ops.values()) for key, ops in counter.get_flop_counts().items()
              if key.startswith(prefix)}
    result = Verification(graph.name, device, tuple(report.input), report.batch)
    for name, row in rows.items():
        result.checks += _module_checks(row, named.get(name), shapes.get(name), counts, report.rows)
    result.checks += _scope_checks(named, counts, report.rows, called)
    result.checks += _totals(report, module, counter.get_total_flops(), output)
    return result


def _module_checks(row, module, shape, counts, rows) -> list[Check]:
    if module is None:  # a functional op: its FLOPs count in its module's and in the total
        return []
    want_p = {t.name: t.count for t in row.param_tensors}
    got_p = {n: p.numel() for n, p in module.named_parameters()}
    want_b = {t.name: t.count for t in row.buffer_tensors}
    got_b = {n: b.numel() for n, b in module.named_buffers()}
    calls = [r for r in rows if r.name == row.name or _earlier_call(r.name, row.name)]
    flops = sum(r.flops for r in calls)
    output = Check(row.name, "output", tuple(row.output), shape, tuple(row.output) == shape)
    if shape is None and not row.active:
        output = Check(row.name, "output", tuple(row.output), None, True, "skipped: runs only in train mode", True)
    return [output,
            Check(row.name, "params", row.params, sum(got_p.values()), want_p == got_p, _tensors(want_p, got_p)),
            Check(row.name, "buffers", row.buffers, sum(got_b.values()), want_b == got_b, _tensors(want_b, got_b)),
            Check(row.name, "flops", flops, counts.get(row.name, 0), flops == counts.get(row.name, 0),
                  f"{len(calls)} calls" if len(calls) > 1 else "")]


def _earlier_call(name: str, module_name: str) -> bool:
    """relu1, relu2 are the earlier calls of the module relu (archcalc.pytorch.fx_import)."""
    head, _, tail = name.rpartition(".")
    base_head, _, base = module_name.rpartition(".")
    return head == base_head and tail.startswith(base) and tail[len(base):].isdigit()


def _scope_checks(named, counts, rows, called) -> list[Check]:
    """Each module that holds layers: the FLOPs of the layers named under it (summed over every
    row's enclosing paths in one pass). A container forward never calls itself (DeepLabV3's
    ModuleList of ASPP branches) is skipped: FlopCounterMode charges nothing to it, only to the
    modules in it, which are checked."""
    under: dict[str, int] = {}
    for row in rows:
        parts = row.name.split(".")
        for k in range(1, len(parts)):
            path = ".".join(parts[:k])
            under[path] = under.get(path, 0) + row.flops
    checks = []
    for path in named:
        if not path or path not in under:
            continue
        flops, got = under[path], counts.get(path, 0)
        if path not in called and flops:
            checks.append(Check(path, "flops", flops, None, True, "skipped: forward never calls this module itself", True))
        else:
            checks.append(Check(path, "flops", flops, got, flops == got, "the layers under this module"))
    return checks


def _totals(report, module, flops: int, output) -> list[Check]:
    t = report.total
    params = sum(p.numel() for p in module.parameters())
    buffers = sum(b.numel() for b in module.buffers())
    outputs = output.values() if isinstance(output, dict) else output if isinstance(output, (tuple, list)) else ()
    main = output if isinstance(output, torch.Tensor) else next((o for o in outputs if isinstance(o, torch.Tensor)), None)
    shape = tuple(main.shape[1:]) if main is not None else None
    return [Check("total", "params", t.params, params, t.params == params),
            Check("total", "buffers", t.buffers, buffers, t.buffers == buffers),
            Check("total", "flops", t.flops, flops, t.flops == flops),
            Check("total", "output", tuple(report.output), shape, tuple(report.output) == shape)]
