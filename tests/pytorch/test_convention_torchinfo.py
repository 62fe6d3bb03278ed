"""torchinfo 1.8.0 against `flops --convention torchinfo` on every bundled torchvision net, at
batch 1 (peer_models.cases: a representative per family at batch 2 too) on the meta device: the total ("Total mult-adds", ModelStatistics.total_mult_adds,
exact before torchinfo rounds it for printing) and every leaf module's MACs."""

import pytest

from peer_models import (assert_per_module_equal, cases, input_size, module_of_rows, our_counts, ours_by_module,
                         reference_model)

torchinfo = pytest.importorskip("torchinfo")


def full_name(info) -> str:
    parts = []
    while info is not None and info.depth > 0:
        parts.append(info.var_name)
        info = info.parent_info
    return ".".join(reversed(parts))


@pytest.mark.parametrize("net, batch", cases())
def test_torchinfo_totals_and_layers(net, batch):
    model = reference_model(net)
    stats = torchinfo.summary(model, input_size=input_size(net, batch), device="meta", verbose=0)
    ours = our_counts(net, "torchinfo", batch)
    assert ours.total == stats.total_mult_adds
    tool: dict[str, int] = {}
    for info in stats.summary_list:
        if info.is_leaf_layer:  # a module called several times is listed (and counted) at every call
            tool[full_name(info)] = tool.get(full_name(info), 0) + info.macs
    by_module, functional = ours_by_module(ours, module_of_rows(net))
    assert functional == 0  # torchinfo sees no functional call
    assert_per_module_equal(tool, by_module, net)
