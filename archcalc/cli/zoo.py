"""`archcalc zoo`: the bundled nets with their headline figures; registered on archcalc.cli.app."""

from __future__ import annotations

import sys

from .app import Format, FormatOpt, app, console, run_guarded


@app.command()
def zoo(format: Format = FormatOpt) -> None:
    """List the bundled nets and comparisons (usable by name as SPEC) with input, parameters, MACs and
    receptive field. JSON and CSV list the nets."""

    def work():
        from ..figures.zoo import survey, survey_comparisons
        from ..render.zoo import print_zoo_table, render_zoo

        entries = survey()
        pairs = survey_comparisons() if format in (Format.table, Format.markdown) else []
        if format is Format.table:
            print_zoo_table(entries, pairs, console())
        else:
            sys.stdout.write(render_zoo(entries, pairs, format.value))

    run_guarded(work)
