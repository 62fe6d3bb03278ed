"""torchscan 0.2.0's crawl_module run on torchvision's own model of every bundled torchvision net,
batch 1 and 2: archcalc's ``torchscan`` convention gives its module-formula FLOPs exactly, in total
and per module (a module called several times: its calls summed)."""

import pytest

import convention_tools as tools  # first: it imports torchvision the way this torch build allows

pytest.importorskip("torchscan")


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("name", tools.NETS)
def test_torchscan_module_flops(name, batch):
    total, per_module = tools.run_torchscan(name, batch)
    ours = tools.convention_layers("torchscan", name, batch)
    assert sum(ours.values()) == total
    assert not tools.mismatches(tools.by_module(name, ours), per_module)
