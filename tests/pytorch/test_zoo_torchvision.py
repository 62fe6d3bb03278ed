"""Every bundled spec of a torchvision net equals torchvision 0.28's own implementation, module by
module: for each leaf module of ``named_modules()`` the spec has a row of the same name with the
same parameters, buffers, output shape and FlopCounterMode FLOPs, and the totals agree. The
reference is torchvision itself, built on the meta device (no memory, no arithmetic, no weights),
never a published number."""

import contextlib
import importlib.util

import pytest

if importlib.util.find_spec("torchvision") is None:
    pytest.skip("torchvision is not installed", allow_module_level=True)

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archcalc  # noqa: E402
from archcalc.pytorch.torchvision_models import torchvision_model  # noqa: E402

# bundled name -> torchvision constructor arguments (the bundled GoogLeNet and Inception-v3 are
# the eval-mode nets without aux heads, as torchvision's pretrained models are)
TORCHVISION_NETS = {
    "alexnet": {}, "vgg11": {}, "vgg13": {}, "vgg16": {}, "vgg16_bn": {}, "vgg19": {},
    "resnet18": {}, "resnet34": {}, "resnet50": {}, "resnet101": {}, "resnet152": {},
    "densenet121": {}, "densenet169": {},
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"aux_logits": False, "init_weights": False},
    "mobilenet_v2": {}, "squeezenet1_0": {}, "squeezenet1_1": {},
    "shufflenet_v2_x0_5": {}, "shufflenet_v2_x1_0": {}, "shufflenet_v2_x1_5": {}, "shufflenet_v2_x2_0": {},
    "regnet_y_400mf": {}, "regnet_y_800mf": {}, "regnet_y_1_6gf": {}, "regnet_y_3_2gf": {},
    "regnet_y_8gf": {}, "regnet_y_16gf": {}, "regnet_y_32gf": {}, "regnet_y_128gf": {}, "regnet_x_400mf": {},
    "regnet_x_800mf": {}, "regnet_x_1_6gf": {}, "regnet_x_3_2gf": {}, "regnet_x_8gf": {}, "regnet_x_16gf": {},
    "regnet_x_32gf": {}, "efficientnet_b0": {}, "efficientnet_b1": {}, "efficientnet_b2": {},
    "efficientnet_b3": {}, "efficientnet_b4": {}, "efficientnet_b5": {}, "efficientnet_b6": {},
    "efficientnet_b7": {}, "efficientnet_v2_s": {}, "efficientnet_v2_m": {}, "efficientnet_v2_l": {},
}


@contextlib.contextmanager
def cpu_factories():
    """torch.arange and torch.tensor on the cpu while a model is built on the meta device: RegNet's
    BlockParams.from_init_params computes its widths with tensors and reads them back (.tolist()),
    which a meta tensor, having no data, cannot do. Modules still get meta parameters."""
    saved = torch.arange, torch.tensor
    torch.arange = lambda *args, **kwargs: saved[0](*args, **{"device": "cpu", **kwargs})
    torch.tensor = lambda *args, **kwargs: saved[1](*args, **{"device": "cpu", **kwargs})
    try:
        yield
    finally:
        torch.arange, torch.tensor = saved


def measure(name: str, input_shape: tuple[int, ...], batch: int):
    """torchvision's figures per leaf module: parameters, buffers, output shape (last call) and
    FLOPs, plus the totals."""
    with torch.device("meta"), cpu_factories():
        model = torchvision_model(name, **TORCHVISION_NETS[name]).eval()
    leaves = {n: m for n, m in model.named_modules() if n and not list(m.children())}
    shapes = {}
    for leaf_name, leaf in leaves.items():
        leaf.register_forward_hook(lambda mod, args, out, n=leaf_name: shapes.__setitem__(n, tuple(out.shape[1:])))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.empty(batch, *input_shape, device="meta"))
    # a leaf that forward never calls (ShuffleNetV2's empty branch1 of a stride-1 unit) has no
    # output: it may have no row, but it must hold nothing either
    uncalled = [n for n in leaves if n not in shapes]
    assert not any(list(leaves[n].parameters()) or list(leaves[n].buffers()) for n in uncalled), uncalled
    leaves = {n: m for n, m in leaves.items() if n in shapes}
    prefix = type(model).__name__ + "."
    flops = {key[len(prefix):]: sum(ops.values()) for key, ops in counter.get_flop_counts().items()
             if key.startswith(prefix)}
    per_module = {n: (sum(p.numel() for p in m.parameters(recurse=False)),
                      sum(b.numel() for b in m.buffers(recurse=False)), shapes[n], flops.get(n, 0))
                  for n, m in leaves.items()}
    totals = (sum(p.numel() for p in model.parameters()), sum(b.numel() for b in model.buffers()),
              counter.get_total_flops())
    return per_module, totals


@pytest.mark.parametrize("name", TORCHVISION_NETS)
def test_bundled_spec_equals_torchvision_module_by_module(name):
    report = archcalc.analyze(name, batch=2)
    per_module, totals = measure(name, report.input, batch=2)
    rows = {row.name: row for row in report.rows}
    missing = [n for n in per_module if n not in rows]
    assert not missing, f"torchvision modules without a row of the same name: {missing[:5]}"
    differences = [(n, (rows[n].params, rows[n].buffers, rows[n].output, rows[n].flops), expected)
                   for n, expected in per_module.items()
                   if (rows[n].params, rows[n].buffers, tuple(rows[n].output), rows[n].flops) != expected]
    assert not differences, differences[:5]
    assert (report.total.params, report.total.buffers, report.total.flops) == totals


def test_the_comparison_sees_a_difference():
    """The check can fail: a spec of another width differs from the module it claims to be."""
    report = archcalc.analyze("resnet18", batch=1)
    per_module, _ = measure("resnet34", report.input, batch=1)
    rows = {row.name: row for row in report.rows}
    assert any(n not in rows or (rows[n].params, rows[n].buffers, tuple(rows[n].output), rows[n].flops) != v
               for n, v in per_module.items())
