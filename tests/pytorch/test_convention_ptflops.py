"""ptflops 0.7.5 run on torchvision's own model of every bundled torchvision net at batch 1 (a
representative per family at batch 2 too, peer_models.cases): archcalc's ``ptflops`` and
``ptflops-aten`` conventions give its totals exactly, and its per-layer figures (the default backend's per-module table; the aten backend's per-child counts)."""

import pytest

import convention_tools as tools  # first: it imports torchvision the way this torch build allows

pytest.importorskip("ptflops")

from archcalc.layers.conventions import lookup_convention  # noqa: E402
from peer_models import subclassed_leaves  # noqa: E402

PTFLOPS = lookup_convention("ptflops")


@pytest.mark.parametrize("name, batch", tools.cases())
def test_ptflops_default_backend(name, batch):
    from ptflops.pytorch_ops import MODULES_MAPPING

    total, per_module = tools.run_ptflops(name, batch)
    # the stated difference (docs/conventions.md): ptflops skips a subclass of a class it hooks
    skipped = subclassed_leaves(tools.model(name, "meta"), MODULES_MAPPING)
    ours = tools.by_module(name, tools.convention_layers("ptflops", name, batch))
    assert sum(ours.values()) - sum(ours.get(m, 0) for m in skipped) == total
    # the per-module table shows the hooks' part only (one sample's); the patched functionals go
    # to the total alone
    hooks = {row: PTFLOPS.scale(PTFLOPS.count(f), batch) for row, f in tools.facts(name)}
    hooked = {m: value for m, value in tools.by_module(name, hooks).items() if m not in skipped}
    assert not tools.mismatches(hooked, per_module)


@pytest.mark.parametrize("name, batch", tools.cases())
def test_ptflops_aten_backend(name, batch):
    total, per_child = tools.run_ptflops_aten(name, batch)
    ours = tools.convention_layers("ptflops-aten", name, batch)
    assert sum(ours.values()) == total
    assert not tools.mismatches(tools.top_level(ours), per_child)
