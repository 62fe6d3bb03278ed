"""calflops 0.3.2's calculate_flops run on torchvision's own model of every bundled torchvision
net at batch 1 (a representative per family at batch 2 too, peer_models.cases): archcalc's
``calflops`` convention gives its FLOPs exactly, in total and per module (each module's own count: what the functionals its forward calls add, a functional call in
a parent's forward charged to the parent)."""

import pytest

import convention_tools as tools  # first: it imports torchvision the way this torch build allows

pytest.importorskip("calflops")


@pytest.mark.parametrize("name, batch", tools.cases())
def test_calflops_flops(name, batch):
    total, per_module = tools.run_calflops(name, batch)
    ours = tools.convention_layers("calflops", name, batch)
    assert sum(ours.values()) == total
    assert not tools.mismatches(tools.by_module(name, ours), per_module)


# ReLU, pooling, linear (resnet18); SiLU, sigmoid, the SE block's mul (efficientnet_b0); hardswish,
# hardsigmoid (mobilenet_v3_small)
@pytest.mark.parametrize("name", ["resnet18", "efficientnet_b0", "mobilenet_v3_small"])
def test_calflops_counts_the_same_on_meta(name):
    """run_calflops runs on meta: no meta kernel calls a function calflops patches."""
    assert tools.run_calflops(name, 1, "cpu") == tools.run_calflops(name, 1)
