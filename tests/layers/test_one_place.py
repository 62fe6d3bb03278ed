"""Issue 8, "one place per layer type": what a layer type is called, and what it means to the
homework vocabulary, lives in its class under archcalc/layers/. Code elsewhere reads it from the
registry, so no string constant outside layers/ may be a registered type name or alias."""

import ast
from pathlib import Path

import pytest

from archcalc.layers import ALIASES, REGISTRY

PACKAGE = Path(__file__).resolve().parents[2] / "archcalc"

# Files allowed to name layer types outside layers/ while they move onto the registry: none left.
NOT_YET: set[str] = set()


def type_name_constants(path: Path) -> list[tuple[int, str]]:
    names = set(REGISTRY) | set(ALIASES)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return sorted((node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names)


def scanned_files() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py"))
            if p.relative_to(PACKAGE).parts[0] != "layers" and p.relative_to(PACKAGE).as_posix() not in NOT_YET]


def test_no_layer_type_name_outside_layers():
    found = [f"{path.relative_to(PACKAGE)}:{line}: {value!r}"
             for path in scanned_files() for line, value in type_name_constants(path)]
    assert not found, "layer type names outside archcalc/layers/ (read them from the registry):\n" + "\n".join(found)


def test_the_scan_sees_what_it_should(tmp_path):
    """The scan itself can fail: it finds a name, an alias and a name inside an f-string."""
    sample = tmp_path / "sample.py"
    sample.write_text('a = "conv2d"\nb = {"gap": 1}\nc = f"{a}" + "relu"\nd = "conv2d layer"\n')
    assert type_name_constants(sample) == [(1, "conv2d"), (2, "gap"), (3, "relu")]
    assert len(scanned_files()) > 20 and not any("layers" == p.relative_to(PACKAGE).parts[0] for p in scanned_files())


def test_temporary_exclusions_still_exist():
    """An excluded file that moved or was fixed must leave the list (so the list only shrinks)."""
    for name in NOT_YET:
        path = PACKAGE / name
        assert path.is_file(), f"{name} no longer exists: drop it from NOT_YET"
        assert type_name_constants(path), f"{name} names no layer type any more: drop it from NOT_YET"


def test_chain_shorthand_words_are_unambiguous():
    """A shorthand word picks exactly one type and never shadows a name or alias."""
    words = [w for layer in REGISTRY.values() for w in layer.shorthand]  # inherited ones too
    assert len(words) == len(set(words))
    assert not set(words) & (set(REGISTRY) | set(ALIASES))


@pytest.mark.parametrize("layer", sorted(REGISTRY))
def test_homework_vocabulary_is_well_formed(layer):
    cls = REGISTRY[layer]
    assert cls.chain_positional in ("", "kernel_out", "kernel_stride", "features")
    assert not (cls.flat_output and cls.flattens_map_first)
    assert isinstance(cls.title, str) and isinstance(cls.short_name, str)


def test_exactly_one_flattening_type():
    assert [name for name, cls in REGISTRY.items() if cls.flat_output] == ["flatten"]
