"""torchvision's segmentation nets (architectures/segmentation.yaml) through `verify`: the twin's
shapes, parameters, buffers and FLOPs per layer agree with the analysis at torchvision's 520x520
on the meta device (the aux head too), and the receptive fields of the dilated trunks and heads
agree with the gradient probe at a small input. tests/pytorch/test_zoo_torchvision.py proves the
specs equal to torchvision's own modules."""

import pytest

import archcalc
from archcalc.pytorch.verify import verify

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("name, settings", [
    ("fcn_resnet50", {"aux_loss": True}), ("deeplabv3_resnet50", None), ("lraspp_mobilenet_v3_large", None),
])
def test_verify_agrees_on_meta_at_the_reference_size(name, settings):
    result = verify(archcalc.load(name, args=settings), device="meta", rf=False)
    assert result.ok, [c for c in result.mismatches][:5]
    assert tuple(result.input) == (3, 520, 520)


def test_the_aux_head_is_a_second_output_of_the_twin():
    torch = pytest.importorskip("torch")
    net = archcalc.to_torch(archcalc.load("fcn_resnet50", args={"aux_loss": True}, input_shape=(3, 64, 48)))
    with torch.device("meta"):
        out = net.to("meta").eval()(torch.empty(1, 3, 64, 48, device="meta"))
    assert tuple(out.shape) == (1, 21, 64, 48)
    assert [tuple(extra.shape) for extra in out.archcalc_extra_outputs] == [(1, 21, 64, 48)]


def test_receptive_fields_of_the_dilated_trunk_agree_with_the_probe():
    result = verify(archcalc.load("lraspp_mobilenet_v3_large", input_shape=(3, 64, 64)), device="cpu", rf=True)
    assert result.ok, [c for c in result.mismatches][:5]
    probed = [c for c in result.checks if c.quantity == "rf" and not c.skipped]
    assert any(c.layer == "backbone.16.0" for c in probed) and any(c.layer.startswith("classifier.") for c in probed)
