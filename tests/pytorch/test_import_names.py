"""An imported timm model's rows carry its modules' names: every leaf module forward calls has a
row named by its `named_modules()` path, with the module's parameters and output shape (its last
call). The models chosen have module scopes that read or hand out several tensors (HRNet's
branches and fuse layers, DLA's trees, Res2Net's and VoVNet's lists of convolutions, MobileOne's
summed branches) and modules whose forward is one functional op (the SE gate's timm Sigmoid)."""

import importlib.util

import pytest

if importlib.util.find_spec("torchvision") is not None:  # timm imports torchvision: tolerantly first
    from archcalc.pytorch.torchvision_models import torchvision_models

    torchvision_models()
timm = pytest.importorskip("timm")  # noqa: F841  (the import extra; pinned in the test extra)

import torch  # noqa: E402

from archcalc.analysis import analyze  # noqa: E402
from archcalc.importing.sources import parse_source  # noqa: E402
from archcalc.layers.imports import torch_ops  # noqa: E402
from archcalc.pytorch.fx_sources import build_source  # noqa: E402
from archcalc.pytorch.importer import import_module  # noqa: E402

MODELS = ["seresnet18", "dla46_c", "hrnet_w18_small", "res2net50_26w_4s", "ese_vovnet19b_dw", "mobileone_s0"]


def _flat(values):
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def leaf_figures(module, shape) -> dict[str, tuple]:
    """Each leaf module forward calls that computes a tensor: (parameters, output shape). Left
    out: the children of a module the importer reads whole (timm's BatchNormAct2d: its act is
    the row bn1_act), a module that picks a tensor from a list it is given (SelectSeq), an empty
    Sequential (no op)."""
    kept = [n for n, m in module.named_modules()
            if n and list(m.children()) and torch_ops.table_key(type(m), torch_ops.MODULES) in torch_ops.MODULES]
    leaves = {n: m for n, m in module.named_modules()
              if n and not list(m.children()) and not any(n.startswith(k + ".") for k in kept)}
    shapes = {}

    def record(mod, args, out, name):
        picked = any(out is v for a in args if isinstance(a, (list, tuple)) for v in _flat(a))
        empty = isinstance(mod, torch.nn.Sequential) and len(mod) == 0
        if isinstance(out, torch.Tensor) and not picked and not empty:
            shapes[name] = tuple(out.shape[1:])

    hooks = [m.register_forward_hook(lambda mod, a, o, n=n: record(mod, a, o, n)) for n, m in leaves.items()]
    with torch.no_grad():
        module(torch.empty(1, *shape, device="meta"))
    for hook in hooks:
        hook.remove()
    return {n: (sum(p.numel() for p in leaves[n].parameters()), s) for n, s in shapes.items()}


@pytest.mark.parametrize("name", MODELS)
def test_every_called_leaf_module_has_a_row_of_its_name(name):
    module, shape = build_source(parse_source(f"timm:{name}"))
    want = leaf_figures(module, shape)
    rows = {row.name: row for row in analyze(import_module(module, shape, name=name).graph).rows}
    got = {n: (rows[n].params, tuple(rows[n].output)) if n in rows else None for n in want}
    assert {n: (got[n], w) for n, w in want.items() if got[n] != w} == {}
    assert len(want) > 20
