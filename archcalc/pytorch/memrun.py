"""The twin as `verify --memory` runs it: in-place activations, checkpointed segments, autocast,
and the training step with a torch.optim optimizer (foreach=False). torch is imported lazily."""

from __future__ import annotations

from contextlib import nullcontext

from ..figures.memtimeline import inplace_layers
from .twin import build_module

# archcalc's optimizer names -> (torch.optim class, keyword arguments)
OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.01)),
    "momentum": ("SGD", dict(lr=0.01, momentum=0.9)),
    "nesterov": ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    "adagrad": ("Adagrad", dict(lr=0.01)),
    "adadelta": ("Adadelta", dict()),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "adam": ("Adam", dict()),
    "adamw": ("AdamW", dict()),
}


def build_net(graph, report, options, device: str):
    """The twin on ``device`` with the memory options applied, and a zero input batch."""
    import torch

    with torch.device(device):
        net = build_module(graph)
        x = torch.zeros((report.batch, *report.input))
    modules = dict(net.named_modules())
    for name in inplace_layers(report) if options.inplace else ():
        modules[name].inplace = True
    # the layers of one mode only (aux heads) run as the Report's mode says, in both phases: the
    # estimate counts them from that Report
    net._archcalc_plan = [(name, module, sources, done) for name, module, sources, done, only in net._plan
                          if only is None or only == (report.mode == "train")]
    net._segments = _segment_bounds(net._archcalc_plan, options.checkpoint)
    return net, x


def _segment_bounds(plan, checkpoint) -> dict[int, int]:
    """First plan index -> last plan index of each checkpointed segment."""
    index = {entry[0]: i for i, entry in enumerate(plan)}
    bounds = {}
    for segment in checkpoint:
        rows = [index[name] for name in segment]
        bounds[min(rows)] = max(rows)
    return bounds


def forward(net, x, checkpointed: bool = True):
    """The twin's forward (archcalc.pytorch.twin), with each checkpointed segment run through
    torch.utils.checkpoint (non-reentrant): it keeps only the segment's inputs for backward.
    Inference runs no segment through it (there is no backward to save for)."""
    from torch.utils.checkpoint import checkpoint

    plan, values, i = net._archcalc_plan, {None: x}, 0
    while i < len(plan):
        last = net._segments.get(i) if checkpointed else None
        if last is None:
            name, module, sources, done = plan[i]
            values[name] = module(*[values[s] for s in sources])
            _drop(values, done)
            i += 1
            continue
        inner = plan[i:last + 1]
        names = {entry[0] for entry in inner}
        outside = list(dict.fromkeys(s for entry in inner for s in entry[2] if s not in names))
        later = {s for entry in plan[last + 1:] for s in entry[2]} | {net._output}
        results = [name for name in names if name in later]
        outputs = checkpoint(_segment(inner, outside, results), *[values[s] for s in outside], use_reentrant=False)
        values.update(zip(results, outputs))
        for entry in inner:
            _drop(values, [s for s in entry[3] if s not in names])
        i = last + 1
    return values[net._output]


def _segment(inner, outside, results):
    def run(*inputs):
        values = dict(zip(outside, inputs))
        for name, module, sources, done in inner:
            values[name] = module(*[values[s] for s in sources])
            _drop(values, [s for s in done if s not in outside])
        return tuple(values[r] for r in results)

    return run


def _drop(values, done) -> None:
    for source in done:
        if source is not None:
            values.pop(source, None)


def run_net(net, x, options, training: bool, optimizer: str = "adam"):
    """Inference: one forward pass (eval, no_grad). Training: returns (step, the optimizer),
    where step(until_backward=False) runs forward, output.sum().backward() and, unless told to
    stop after backward, optimizer.step() and zero_grad(set_to_none=True)."""
    import torch

    device = x.device.type
    amp = (lambda: torch.autocast(device, dtype=getattr(torch, options.amp))) if options.amp else nullcontext
    if not training:
        net.eval()
        with torch.no_grad(), amp():
            forward(net, x, checkpointed=False)
        return None
    net.train()
    name, kwargs = OPTIMIZERS[optimizer]
    opt = getattr(torch.optim, name)(net.parameters(), foreach=False, **kwargs)

    def step(until_backward: bool = False) -> None:
        with amp():
            loss = forward(net, x).sum()
        loss.backward()
        del loss
        if not until_backward:
            opt.step()
            opt.zero_grad(set_to_none=True)

    return step, opt


def warm_up(opt) -> None:
    """One optimizer step on zero gradients: the state exists afterwards, as in every step after
    the first, without running the net (it costs no forward or backward pass)."""
    import torch

    for group in opt.param_groups:
        for param in group["params"]:
            if param.requires_grad:
                param.grad = torch.zeros_like(param)
    opt.step()
    opt.zero_grad(set_to_none=True)
