"""thop 0.1.1.post2209072238 against `flops --convention thop` on every bundled torchvision net at
batch 1 (peer_models.cases: a representative per family at batch 2 too), on the meta device:
``thop.profile``'s total and each leaf module's total_ops (ret_layer_info)."""

import pytest

from peer_models import (assert_per_module_equal, cases, input_size, module_of_rows, our_counts, ours_by_module,
                         reference_model, subclassed_leaves, torch)

thop = pytest.importorskip("thop")


def leaf_ops(tree: dict, prefix: str = "") -> dict[str, int]:
    """thop's nested {name: (ops, params, children)} as {dotted leaf name: ops}."""
    leaves = {}
    for name, (ops, _params, children) in tree.items():
        path = f"{prefix}{name}"
        if children:
            leaves.update(leaf_ops(children, path + "."))
        else:
            leaves[path] = int(ops)
    return leaves


@pytest.mark.parametrize("net, batch", cases())
def test_thop_totals_and_layers(net, batch):
    model = reference_model(net)
    total, _params, tree = thop.profile(model, (torch.empty(input_size(net, batch), device="meta"),),
                                        verbose=False, ret_layer_info=True)
    ours = our_counts(net, "thop", batch)
    by_module, functional = ours_by_module(ours, module_of_rows(net))
    # the stated difference (docs/conventions.md): thop skips a subclass of a class it hooks
    skipped = subclassed_leaves(model, thop.profile.__globals__["register_hooks"])
    assert ours.total - sum(by_module.pop(m, 0) for m in skipped) == total
    # thop hooks modules only: F.avg_pool2d, F.adaptive_avg_pool2d, x.mean, joins never reach it
    assert functional == 0
    assert_per_module_equal(leaf_ops(tree), by_module, net)
