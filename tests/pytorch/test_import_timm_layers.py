"""timm's NF-Net, anti-aliasing and TResNet layers imported whole: the written spec's twin holds
timm's parameters and buffers under the same names and computes exactly timm's output
(ScaledStdConv2d and its TensorFlow-SAME form, BlurPool2d, SpaceToDepth); a constant and a
learnable scalar scale (NF-Nets' alpha, beta and skipinit gain, changed in place) are read as
scale layers."""

import importlib.util

import pytest

if importlib.util.find_spec("torchvision") is not None:  # timm imports torchvision: tolerantly first
    from archcalc.pytorch.torchvision_models import torchvision_models

    torchvision_models()
timm = pytest.importorskip("timm")

import torch  # noqa: E402
from timm.layers import BlurPool2d, ScaledStdConv2d, ScaledStdConv2dSame, SpaceToDepth  # noqa: E402
from torch import nn  # noqa: E402

from archcalc.analysis import analyze  # noqa: E402
from archcalc.errors import ArchcalcError  # noqa: E402
from archcalc.pytorch.importer import import_module  # noqa: E402
from archcalc.pytorch.twin import build_module  # noqa: E402


def test_the_twin_of_timms_layers_computes_timms_output():
    torch.manual_seed(0)
    model = nn.Sequential(
        SpaceToDepth(4),  # timm's takes blocks of 4 only
        ScaledStdConv2dSame(48, 16, 3, stride=2, gamma=1.7, eps=1e-5),  # 16x18: SAME pads (0, 1) on both axes
        BlurPool2d(16, filt_size=3, stride=2),
        ScaledStdConv2d(16, 8, 3, groups=2, bias=False, gamma=1.5),
        BlurPool2d(8, filt_size=5, stride=1, pad_mode="constant"),
    ).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()
    imported = import_module(model, (3, 64, 72), name="timm_layers")
    types = [n.type_name for n in imported.graph.nodes]
    assert types == ["space_to_depth", "scaled_std_conv2d", "blurpool2d", "scaled_std_conv2d", "blurpool2d"]
    twin = build_module(imported.graph).eval()
    assert {k: v.shape for k, v in twin.named_parameters()} == {k: v.shape for k, v in model.named_parameters()}
    assert {k: v.shape for k, v in twin.named_buffers()} == {k: v.shape for k, v in model.named_buffers()}
    twin.load_state_dict(model.state_dict())
    for (name, mine), theirs in zip(twin.named_buffers(), model.buffers()):  # non-persistent: built, not loaded
        assert torch.equal(mine, theirs), name
    x = torch.randn(2, 3, 64, 72)
    with torch.no_grad():
        assert torch.equal(twin(x), model(x))


class NormFreeBlock(nn.Module):
    """NF-Nets' residual block in small: beta on the input, alpha on the branch, a learnable
    skipinit gain applied in place (fx records the mul_, and the code goes on with ``out``)."""

    def __init__(self):
        super().__init__()
        self.conv = ScaledStdConv2d(8, 8, 3)
        self.skipinit_gain = nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        out = self.conv(torch.relu(x) * 0.5)
        out.mul_(self.skipinit_gain)
        return out * 0.2 + x


def test_constant_and_learnable_scales_and_the_in_place_gain():
    imported = import_module(NormFreeBlock(), (8, 10, 10), name="block")
    nodes = {n.name: n for n in imported.graph.nodes}
    scales = {name: n.args for name, n in nodes.items() if n.type_name == "scale"}
    assert sorted((a["factor"], a["learnable"]) for a in scales.values()) == [(0.2, False), (0.5, False), (1.0, True)]
    gain = next(n for n in nodes.values() if n.type_name == "scale" and n.args["learnable"])
    alpha = next(n for n in nodes.values() if n.type_name == "scale" and n.args["factor"] == 0.2)
    assert alpha.inputs == [gain]  # alpha reads the output of the in-place gain, not the conv before it
    report = analyze(imported.graph)
    assert report.total.params == sum(p.numel() for p in NormFreeBlock().parameters()) == 8 * 8 * 9 + 8 + 8 + 1


class AddsAWeight(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(4, 1, 1))

    def forward(self, x):
        return x + self.weight


class TimesAMap(nn.Module):
    def __init__(self):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(4, 6, 6))

    def forward(self, x):
        return x * self.gain


class TimesAVector(nn.Module):
    """A per-channel learnable scale, written as ConvNeXt and timm write it: a layer_scale."""

    def __init__(self, viewed: bool):
        super().__init__()
        self.viewed = viewed
        self.gain = nn.Parameter(torch.ones(4) if viewed else torch.ones(4, 1, 1))

    def forward(self, x):
        return x * (self.gain.reshape(1, -1, 1, 1) if self.viewed else self.gain)


@pytest.mark.parametrize("viewed", [False, True])
def test_a_product_with_a_channel_vector_parameter_is_a_layer_scale(viewed):
    model = TimesAVector(viewed)
    imported = import_module(model, (4, 6, 6), name="scaled")
    (node,) = [n for n in imported.graph.nodes if n.type_name == "layer_scale"]
    assert node.name.endswith("gain")
    assert analyze(imported.graph).total.params == sum(p.numel() for p in model.parameters()) == 4


class TimesABuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("factor", torch.tensor(2.0))

    def forward(self, x):
        return x * self.factor


@pytest.mark.parametrize("model, message", [
    (AddsAWeight(), "reads the parameter 'weight' directly"),
    (TimesAMap(), r"a product with the parameter 'gain' of shape \[4, 6, 6\]"),
    (TimesABuffer(), "a product with a buffer or constant tensor"),
])
def test_a_parameter_read_otherwise_is_refused_by_name(model, message):
    with pytest.raises(ArchcalcError, match=message):
        import_module(model, (4, 6, 6), name="reads")
