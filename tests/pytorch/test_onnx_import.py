"""torchvision nets exported with torch.onnx.export import from the ONNX file alone (the onnx
package, no torch on that path) with the module's parameters, buffers, FlopCounterMode FLOPs
and output shape, and with the bundled zoo spec's MACs, row count aside. The exporter is
TorchScript's at opset 17 with constant folding off, in eval mode with training=PRESERVE, so
that BatchNormalization stays a node (folding it into the convolutions would change the
parameters) and the ops are plain ONNX ones."""

import importlib.util
import math
import os

import pytest

if importlib.util.find_spec("torchvision") is None or importlib.util.find_spec("onnx") is None:
    pytest.skip("torchvision and onnx are needed", allow_module_level=True)

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archcalc  # noqa: E402
from archcalc.importing.onnx_reader import analyze_onnx, spec_from_onnx, spec_text  # noqa: E402
from archcalc.pytorch.fx_sources import meta_construction  # noqa: E402
from archcalc.pytorch.torchvision_models import torchvision_model  # noqa: E402

# the TorchScript exporter warns that it is deprecated (dynamo's folds BatchNormalization into the
# convolutions, which changes the parameters, so it is the one that exports the module as it is)
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.filterwarnings("ignore::FutureWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

# one of each family the zoo bundles but VGG (AlexNet has its layers; a VGG export writes half a
# gigabyte), the video net, a segmentation net and ConvNeXt (channels-last blocks: Transpose,
# LayerNormalization and MatMul on the last axis, an Erf-written GELU). Every bundled torchvision
# net passes: see docs/import-onnx.md; ARCHCALC_ONNX_ALL=1 runs them all (about 35 minutes on two
# busy cores)
REPRESENTATIVE = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1", "densenet121",
                  "googlenet", "inception_v3", "efficientnet_b0", "shufflenet_v2_x1_0", "regnet_y_400mf",
                  "mnasnet0_5", "alexnet", "r3d_18", "lraspp_mobilenet_v3_large", "convnext_tiny"]
NO_AUX = {"googlenet": {"aux_logits": False, "init_weights": False},
          "inception_v3": {"aux_logits": False, "init_weights": False}}
# inputs other than the bundled spec's: the default run's video clip is short and small, its
# ConvNeXt small too; the segmentation nets (520x520 in the zoo, whose export runs the net on the
# cpu) take a small odd size, which their resizes follow
SMALL = {"r3d_18": (3, 4, 32, 32), "convnext_tiny": (3, 64, 64), "fcn_resnet50": (3, 65, 71),
         "deeplabv3_resnet50": (3, 65, 71), "lraspp_mobilenet_v3_large": (3, 65, 71)}
EVERY = bool(os.environ.get("ARCHCALC_ONNX_ALL"))
# weights given distinct values: the TorchScript exporter stores equal initializers once, so
# regnet_y_128gf's uninitialised (all-zero) weights export to 575 MB; filled, they are 2.6 GB, past
# protobuf's 2 GiB, and the exporter keeps them in external data files beside the model
FILLED = {"regnet_y_128gf"}


def all_bundled():
    from test_zoo_torchvision import TORCHVISION_NETS

    return list(TORCHVISION_NETS)


def constructor_arguments(name: str) -> dict:
    from test_zoo_torchvision import TORCHVISION_NETS

    return NO_AUX.get(name, TORCHVISION_NETS.get(name, {}))


NETS = all_bundled() if EVERY else REPRESENTATIVE


class MainOutput(torch.nn.Module):
    """A segmentation net's forward returns a dict; its export is the main output, 'out'."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)["out"]


def export(name: str, input_shape, path):
    """The module's own figures (on meta) and its ONNX export (uninitialised cpu weights)."""
    with meta_construction():
        model = torchvision_model(name, **constructor_arguments(name)).eval()
    if "segmentation" in type(model).__module__:
        model = MainOutput(model)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        output = model(torch.empty(1, *input_shape, device="meta"))
    figures = {"params": sum(p.numel() for p in model.parameters()),
               "buffers": sum(b.numel() for b in model.buffers() if b.dtype.is_floating_point),
               "flops": counter.get_total_flops(), "output": tuple(output.shape[1:])}
    model = model.to_empty(device="cpu")
    with torch.no_grad():
        if name in FILLED:
            generator = torch.Generator().manual_seed(0)
            for tensor in (*model.parameters(), *model.buffers()):
                if tensor.dtype.is_floating_point:
                    tensor.normal_(generator=generator)
        torch.onnx.export(model, (torch.zeros(1, *input_shape),), str(path), dynamo=False, opset_version=17,
                          do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    return figures


def float_buffers(report) -> int:
    from archcalc.layers import lookup

    return sum(t.count for row in report.rows for t in row.buffer_tensors
               if t.name not in lookup(row.type).integer_buffers)


@pytest.mark.parametrize("name", NETS)
def test_an_exported_torchvision_net_imports_with_the_modules_figures(name, tmp_path):
    small = SMALL.get(name) if not (EVERY and name in ("r3d_18", "convnext_tiny")) else None
    bundled = archcalc.analyze(name, input_shape=small, args={"aux_logits": False} if name in NO_AUX else None)
    path = tmp_path / f"{name}.onnx"
    module = export(name, bundled.input, path)
    report = analyze_onnx(path)
    ours = {"params": report.total.params, "buffers": float_buffers(report), "flops": report.total.flops,
            "output": tuple(report.rows[-1].output)}
    assert ours == module
    assert (report.total.params, report.total.macs, report.total.flops, report.input) == (
        bundled.total.params, bundled.total.macs, bundled.total.flops, bundled.input)
    if name in FILLED:  # the weights were in external data files, counted by their shapes
        external = [file for file in tmp_path.iterdir() if file != path]
        assert len(external) > 100
        for file in external:
            file.unlink()


class PlainCode(torch.nn.Module):
    """What plain model code exports to: torch.chunk and torch.split (Split, Slice chains, or the
    dynamo exporter's SplitToSequence), nn.GELU and a GELU written out with torch.erf."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 12, 3, padding=1)
        self.gelu = torch.nn.GELU()
        self.head = torch.nn.Conv2d(12, 5, 1)

    def forward(self, x):
        x = self.stem(x)
        a, b = x.chunk(2, dim=1)
        c, d = torch.split(b, [2, 4], dim=1)
        written = a * 0.5 * (1.0 + torch.erf(a / math.sqrt(2.0)))
        return self.head(torch.cat([self.gelu(c), d, written], 1))


@pytest.mark.parametrize("dynamo", [False, True])
def test_plain_code_exports_import_with_the_modules_figures(dynamo, tmp_path):
    model = PlainCode().eval()
    x = torch.zeros(1, 3, 8, 8)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        output = model(x)
    path = tmp_path / "plain.onnx"
    with torch.no_grad():
        if dynamo:  # without its optimiser the exporter writes the chunk and split as sequences
            torch.onnx.export(model, (x,), str(path), dynamo=True, opset_version=18, optimize=False)
        else:
            torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=17, do_constant_folding=False)
    import onnx

    written = {node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node}
    assert "Erf" in written and ("SplitToSequence" in written) == dynamo
    report = analyze_onnx(path)
    assert (report.total.params, report.total.flops, tuple(report.rows[-1].output)) == (
        sum(p.numel() for p in model.parameters()), counter.get_total_flops(), tuple(output.shape[1:]))
    assert [row.type for row in report.rows].count("gelu") == 2
    assert [row.type for row in report.rows].count("slice") == 4


def test_the_imported_spec_is_a_spec(tmp_path):
    """The spec data written as YAML analyses to the same rows; batch and input shape apply."""
    path = tmp_path / "squeezenet1_1.onnx"
    export("squeezenet1_1", (3, 224, 224), path)
    spec = spec_from_onnx(path)
    text = spec_text(spec)
    again = archcalc.analyze_text(text)
    report = analyze_onnx(path, batch=4)
    assert [(r.name, r.output, r.params) for r in again.rows] == [(r.name, r.output, r.params) for r in report.rows]
    assert report.total.macs == 4 * again.total.macs


def test_the_comparison_sees_a_difference(tmp_path):
    """The check can fail: squeezenet1_0's export does not have squeezenet1_1's figures."""
    path = tmp_path / "squeezenet1_0.onnx"
    module = export("squeezenet1_0", (3, 224, 224), path)
    report, other = analyze_onnx(path), archcalc.analyze("squeezenet1_1")
    assert report.total.params == module["params"] != other.total.params
    assert report.total.macs != other.total.macs
