"""The twin's own layer modules (archcalc.pytorch.layermodules) against torchvision's, which
ConvNeXt and ShuffleNetV2 are written with: same parameters, same numbers."""

import pytest

torch = pytest.importorskip("torch")

from archcalc.pytorch import layermodules as own  # noqa: E402
from archcalc.pytorch.torchvision_models import torchvision_model, torchvision_models  # noqa: E402


@pytest.fixture(scope="module")
def cnblock():
    with torch.device("meta"):  # no memory: only the classes and their arguments are wanted
        return torchvision_model("convnext_tiny").features[1][0]


def test_layernorm2d_is_torchvisions():
    theirs_class = torchvision_models().convnext.LayerNorm2d
    x = torch.randn(2, 4, 5, 3)
    ours, theirs = own.LayerNorm2d(4, eps=1e-6), theirs_class(4, eps=1e-6)
    with torch.no_grad():
        for module in (ours, theirs):
            module.weight.copy_(torch.arange(4.0))
            module.bias.copy_(torch.ones(4))
    assert torch.allclose(ours(x), theirs(x), atol=1e-6)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["weight", "bias"]


def test_layer_scale_has_torchvisions_shape_and_name(cnblock):
    theirs = dict(cnblock.named_parameters(recurse=False))
    ours = dict(own.LayerScale(96).named_parameters())
    assert set(ours) == set(theirs) == {"layer_scale"}
    assert ours["layer_scale"].shape == theirs["layer_scale"].shape == (96, 1, 1)
    assert torch.all(ours["layer_scale"] == 1e-6)


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_is_torchvisions(cnblock, mode):
    x = torch.randn(64, 3, 2, 2)
    ours, theirs = own.StochasticDepth(0.3, mode), type(cnblock.stochastic_depth)(0.3, mode)
    assert torch.equal(ours.eval()(x), x) and torch.equal(theirs.eval()(x), x)  # identities at inference
    torch.manual_seed(7)
    got = ours.train()(x)
    torch.manual_seed(7)
    assert torch.equal(got, theirs.train()(x))


def test_permute_is_torchvisions(cnblock):
    x = torch.randn(2, 4, 5, 3)
    for dims in ([0, 2, 3, 1], [0, 3, 1, 2], [0, 1, 3, 2]):
        ours, theirs = own.Permute(dims), type(cnblock.block[1])(dims)
        assert torch.equal(ours(x), theirs(x)) and ours(x).data_ptr() == x.data_ptr()  # a view
    assert torch.equal(torch.jit.script(own.Permute([0, 2, 3, 1]))(x), x.permute(0, 2, 3, 1))


def test_slice_is_a_view_of_channels():
    x = torch.randn(2, 10, 3, 3)
    assert torch.equal(own.Slice(5, 10)(x), x.chunk(2, dim=1)[1])
    assert own.Slice(5, 10)(x).data_ptr() == x[:, 5:].data_ptr()


CNBLOCK = """
name: cnblock
input: 96x14x14
layers:
  - name: block
    layers:
      - {name: dwconv, type: conv2d, out_channels: 96, kernel_size: 7, padding: 3, groups: 96}
      - {name: norm, type: layernorm, eps: 1.0e-6}
      - {name: pwconv1, type: conv2d, out_channels: 384, kernel_size: 1}
      - {name: act, type: gelu}
      - {name: pwconv2, type: conv2d, out_channels: 96, kernel_size: 1}
      - {name: scale, type: layer_scale}
      - {name: drop, type: stochastic_depth, p: 0.1}
  - {name: out, type: add, inputs: [block, input]}
"""


def test_a_convnext_block_written_channels_first_has_torchvisions_params_and_flops(cnblock):
    """Written channels first, ConvNeXt's CNBlock (dwconv, Permute, LayerNorm, Linear, GELU,
    Linear, Permute, layer scale, stochastic depth, add) is LayerNorm2d and 1x1 convs: the
    same parameter tensors (a 1x1 conv's weight has the Linear's elements) and the same
    FlopCounterMode FLOPs (2 x H x W x C_in x C_out for the convolution as for the addmm)."""
    import textwrap

    from torch.utils.flop_counter import FlopCounterMode

    import archcalc

    report = archcalc.analyze_text(textwrap.dedent(CNBLOCK))
    block = type(cnblock)(96, 1e-6, 0.1).eval()
    counter = FlopCounterMode(display=False)
    with counter:
        block(torch.zeros(1, *report.input))
    assert report.total.flops == counter.get_total_flops() == 30_745_344
    flops = {name.rsplit(".", 1)[-1]: sum(c.values()) for name, c in counter.get_flop_counts().items()}
    rows = {r.name: r for r in report.rows}
    assert [rows[n].flops for n in ("block.dwconv", "block.pwconv1", "block.pwconv2")] == [flops["0"], flops["3"], flops["5"]]
    theirs = sorted(p.numel() for p in block.parameters())
    assert sorted(t.count for r in report.rows for t in r.param_tensors) == theirs
    assert rows["block.scale"].param_tensors[0].name in dict(block.named_parameters())  # layer_scale
