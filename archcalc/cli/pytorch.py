"""`archcalc verify` and `archcalc export`: the commands that need PyTorch (imported lazily,
only when they run). Registered on archcalc.cli.app."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .app import (BatchOpt, InputOpt, LayoutOpt, Mode, ModeOpt, Pass, SetOpt, SpecArg, app, console, load_spec, note,
                  run_guarded, typed_input)
from .figures import AmpDType, AmpDTypeOpt, AmpOpt, CheckpointOpt, InplaceOpt
from ..errors import UsageError


class Device(str, Enum):
    cpu = "cpu"
    cuda = "cuda"
    meta = "meta"


class VerifyFormat(str, Enum):
    table = "table"
    json = "json"


class Target(str, Enum):
    python = "python"  # PyTorch source
    pytorch = "pytorch"  # the same (its name before ONNX came)
    onnx = "onnx"


MARKS = {True: "ok", False: "FAIL", None: "-"}
MemoryOpt = typer.Option(False, "--memory", help="Instead: archcalc memory's peaks (inference, forward+backward, a "
                         "training step) against PyTorch's MemTracker under FakeTensorMode (with --device cuda: "
                         "torch.cuda.max_memory_allocated). See docs/memory.md.")
MemoryOptimizerOpt = typer.Option("adam", "--optimizer", "-O", help="With --memory: the optimizer, or 'all'.")
COLUMNS = ("output", "params", "buffers", "flops", "rf")
BACKWARD_COLUMNS = ("input_grad", "backward", "train")  # with --pass backward or train


def _progress_reporter():
    """Progress on stderr, one line per stage (transient; only on a terminal): returns
    (callback(stage, done, total), stop). A new stage marks the one before it finished."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    err = Console(stderr=True)
    if not err.is_terminal:
        return (lambda stage, done, total: None), (lambda: None)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err, transient=True)
    tasks: dict[str, int] = {}
    progress.start()

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            for task in tasks.values():
                progress.update(task, completed=progress.tasks[task].total)
            tasks[stage] = progress.add_task(stage, total=max(total, 1))
        progress.update(tasks[stage], completed=done, total=max(total, 1))

    return update, progress.stop


def _cell(checks) -> str:
    if not checks:
        return MARKS[None]
    if any(not c.ok for c in checks):
        return MARKS[False]
    if all(c.skipped for c in checks):
        return "skip"
    return MARKS[True]


def print_verification(result, rows) -> None:
    from rich.table import Table

    from ..render.escape import visible

    by_layer: dict[str, dict[str, list]] = {}
    for check in result.checks:
        by_layer.setdefault(check.layer, {}).setdefault(check.quantity, []).append(check)
    table = Table(title=f"archcalc verify {visible(result.name)} ({result.device}, input {'x'.join(map(str, result.input))}, "
                        f"batch {result.batch}{', train mode' if result.mode == 'train' else ''})", header_style="bold")
    table.add_column("layer")
    table.add_column("type")
    present = {c.quantity for c in result.checks}
    columns = COLUMNS + tuple(q for q in BACKWARD_COLUMNS if q in present)
    for column in columns:
        table.add_column(column, justify="center")
    for name, type_name in rows + [("total", "")]:
        quantities = by_layer.get(name, {})
        cells = [_cell(quantities.get(q, [])) for q in columns]
        style = "red" if "FAIL" in cells else None
        table.add_row(visible(name), type_name, *cells, style=style)
    out = console()
    out.print(table)
    for check in result.mismatches:
        detail = f" ({check.detail})" if check.detail else ""
        out.print(visible(f"MISMATCH {check.layer} {check.quantity}: analysis {check.expected} vs PyTorch {check.actual}"
                          f"{detail}"), highlight=False, markup=False)
    skipped = result.skipped
    if skipped:
        reasons = sorted({c.detail.removeprefix("skipped: ") for c in skipped})
        out.print(f"{len(skipped)} check(s) skipped: {'; '.join(reasons)}", highlight=False, markup=False)
    out.print(visible(summary_line(result)), highlight=False, markup=False)


def summary_line(result) -> str:
    checked = len(result.checks) - len(result.skipped)
    if result.ok:
        return f"{result.name}: all {checked} checks agree with PyTorch"
    layers = list(dict.fromkeys(c.layer for c in result.mismatches))
    return (f"{result.name}: {len(result.mismatches)} of {checked} checks disagree with PyTorch, in "
            f"{len(layers)} row(s): {', '.join(layers[:12])}{' ...' if len(layers) > 12 else ''}")


@app.command()
def verify(
    spec: str = SpecArg,
    device: Device = typer.Option(Device.cpu, "--device", help="cpu, cuda, or meta (shapes, params and FLOPs without memory)."),
    input: Optional[str] = InputOpt,
    layout: Optional[str] = LayoutOpt,
    batch: Optional[int] = BatchOpt,
    format: VerifyFormat = typer.Option(VerifyFormat.table, "--format", "-f", help="Output format."),
    rf: bool = typer.Option(True, "--rf/--no-rf", help="Also measure receptive fields (CPU, float64 probe twin)."),
    pass_: Pass = typer.Option(Pass.forward, "--pass", help="backward or train: also run loss.backward() (loss = "
                               "output.sum()) and prove each layer's backward FLOPs, which inputs need a gradient, and "
                               "the backward and train totals."),
    memory: bool = MemoryOpt, optimizer: str = MemoryOptimizerOpt,
    amp: bool = AmpOpt, amp_dtype: AmpDType = AmpDTypeOpt, inplace: bool = InplaceOpt, checkpoint: str = CheckpointOpt,
    set_: Optional[List[str]] = SetOpt, mode: Mode = ModeOpt,
) -> None:
    """Prove the analysis against PyTorch, layer by layer: output shape, parameters, buffers, FLOPs and receptive field
    (with --pass backward or train, the backward pass too).

    Builds the spec's PyTorch twin (module names = layer names), runs it under FlopCounterMode and
    probes receptive fields by gradients on a one-channel geometric twin. Exit status 0 when all
    agree, 1 on any mismatch (named), 2 on a spec error or an unusable device. See docs/verify.md."""
    if memory:  # a different check: memory peaks, not layers
        return _verify_memory(spec, device, input, layout, batch, format, optimizer,
                              (amp_dtype.value if amp else None, inplace, checkpoint), set_)
    _verify_layers(spec, device, input, layout, batch, format, rf, pass_, set_, Mode(mode).value)


def _verify_layers(spec, device, input, layout, batch, format, rf, pass_, settings, mode="eval") -> None:
    """`verify` layer by layer: exit 0 when every check agrees, 1 otherwise."""

    def work():
        from ..pytorch.verify import check_device
        from ..pytorch.verify import verify as run_verify

        from ..analysis import analyze

        graph, shape = load_spec(spec, typed_input(input, layout), batch, settings=settings)
        analyze(graph, input_shape=shape, batch=batch, mode=mode)  # spec mistakes surface before any torch work
        module = getattr(getattr(getattr(graph, "imported", None), "result", None), "module", None)
        if module is not None:  # an imported model: checked against the module itself, not a twin
            from ..pytorch.fx_verify import verify_import

            check_device(device.value)
            result = verify_import(graph, module, device=device.value, batch=batch or 1)
            if format is VerifyFormat.json:
                from ..render.writers import json_text

                sys.stdout.write(json_text(result.as_json()))
            else:
                print_verification(result, [(n.name, n.type_name) for n in graph.nodes])
            return result
        update, stop = _progress_reporter()
        try:
            update("loading PyTorch", 0, 1)
            check_device(device.value)
            result = run_verify(graph, device=device.value, input_shape=shape, batch=batch or graph.batch, rf=rf,
                                progress=update, backward=pass_ is not Pass.forward, mode=mode)
        finally:
            stop()
        if format is VerifyFormat.json:
            from ..render.writers import json_text

            sys.stdout.write(json_text(result.as_json()))
        else:
            print_verification(result, [(n.name, n.type_name) for n in graph.nodes])
        return result

    result = run_guarded(work)
    if result is not None and not result.ok:
        raise typer.Exit(1)


def _verify_memory(spec, device, input, layout, batch, format, optimizer, how, settings=None) -> None:
    """`verify --memory`: exit 0 when every phase agrees within the tolerance, 1 otherwise."""

    def work():
        from ..analysis import analyze
        from ..figures.memory import check_optimizer, memory_options
        from ..pytorch.memcheck import check_memory, optimizers_of
        from ..pytorch.verify import check_device

        graph, shape = load_spec(spec, typed_input(input, layout), batch, settings=settings)
        if graph.input_name != "input" and any(getattr(n.layer, "net_input", False) for n in graph.nodes):
            raise UsageError("verify --memory runs the net on one input tensor; this spec declares several (inputs)")
        report = analyze(graph, input_shape=shape, batch=batch)
        options = memory_options(report, *how)
        chosen = optimizer.strip().lower()
        names = optimizers_of(chosen if chosen == "all" else check_optimizer(chosen))
        check_device(device.value)
        if shape is not None:
            from dataclasses import replace

            graph = replace(graph, input_shape=tuple(shape))
        result = check_memory(graph, batch=batch, optimizers=names, options=options,
                              device="cuda" if device is Device.cuda else "fake")
        if format is VerifyFormat.json:
            from ..render.writers import json_text

            sys.stdout.write(json_text(result.as_json()))
        else:
            print_memory_check(result)
        return result

    result = run_guarded(work)
    if result is not None and not result.ok:
        raise typer.Exit(1)


def print_memory_check(result) -> None:
    from ..render import human_bytes
    from ..render.boxtable import draw, print_box_table
    from ..render.escape import visible

    how = "torch.cuda.max_memory_allocated" if result.device == "cuda" else "MemTracker under FakeTensorMode"
    rows = [[c.phase, c.optimizer or "-", f"{c.estimate:,}", f"{c.measured:,}", human_bytes(c.measured),
             f"{c.difference:+.3%}", MARKS[c.ok]] for c in result.checks]
    headers = ["phase", "optimizer", "estimate (B)", "measured (B)", "measured", "difference", ""]
    right = [False, False, True, True, True, True, False]
    out = console()
    title = f"archcalc verify --memory {result.name} (batch {result.batch}, {how})"
    if draw(title, headers, right, rows, width=out.width) is None:  # narrow: the byte counts suffice
        headers, right, rows = headers[:4] + headers[5:], right[:4] + right[5:], [r[:4] + r[5:] for r in rows]
    print_box_table(out, title, headers, right, rows)
    bad = [c for c in result.checks if not c.ok]
    verdict = (f"all {len(result.checks)} phases within {result.checks[0].tolerance:.0%}" if not bad else
               f"{len(bad)} of {len(result.checks)} phases differ by more than {bad[0].tolerance:.0%}")
    out.print(visible(f"{result.name}: {verdict}"), highlight=False, markup=False)


@app.command()
def export(
    spec: str = SpecArg,
    to: Target = typer.Option(Target.python, "--to", help="python (or pytorch): a standalone PyTorch source file; "
                              "onnx: an ONNX model of the PyTorch twin, to open in Netron (needs -o; pip install "
                              '"archcalc\\[onnx-export]").'),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    input: Optional[str] = InputOpt,
    layout: Optional[str] = LayoutOpt,
    set_: Optional[List[str]] = SetOpt,
    batch: Optional[int] = typer.Option(None, "--batch", "-b", min=1, max=4096, help="With --to onnx: the batch of "
                                        "the model's input. (default: the spec's, else 1)"),
) -> None:
    """Write the net as a standalone PyTorch source file (a module class with the spec's layer names, plus build()),
    or with --to onnx as an ONNX model (eval mode; initializers named as the twin's parameters)."""
    if to is Target.onnx:
        return _export_onnx(spec, output, input, layout, set_, batch)

    def work():
        from ..pytorch.export import to_pytorch_source

        if batch is not None:
            raise UsageError("--batch applies to --to onnx (PyTorch source takes any batch)")
        graph, _ = load_spec(spec, typed_input(input, layout), None, settings=set_)
        text = to_pytorch_source(graph)
        if output is None:
            sys.stdout.write(text)
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}") from None
        note(f"wrote {output} ({len(text.splitlines())} lines): {graph.name} as PyTorch, build() returns the model")

    run_guarded(work)


def _export_onnx(spec, output, input, layout, settings, batch) -> None:
    def work():
        from ..analysis import analyze
        from ..pytorch.onnx_export import require_onnx, to_onnx
        from ..pytorch.verify import require_torch

        if output is None:
            raise UsageError("--to onnx writes a binary file: give it with --output FILE.onnx")
        graph, shape = load_spec(spec, typed_input(input, layout), batch, settings=settings)
        analyze(graph, input_shape=shape, batch=batch)  # spec mistakes surface before any torch work
        require_torch()
        require_onnx()
        if shape is not None:
            from dataclasses import replace

            graph = replace(graph, input_shape=tuple(shape))
        result = to_onnx(graph, output, batch or graph.batch or 1)
        shapes = ", ".join(f"{name} {'x'.join(map(str, dims))}" for name, dims in result.outputs) \
            if len(result.outputs) > 1 else "x".join(map(str, result.outputs[0][1]))
        beside = f" (weights in {output.name}.data)" if result.external else ""
        note(f"wrote {output}{beside}: {graph.name} as ONNX, {result.nodes} nodes, {result.parameters:,} parameters "
             f"(those eval uses), output {shapes}; onnx.checker passed")

    run_guarded(work)
