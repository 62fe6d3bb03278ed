"""torchvision imports on this torch build, tolerating only its own ops' registration failures."""

import importlib.util

import pytest

# not importorskip: a plain `import torchvision` is what fails on this torch build
if importlib.util.find_spec("torchvision") is None:
    pytest.skip("torchvision is not installed", allow_module_level=True)

import torch.library as library  # noqa: E402

from archcalc.pytorch.torchvision_models import _tolerant, torchvision_model, torchvision_models  # noqa: E402


def test_models_import_and_build_without_weights():
    assert "resnet50" in torchvision_models().list_models()
    model = torchvision_model("resnet18")
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in model.state_dict().values()
                                                             if p.dtype.is_floating_point) - sum(
        b.numel() for n, b in model.named_buffers() if b.dtype.is_floating_point)


def test_the_patched_registration_functions_are_restored():
    torchvision_models()
    assert not hasattr(library.Library.impl, "__wrapped__")
    assert not hasattr(library.register_fake, "__wrapped__")


def test_only_torchvisions_own_registration_errors_are_tolerated():
    def fails(message):
        def register(*args, **kwargs):
            raise RuntimeError(message)
        return register

    assert _tolerant(fails("operator torchvision::nms does not exist"), returns_decorator=False)("x") is None
    decorator = _tolerant(fails("operator torchvision::nms does not exist"), returns_decorator=True)("op")
    assert decorator(len) is len
    with pytest.raises(RuntimeError, match="something else"):
        _tolerant(fails("something else"), returns_decorator=False)("x")
