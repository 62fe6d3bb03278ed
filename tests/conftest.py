import textwrap
from pathlib import Path

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


TORCH_TESTS = Path(__file__).resolve().parent / "pytorch"


def pytest_collection_modifyitems(config, items):
    """Tests under tests/pytorch need the torch extra: they carry the `torch` marker, so
    `pytest -m "not torch"` runs the pure-Python part alone."""
    for item in items:
        if TORCH_TESTS in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.torch)
