"""fvcore 0.1.5.post20221221 against `flops --convention fvcore` on every bundled torchvision net
in eval mode: FlopCountAnalysis' total and each leaf module's count (by_module), at batch 1, and
at batch 2 on a representative per family (peer_models.cases; fvcore traces with torch.jit, which the meta device does not
support, so it runs on the CPU: seconds a net; every fvcore handle is linear in the batch)."""

import logging

import pytest

from peer_models import (assert_per_module_equal, cases, input_size, module_of_rows, our_counts, ours_by_module,
                         reference_model, torch)

flop_count = pytest.importorskip("fvcore.nn")


@pytest.mark.parametrize("net, batch", cases())
def test_fvcore_totals_and_layers(net, batch):
    model = reference_model(net, "cpu")
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with torch.no_grad():
        analysis = flop_count.FlopCountAnalysis(model, torch.zeros(input_size(net, batch)))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        analysis.tracer_warnings("none")
        total, per_module = analysis.total(), analysis.by_module()
    ours = our_counts(net, "fvcore", batch)
    assert ours.total == total
    mapping = module_of_rows(net)
    by_module, functional = ours_by_module(ours, mapping)
    leaves = {m for m in mapping.values() if m is not None}
    assert_per_module_equal({m: per_module[m] for m in leaves}, by_module, net)
    # a functional call is charged to the module that makes it (densenet's and mobilenet_v2's
    # F.adaptive_avg_pool2d to the model itself): what the leaves leave over
    assert total - sum(per_module[m] for m in leaves) == functional
