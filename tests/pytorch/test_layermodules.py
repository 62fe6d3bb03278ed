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


def test_slice_is_a_view_of_channels():
    x = torch.randn(2, 10, 3, 3)
    assert torch.equal(own.Slice(5, 10)(x), x.chunk(2, dim=1)[1])
    assert own.Slice(5, 10)(x).data_ptr() == x[:, 5:].data_ptr()
