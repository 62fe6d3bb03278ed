import textwrap

import pytest

from archcalc import analyze_text


@pytest.fixture
def spec():
    """Analyse an inline spec: spec('input: 3x8x8\\nlayers: [...]')."""

    def run(text, **kwargs):
        return analyze_text(textwrap.dedent(text), **kwargs)

    return run


def row(report, name):
    return next(r for r in report.rows if r.name == name)
