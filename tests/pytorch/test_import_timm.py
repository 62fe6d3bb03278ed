"""timm's convolutional models (tests/pytorch/timm_models.py) imported on the meta device equal
timm's module exactly: parameters, buffers, FlopCounterMode FLOPs and output shape. The models
archcalc cannot express are refused with the unsupported-op message naming the op docs/import.md
lists for each. The default run imports REPRESENTATIVES (a few per family); ARCHCALC_TIMM_ALL=1
runs the whole list."""

import importlib.util
import os
import re
from pathlib import Path

import pytest

if importlib.util.find_spec("torchvision") is not None:  # timm imports torchvision: tolerantly first
    from archcalc.pytorch.torchvision_models import torchvision_models

    torchvision_models()
timm = pytest.importorskip("timm")  # noqa: F841  (the import extra; pinned in the test extra)

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from timm_models import REFUSED, REPRESENTATIVES, TIMM_MODELS  # noqa: E402

from archcalc.analysis import analyze  # noqa: E402
from archcalc.errors import ArchcalcError  # noqa: E402
from archcalc.importing.sources import parse_source  # noqa: E402
from archcalc.pytorch.fx_sources import build_source  # noqa: E402
from archcalc.pytorch.importer import import_module  # noqa: E402

DOCS = Path(__file__).resolve().parents[2] / "docs" / "import.md"
CHOSEN = TIMM_MODELS if os.environ.get("ARCHCALC_TIMM_ALL") else REPRESENTATIVES


def reference(module, shape):
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        output = module(torch.empty(1, *shape, device="meta"))
    return (sum(p.numel() for p in module.parameters()), sum(b.numel() for b in module.buffers()),
            counter.get_total_flops(), tuple(output.shape[1:]))


@pytest.mark.parametrize("name", CHOSEN)
def test_timm_model_imports_exactly_or_is_refused_by_name(name):
    module, shape = build_source(parse_source(f"timm:{name}"))
    if name in REFUSED:
        with pytest.raises(ArchcalcError) as refused:
            import_module(module, shape, name=name)
        assert REFUSED[name] in str(refused.value), str(refused.value)
        return
    report = analyze(import_module(module, shape, name=name).graph)
    assert (report.total.params, report.total.buffers, report.total.flops, tuple(report.output)) == \
        reference(module, shape)


def test_the_list_holds_150_models_across_families():
    """The issue asks for 95% to import; the share reached is stated in docs/import.md (the rest
    wait for layer types archcalc lacks), and this test keeps the list and the docs in step."""
    assert len(TIMM_MODELS) >= 150 and len(set(TIMM_MODELS)) == len(TIMM_MODELS)
    assert set(REFUSED) <= set(TIMM_MODELS) and set(REPRESENTATIVES) <= set(TIMM_MODELS)
    share = f"{len(TIMM_MODELS) - len(REFUSED)} of {len(TIMM_MODELS)}"
    assert share in DOCS.read_text(), share


def test_docs_list_every_refused_model_with_its_op():
    text = DOCS.read_text()
    for name, op in REFUSED.items():
        assert re.search(rf"\| `{re.escape(name)}` \| `{re.escape(op)}`", text), name
