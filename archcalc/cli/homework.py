"""The homework commands: one-liners (conv, deconv, pool, linear/dense) with answer checking,
chain and solve."""

from __future__ import annotations

import sys
from enum import Enum
from typing import List, Optional

import typer

from .app import BatchOpt, DType, DTypeOpt, Format, FormatOpt, app, console, run_guarded

LAYOUT_HELP = ("How to read shapes: hwc = the course's HxWxC (40x50x128 is H=40 W=50 C=128, the default), "
               "chw = PyTorch's CxHxW. Without it, a shape that looks like CxHxW (3x224x224) is refused.")
LayoutOpt = typer.Option(None, "--layout", "-l", help=LAYOUT_HELP, show_default=False)
LineFormatOpt = typer.Option(Format.table, "--format", "-f", help="table (plain lines), json, csv or markdown "
                             "(the layer table, then the explanation).")
CheckOpt = typer.Option(None, "--check", help="A student's parameter count: prints CORRECT/INCORRECT; exit 0 or 1. "
                        "Weights only (no bias) also counts as correct, and says so.")
CheckShapeOpt = typer.Option(None, "--check-shape", help="A student's output shape, in the input's layout (e.g. 40x50x64).")
CheckMacsOpt = typer.Option(None, "--check-macs", help="A student's MAC count.")
CheckFlopsOpt = typer.Option(None, "--check-flops", help="A student's FLOP count (2 x MACs for conv/linear).")
KernelOpt = typer.Option(..., "--kernel", "-k", help="Kernel size: 3, or HxW like 1x7.", show_default=False)
StrideOpt = typer.Option(None, "--stride", "-s", help="Stride: 2 or HxW. [default: 1; pooling: the kernel]")
PaddingOpt = typer.Option(None, "--padding", "-p", help="Padding: 1, HxW, or (conv) same / valid. [default: 0]")
DilationOpt = typer.Option(None, "--dilation", help="Dilation: 2 or HxW. [default: 1]")
GroupsOpt = typer.Option(None, "--groups", "-g", help="Groups (in and out channels split into this many groups).")
BiasOpt = typer.Option(True, "--bias/--no-bias", help="Count a bias per output channel.")
InputArg = typer.Argument(..., help="Input map, e.g. 40x50x128 (HxWxC; see --layout).", show_default=False)


def _one_layer(command: str, input_text: str, layout: str, build_options, checks: tuple, fmt: Format) -> None:
    """Analyse one layer; ``command`` (a layer type's name or alias, as the user typed it) picks
    the type; ``build_options`` turns the raw options into registry arguments."""
    from ..homework.oneliner import render_answer, run_checks, solve_layer

    def work():
        answer = solve_layer(command, input_text, layout, build_options())
        verdicts = run_checks(answer, *checks)
        sys.stdout.write(render_answer(answer, verdicts, fmt.value))
        return all(v.correct for v in verdicts)

    if run_guarded(work) is False:
        raise typer.Exit(1)


def _pair(text, what):
    from ..homework.oneliner import pair_option

    return pair_option(text, what)


@app.command()
def conv(ctx: typer.Context, input: str = InputArg,
         out: int = typer.Option(..., "--out", "-o", help="Output channels (number of filters).", show_default=False),
         kernel: str = KernelOpt, stride: Optional[str] = StrideOpt, padding: Optional[str] = PaddingOpt,
         dilation: Optional[str] = DilationOpt, groups: Optional[int] = GroupsOpt, bias: bool = BiasOpt,
         layout: Optional[str] = LayoutOpt, check: Optional[str] = CheckOpt, check_shape: Optional[str] = CheckShapeOpt,
         check_macs: Optional[str] = CheckMacsOpt, check_flops: Optional[str] = CheckFlopsOpt,
         format: Format = LineFormatOpt) -> None:
    """One convolution: output shape, parameters with the formula, MACs, FLOPs, receptive field.

    Example: archcalc conv 40x50x128 --out 64 --kernel 3 --padding 1 --check 73728
    """
    def arguments():
        return dict(out_channels=out, kernel_size=_pair(kernel, "kernel"), stride=_pair(stride, "stride"),
                    padding=_pair(padding, "padding"), dilation=_pair(dilation, "dilation"), groups=groups, bias=bias)

    _one_layer(ctx.info_name, input, layout, arguments, (check, check_shape, check_macs, check_flops), format)


@app.command()
def deconv(ctx: typer.Context, input: str = InputArg,
           out: int = typer.Option(..., "--out", "-o", help="Output channels.", show_default=False),
           kernel: str = KernelOpt, stride: Optional[str] = StrideOpt, padding: Optional[str] = PaddingOpt,
           output_padding: Optional[str] = typer.Option(None, "--output-padding", help="Extra rows/columns on one side."),
           dilation: Optional[str] = DilationOpt, groups: Optional[int] = GroupsOpt, bias: bool = BiasOpt,
           layout: Optional[str] = LayoutOpt, check: Optional[str] = CheckOpt, check_shape: Optional[str] = CheckShapeOpt,
           check_macs: Optional[str] = CheckMacsOpt, check_flops: Optional[str] = CheckFlopsOpt,
           format: Format = LineFormatOpt) -> None:
    """One transposed convolution ("deconvolution"), e.g. archcalc deconv 7x7x16 --out 8 --kernel 4 --stride 2 --padding 1"""
    def arguments():
        return dict(out_channels=out, kernel_size=_pair(kernel, "kernel"), stride=_pair(stride, "stride"),
                    padding=_pair(padding, "padding"), output_padding=_pair(output_padding, "output-padding"),
                    dilation=_pair(dilation, "dilation"), groups=groups, bias=bias)

    _one_layer(ctx.info_name, input, layout, arguments, (check, check_shape, check_macs, check_flops), format)


class PoolKind(str, Enum):
    max = "max"
    avg = "avg"


@app.command()
def pool(input: str = InputArg, kernel: str = KernelOpt, stride: Optional[str] = StrideOpt,
         padding: Optional[str] = PaddingOpt,
         type: PoolKind = typer.Option(PoolKind.max, "--type", "-t", help="max or avg pooling."),
         ceil_mode: bool = typer.Option(False, "--ceil-mode", help="Round the output size up."),
         layout: Optional[str] = LayoutOpt, check_shape: Optional[str] = CheckShapeOpt,
         format: Format = LineFormatOpt) -> None:
    """One pooling layer (stride defaults to the kernel), e.g. archcalc pool 224x224x64 --kernel 2"""
    def arguments():
        return dict(kernel_size=_pair(kernel, "kernel"), stride=_pair(stride, "stride"),
                    padding=_pair(padding, "pool padding"), ceil_mode=ceil_mode)

    _one_layer(f"{type.value}pool", input, layout, arguments, (None, check_shape, None, None), format)


def _dense(command, input, out, bias, layout, check, check_shape, check_macs, check_flops, format):
    """`linear` and its alias command `dense` both name the layer by the type's own name."""
    from ..layers import lookup

    def arguments():
        return {"out_features": out, "bias": bias}

    _one_layer(lookup(command).name, input, layout, arguments, (check, check_shape, check_macs, check_flops), format)


DenseInput = typer.Argument(..., help="Input features (1024), or a map (4x4x16, flattened first).", show_default=False)
DenseOut = typer.Option(..., "--out", "-o", help="Output features.", show_default=False)
DenseFormat = LineFormatOpt


@app.command()
def linear(ctx: typer.Context, input: str = DenseInput, out: int = DenseOut, bias: bool = BiasOpt, layout: Optional[str] = LayoutOpt,
           check: Optional[str] = CheckOpt, check_shape: Optional[str] = CheckShapeOpt,
           check_macs: Optional[str] = CheckMacsOpt, check_flops: Optional[str] = CheckFlopsOpt,
           format: Format = DenseFormat) -> None:
    """One dense (fully connected) layer, e.g. archcalc linear 4x4x16 --out 10 --no-bias  (2,560)"""
    _dense(ctx.info_name, input, out, bias, layout, check, check_shape, check_macs, check_flops, format)


@app.command()
def dense(ctx: typer.Context, input: str = DenseInput, out: int = DenseOut, bias: bool = BiasOpt, layout: Optional[str] = LayoutOpt,
          check: Optional[str] = CheckOpt, check_shape: Optional[str] = CheckShapeOpt,
          check_macs: Optional[str] = CheckMacsOpt, check_flops: Optional[str] = CheckFlopsOpt,
          format: Format = DenseFormat) -> None:
    """Same as `linear`: one dense (fully connected) layer."""
    _dense(ctx.info_name, input, out, bias, layout, check, check_shape, check_macs, check_flops, format)


@app.command(short_help="A short chain of layers without a file: per-layer table and totals.",
             help="A short chain of layers without a file, e.g.\n\n"
             "archcalc chain 32x32x3 \"conv 5x5 4\" \"pool 2\" \"conv 3x3 16 pad=1\" fc:10\n\n"
             "archcalc chain \"256x256x128 -> conv 1x1 32 bias=false\"\n\n"
             "The first item is the input (HxWxC unless --layout chw); each further item is one layer: "
             "'conv KxK OUT [key=value ...]' (or 'conv 5x5x4'), 'deconv KxK OUT stride=2', "
             "'pool K [STRIDE]', 'avgpool K', 'fc N' (flattens a map first), 'gap', 'bn', 'relu', "
             "'dropout', 'flatten', or any layer type with key=value arguments (PyTorch names or aliases: "
             "pad=1, s=2, bias=false, groups=2). Items may also be joined with '->' in one argument. "
             "See docs/oneliners.md.")
def chain(steps: List[str] = typer.Argument(..., help="Input shape, then the layers.", show_default=False),
          layout: Optional[str] = LayoutOpt, batch: Optional[int] = BatchOpt, format: Format = FormatOpt,
          dtype: DType = DTypeOpt) -> None:
    def work():
        from ..homework.chain import analyze_chain
        from ..homework.chain import print_chain, render_chain

        given, _, report = analyze_chain(list(steps), layout, batch or 1, dtype.value)
        if format is Format.table:
            print_chain(report, given, console())
        else:
            sys.stdout.write(render_chain(report, given, format.value))

    run_guarded(work)


@app.command()
def solve(size_in: int = typer.Argument(..., metavar="IN", help="Input size (one side).", show_default=False),
          size_out: int = typer.Argument(..., metavar="OUT", help="Wanted output size.", show_default=False),
          kernel: Optional[int] = typer.Option(None, "--kernel", "-k", help="Fix the kernel size."),
          stride: Optional[int] = typer.Option(None, "--stride", "-s", help="Fix the stride."),
          padding: Optional[int] = typer.Option(None, "--padding", "-p", help="Fix the padding."),
          dilation: int = typer.Option(1, "--dilation", help="Dilation."),
          transposed: bool = typer.Option(False, "--transposed", "-t", help="Solve for a transposed conv (upsampling)."),
          max_kernel: int = typer.Option(11, "--max-kernel", help="Largest kernel tried."),
          max_stride: int = typer.Option(8, "--max-stride", help="Largest stride tried."),
          limit: int = typer.Option(20, "--limit", help="Show at most N choices."),
          format: Format = typer.Option(Format.table, "--format", "-f", help="table (plain lines), json, csv or markdown."),
          json_output: bool = typer.Option(False, "--json", hidden=True, help="Same as --format json.")) -> None:
    """Which (kernel, stride, padding) take a side of IN to OUT? e.g. `solve 32 16`, `solve 40 40 --kernel 3`.

    Conv/pool sizes: floor((in + 2p - d(k-1) - 1)/s) + 1, padding at most half the kernel; simplest first
    (no input rows dropped, then smaller stride, kernel, padding). Exit status 1 when nothing fits.
    """

    def work():
        from ..errors import UsageError
        from ..homework.solve import Question, render_solution

        if limit < 1:
            raise UsageError(f"--limit must be at least 1, got {limit}")
        question = Question(size_in, size_out, kernel, stride, padding, dilation, transposed, max_kernel, max_stride)
        found = question.choices()
        sys.stdout.write(render_solution(question, found, limit, "json" if json_output else format.value))
        return bool(found)

    if run_guarded(work) is False:
        raise typer.Exit(1)
