"""Every bundled spec of a torchvision net equals torchvision 0.28's own implementation, module by
module: for each leaf module of ``named_modules()`` the spec has a row of the same name with the
same parameters, buffers, output shape and FlopCounterMode FLOPs, and the totals agree. The
reference is torchvision itself, built on the meta device (no memory, no arithmetic, no weights),
never a published number."""

import importlib.util

import pytest

if importlib.util.find_spec("torchvision") is None:
    pytest.skip("torchvision is not installed", allow_module_level=True)

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archcalc  # noqa: E402
from archcalc.pytorch.fx_sources import meta_construction  # noqa: E402
from archcalc.pytorch.torchvision_models import torchvision_model  # noqa: E402

# bundled name -> torchvision constructor arguments (GoogLeNet and Inception-v3 with their aux
# heads, as torchvision builds them: in eval mode, the default here, the heads run nothing)
TORCHVISION_NETS = {
    "alexnet": {}, "vgg11": {}, "vgg13": {}, "vgg16": {}, "vgg19": {},
    "vgg11_bn": {}, "vgg13_bn": {}, "vgg16_bn": {}, "vgg19_bn": {},
    "resnet18": {}, "resnet34": {}, "resnet50": {}, "resnet101": {}, "resnet152": {},
    "resnext50_32x4d": {}, "resnext101_32x8d": {}, "resnext101_64x4d": {}, "wide_resnet50_2": {}, "wide_resnet101_2": {},
    "densenet121": {}, "densenet161": {}, "densenet169": {}, "densenet201": {},
    "googlenet": {"init_weights": False}, "inception_v3": {"init_weights": False},
    "mobilenet_v2": {}, "mobilenet_v3_large": {}, "mobilenet_v3_small": {},
    "mnasnet0_5": {}, "mnasnet0_75": {}, "mnasnet1_0": {}, "mnasnet1_3": {},
    "squeezenet1_0": {}, "squeezenet1_1": {},
    "shufflenet_v2_x0_5": {}, "shufflenet_v2_x1_0": {}, "shufflenet_v2_x1_5": {}, "shufflenet_v2_x2_0": {},
    "regnet_y_400mf": {}, "regnet_y_800mf": {}, "regnet_y_1_6gf": {}, "regnet_y_3_2gf": {},
    "regnet_y_8gf": {}, "regnet_y_16gf": {}, "regnet_y_32gf": {}, "regnet_y_128gf": {}, "regnet_x_400mf": {},
    "regnet_x_800mf": {}, "regnet_x_1_6gf": {}, "regnet_x_3_2gf": {}, "regnet_x_8gf": {}, "regnet_x_16gf": {},
    "regnet_x_32gf": {}, "efficientnet_b0": {}, "efficientnet_b1": {}, "efficientnet_b2": {},
    "efficientnet_b3": {}, "efficientnet_b4": {}, "efficientnet_b5": {}, "efficientnet_b6": {},
    "efficientnet_b7": {}, "efficientnet_v2_s": {}, "efficientnet_v2_m": {}, "efficientnet_v2_l": {},
    "convnext_tiny": {}, "convnext_small": {}, "convnext_base": {}, "convnext_large": {},
    "r3d_18": {},  # a video net: CxTxHxW clips, 3-D convolutions
    # segmentation nets: no backbone weights either; aux_loss as torchvision's default (no aux head)
    "fcn_resnet50": {"weights_backbone": None}, "deeplabv3_resnet50": {"weights_backbone": None},
    "lraspp_mobilenet_v3_large": {"weights_backbone": None},
}
# the same nets with other constructor arguments: test id -> (bundled name, --set values, torchvision's)
VARIANT_NETS = {
    "fcn_resnet50-aux": ("fcn_resnet50", {"aux_loss": True}, {"weights_backbone": None, "aux_loss": True}),
    "deeplabv3_resnet50-aux": ("deeplabv3_resnet50", {"aux_loss": True}, {"weights_backbone": None, "aux_loss": True}),
}


def measure(name: str, input_shape: tuple[int, ...], batch: int, kwargs: dict | None = None):
    """torchvision's figures per leaf module: parameters, buffers, output shape (last call) and
    FLOPs, plus the totals. A segmentation net returns a dict of outputs: only its leaves'
    outputs are read."""
    with meta_construction():
        model = torchvision_model(name, **(TORCHVISION_NETS[name] if kwargs is None else kwargs)).eval()
    leaves = {n: m for n, m in model.named_modules() if n and not list(m.children())}
    shapes = {}
    for leaf_name, leaf in leaves.items():
        leaf.register_forward_hook(lambda mod, args, out, n=leaf_name: shapes.__setitem__(n, tuple(out.shape[1:])))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.empty(batch, *input_shape, device="meta"))
    # a leaf that forward never calls has no output: one that holds nothing (ShuffleNetV2's empty
    # branch1 of a stride-1 unit) may have no row; one with parameters (an aux head in eval) is
    # compared by parameters and buffers, its output None
    leaves = {n: m for n, m in leaves.items() if n in shapes or list(m.parameters()) or list(m.buffers())}
    prefix = type(model).__name__ + "."
    flops = {key[len(prefix):]: sum(ops.values()) for key, ops in counter.get_flop_counts().items()
             if key.startswith(prefix)}
    # a module eval mode does not run (an aux head) has no output: None
    per_module = {n: (sum(p.numel() for p in m.parameters(recurse=False)),
                      sum(b.numel() for b in m.buffers(recurse=False)), shapes.get(n), flops.get(n, 0))
                  for n, m in leaves.items()}
    totals = (sum(p.numel() for p in model.parameters()), sum(b.numel() for b in model.buffers()),
              counter.get_total_flops())
    return per_module, totals


@pytest.mark.parametrize("name", TORCHVISION_NETS)
def test_bundled_spec_equals_torchvision_module_by_module(name):
    report = archcalc.analyze(name, batch=2)
    per_module, totals = measure(name, report.input, batch=2)
    check_equal(report, per_module, totals)


@pytest.mark.parametrize("case", VARIANT_NETS)
def test_bundled_spec_with_settings_equals_torchvision(case):
    name, settings, kwargs = VARIANT_NETS[case]
    report = archcalc.analyze(name, batch=1, args=settings)
    per_module, totals = measure(name, report.input, batch=1, kwargs=kwargs)
    check_equal(report, per_module, totals)


def check_equal(report, per_module, totals):
    rows = {row.name: row for row in report.rows}
    missing = [n for n in per_module if n not in rows]
    assert not missing, f"torchvision modules without a row of the same name: {missing[:5]}"

    def ours(row):  # a row the mode does not run has parameters and buffers only, as the module
        return row.params, row.buffers, tuple(row.output) if row.active else None, row.flops

    differences = [(n, ours(rows[n]), expected) for n, expected in per_module.items() if ours(rows[n]) != expected]
    assert not differences, differences[:5]
    assert (report.total.params, report.total.buffers, report.total.flops) == totals


def test_the_comparison_sees_a_difference():
    """The check can fail: a spec of another width differs from the module it claims to be."""
    report = archcalc.analyze("resnet18", batch=1)
    per_module, _ = measure("resnet34", report.input, batch=1)
    rows = {row.name: row for row in report.rows}
    assert any(n not in rows or (rows[n].params, rows[n].buffers, tuple(rows[n].output), rows[n].flops) != v
               for n, v in per_module.items())


def test_aux_heads_exist_but_do_not_run_in_eval():
    report = archcalc.analyze("googlenet", batch=1)
    aux = [row for row in report.rows if row.name.startswith("aux1.")]
    assert aux and all(not row.active and row.flops == 0 for row in aux) and sum(r.params for r in aux) > 0


@pytest.mark.parametrize("name", ["fcn_resnet50", "lraspp_mobilenet_v3_large"])
def test_segmentation_nets_follow_the_input_size(name):
    """The logits are resized back to the input (and LR-ASPP's high-level map to its low-level
    one) at any input size, odd ones included, as torchvision's F.interpolate does."""
    report = archcalc.analyze(name, input_shape=(3, 97, 131), batch=1)
    per_module, totals = measure(name, report.input, batch=1)
    check_equal(report, per_module, totals)
    assert tuple(report.output) == (21, 97, 131)


def test_convnext_follows_the_input_size_with_its_permuted_blocks():
    """ConvNeXt at an odd, non-square size: the channels-last shapes inside every CNBlock
    (HxWxC after the Permute) and every count still equal torchvision's, and the field stays the
    net input's (rows and columns in its order)."""
    report = archcalc.analyze("convnext_tiny", input_shape=(3, 97, 131), batch=1)
    per_module, totals = measure("convnext_tiny", report.input, batch=1)
    check_equal(report, per_module, totals)
    rows = {row.name: row for row in report.rows}
    assert rows["features.1.0.block.3"].output == (24, 32, 384) and rows["features.1.0.block.6"].output == (96, 24, 32)
    first = rows["features.1.0.add"].rf.axes
    assert (first[0].size, first[0].stride, first[1].size) == (4 + 6 * 4, 4, 4 + 6 * 4)  # the stem, then a 7x7
