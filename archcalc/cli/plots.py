"""Pictures: `archcalc plot` (matplotlib figures for papers and slides) and the work behind
`archcalc rf --draw` (a receptive field drawn on an image, with Pillow). Both libraries are the
'plot' extra, imported only when a picture is made. Registered on archcalc.cli.app."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .app import BatchOpt, DType, DTypeOpt, InputOpt, LayoutOpt, Mode, ModeOpt, SetOpt, SpecArg, app, build_report, note, run_guarded, typed_input
from .figures import AmpDType, AmpDTypeOpt, AmpOpt, CheckpointOpt, InplaceOpt, Optimizer


class Kind(str, Enum):
    params = "params"
    flops = "flops"
    activations = "activations"
    rf = "rf"
    memory = "memory"


KIND_HELP = ("params, flops or activations: per layer, and per stage where the net has groups; rf: receptive-field "
             "size and effective stride against depth, the input size marked; memory: archcalc memory's breakdown "
             "of a training step and of inference.")


@app.command()
def plot(spec: str = SpecArg,
         kind: Kind = typer.Option(Kind.params, "--kind", "-k", help=KIND_HELP),
         output: Path = typer.Option(..., "--output", "-o", help="The picture: .png, .svg or .pdf.", show_default=False),
         input: Optional[str] = InputOpt, layout: Optional[str] = LayoutOpt, batch: Optional[int] = BatchOpt,
         dtype: DType = DTypeOpt, set_: Optional[List[str]] = SetOpt, mode: Mode = ModeOpt,
         optimizer: Optimizer = typer.Option(Optimizer.adam, "--optimizer", "-O", help="With --kind memory: the optimizer whose state to count."),
         amp: bool = AmpOpt, amp_dtype: AmpDType = AmpDTypeOpt, inplace: bool = InplaceOpt, checkpoint: str = CheckpointOpt,
         dpi: int = typer.Option(150, "--dpi", min=30, max=600, help="Resolution of a .png (the figure is a 16:9 slide, 13.3 x 7.5 in)."),
         ) -> None:
    """A figure for papers and slides (matplotlib; pip install "archcalc\\[plot]"): parameters, FLOPs or activation
    memory per layer and per stage, receptive field and effective stride by depth, or the memory breakdown."""

    def work():
        from ..render.plots import output_format, require_matplotlib, write_plot
        from ..spec.bundled import resolve_compare_spec

        output_format(output)  # a wrong suffix or a missing library before any analysis
        require_matplotlib()
        given = typed_input(input, layout)
        report = build_report(spec, given, batch, dtype.value, resolve_compare_spec, set_, mode)
        memory = None
        if kind is Kind.memory:
            from ..figures.memory import memory_options, memory_report

            options = memory_options(report, amp_dtype.value if amp else None, inplace, checkpoint)
            memory = memory_report(report, optimizer.value, options)
        fmt = write_plot(kind.value, report, output, dpi, memory)
        note(f"wrote {output} ({fmt}): {report.name}, {kind.value}")

    run_guarded(work)


def draw_field(spec: str, given, batch, settings, mode, image: Optional[Path], layer: Optional[str], at: Optional[str],
               output: Optional[Path], scale: Optional[float]) -> None:
    """`archcalc rf SPEC --draw IMAGE | --checkerboard`: the receptive field of one output position
    of ``layer`` drawn on the image (resized to the input size) or on a checkerboard."""
    from ..errors import UsageError
    from ..render.fieldbox import field_box, parse_position, pick_layer
    from ..render.fieldimage import draw_box, image_format, load_picture, require_pillow, save_picture

    if output is None:
        raise UsageError("drawing a receptive field needs --output FILE (.png, .jpg or .webp)")
    fmt = image_format(output)
    require_pillow()
    report = build_report(spec, given, batch, settings=settings, mode=mode)
    row = pick_layer(report, layer)
    box = field_box(report, row, parse_position(at, row), scale)
    picture, origin = load_picture(image, box.input_size)
    save_picture(draw_box(picture, box, origin), output, fmt)
    note(f"wrote {output}: the field of {row.name} at row {box.position[0]}, column {box.position[1]} on {origin}")
