"""docs/spec.md's layer reference is generated from the registry; it must not go stale."""

from pathlib import Path

from archcalc.layers.base import REGISTRY
from archcalc.render import reference

SPEC_DOC = Path(__file__).resolve().parents[2] / "docs" / "spec.md"


def test_layer_reference_is_current():
    text = SPEC_DOC.read_text()
    start, end = text.index(reference.BEGIN), text.index(reference.END) + len(reference.END)
    assert text[start:end] + "\n" == reference.markdown(), "regenerate with: archcalc layers --format markdown"


def test_every_layer_type_has_documented_rules():
    for layer in REGISTRY.values():
        assert layer.summary, layer.name
        assert f"#### `{layer.name}`" in SPEC_DOC.read_text()


def test_argument_tables_have_four_cells_a_row():
    """An option list such as 'nearest | bilinear' is one escaped cell, not two."""
    rows = [line for line in reference.markdown().splitlines() if line.startswith("| `")]
    assert rows and all(line.count("|") - line.count("\\|") == 5 for line in rows)
    assert "| `mode` | nearest |  | nearest \\| bilinear |" in rows
