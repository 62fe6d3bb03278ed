"""Several inputs and weight sharing on the PyTorch side: the twin holds the shared weights once
and takes one tensor per input, verify proves every row (forward and backward), the export runs,
scripts and holds the same parameters; and the check can fail (a twin without sharing differs)."""

import importlib.util
import sys

import pytest

import archcalc
from archcalc.pytorch.export import to_pytorch_source
from archcalc.pytorch.verify import verify

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

SIAMESE = """\
name: siamese
inputs: {left: 3x16x16, right: 3x16x16}
layers:
  - {name: conv1, type: conv2d, inputs: left, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: bn, type: batchnorm2d}
  - {name: conv1_r, shares: conv1, inputs: right}
  - {name: bn_r, shares: bn}
  - {name: both, type: concat, inputs: [bn, bn_r]}
  - {name: pool, type: global_avgpool2d}
  - {name: flatten, type: flatten}
  - {name: fc, type: linear, out_features: 2}
"""


def graph(text=SIAMESE):
    return archcalc.load(archcalc.analyze_text(text).graph)


def test_the_twin_holds_shared_weights_once_and_takes_both_images():
    report = archcalc.analyze_text(SIAMESE)
    net = archcalc.to_torch(report.graph).eval()
    assert sum(p.numel() for p in net.parameters()) == report.total.params
    assert sum(b.numel() for b in net.buffers()) == report.total.buffers
    left, right = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    out = net(left, right)
    assert out.shape == (2, 2)
    # the shared branch is the same function: swapping the images swaps the halves of the concat
    halves = net(left, right, until="both")
    swapped = net(right, left, until="both")
    assert torch.allclose(halves[:, :4], swapped[:, 4:]) and torch.allclose(halves[:, 4:], swapped[:, :4])
    with pytest.raises(TypeError, match="takes 2 input tensor"):
        net(left)


@pytest.mark.parametrize("backward", [False, True])
def test_verify_proves_every_row_with_shared_weights(backward):
    result = verify(graph(), device="cpu", rf=True, backward=backward)
    assert result.ok, result.mismatches[:5]
    flops = {c.layer: c.actual for c in result.checks if c.quantity == "flops"}
    assert flops["conv1_r"] == flops["conv1"] > 0
    assert all(c.skipped for c in result.checks if c.quantity == "rf")


def test_the_check_sees_sharing_counted_as_a_copy():
    """Analysed as two separate convs, the totals disagree with the twin that shares them."""
    copied = SIAMESE.replace("{name: conv1_r, shares: conv1, inputs: right}",
                             "{name: conv1_r, type: conv2d, inputs: right, out_channels: 4, kernel_size: 3, padding: 1}")
    shared, separate = archcalc.analyze_text(SIAMESE), archcalc.analyze_text(copied)
    assert separate.total.params - shared.total.params == 3 * 3 * 3 * 4 + 4
    assert separate.total.flops == shared.total.flops


def test_the_export_names_both_inputs_and_calls_the_shared_module_twice(tmp_path):
    report = archcalc.analyze_text(SIAMESE)
    path = tmp_path / "siamese_export.py"
    path.write_text(to_pytorch_source(report.graph))
    spec = importlib.util.spec_from_file_location("siamese_export", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["siamese_export"] = module
    try:
        spec.loader.exec_module(module)
        net = module.build().eval()
    finally:
        del sys.modules["siamese_export"]
    assert "def forward(self, left: torch.Tensor, right: torch.Tensor)" in path.read_text()
    assert "self.conv1(right" in path.read_text()
    assert sum(p.numel() for p in net.parameters()) == report.total.params
    assert net(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 16)).shape == (1, 2)
    torch.jit.script(net)
