"""torchscan 0.2.0's crawl_module run on torchvision's own model of every bundled torchvision net at
batch 1 (a representative per family at batch 2 too, peer_models.cases): archcalc's
``torchscan`` convention gives its module-formula FLOPs exactly, in total and per module (a module called several times: its calls summed)."""

import pytest

import convention_tools as tools  # first: it imports torchvision the way this torch build allows

pytest.importorskip("torchscan")


@pytest.mark.parametrize("name, batch", tools.cases())
def test_torchscan_module_flops(name, batch):
    total, per_module = tools.run_torchscan(name, batch)
    ours = tools.convention_layers("torchscan", name, batch)
    assert sum(ours.values()) == total
    assert not tools.mismatches(tools.by_module(name, ours), per_module)
