"""build_module / to_torch: the spec's PyTorch twin, named as the spec names its layers, and its
geometric (receptive-field probe) variant; torch never imported on the analysis path."""

import subprocess
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")

import archcalc  # noqa: E402
from archcalc.graph import load_graph  # noqa: E402
from archcalc.pytorch.twin import build_module  # noqa: E402

BRANCHES = """
name: branches
input: 3x16x16
layers:
  - {name: stem, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {name: dw, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1, groups: 8}
  - {name: pool, type: maxpool2d, kernel_size: 2, stride: 2, padding: 1, dilation: 2, inputs: stem}
  - {name: up, type: upsample, scale_factor: 2, mode: bilinear}
  - {name: join, type: concat, inputs: [dw, up, stem]}
  - {name: head, layers: [{type: conv2d, out_channels: 4, kernel_size: 1, trainable: false}, relu]}
"""


def test_module_names_are_the_spec_names():
    graph = archcalc.load("resnet50")
    net = build_module(graph)
    names = dict(net.named_modules())
    assert {n.name for n in graph.nodes} <= set(names)
    assert isinstance(names["layer1.0.downsample.0"], torch.nn.Conv2d)
    assert isinstance(names["layer1"], torch.nn.Module) and "layer1.0" in names
    own = {n: sum(p.numel() for p in m.parameters(recurse=False)) for n, m in names.items()}
    report = archcalc.analyze("resnet50")
    assert all(own[r.name] == r.params for r in report.rows)


def test_twin_runs_the_graph_and_freezes_layers():
    graph = load_graph("b.yaml", text=textwrap.dedent(BRANCHES))
    net = build_module(graph).eval()
    out = net(torch.randn(2, 3, 16, 16))
    assert tuple(out.shape) == (2, *archcalc.analyze_text(textwrap.dedent(BRANCHES)).output)
    assert not net.get_submodule("head.0").weight.requires_grad
    assert net.get_submodule("stem").weight.requires_grad


def test_geometric_twin_is_one_channel_positive_and_float64():
    graph = load_graph("b.yaml", text=textwrap.dedent(BRANCHES))
    probe = build_module(graph, geometric=True)
    names = dict(probe.named_modules())
    assert {n.name for n in graph.nodes} <= set(names)
    assert all(p.dtype == torch.float64 and (p > 0).all() and not p.requires_grad for p in probe.parameters())
    assert names["dw"].in_channels == 1 and names["dw"].groups == 1
    assert names["dw"].kernel_size == (3, 3) and names["dw"].padding == (1, 1)
    out = probe(torch.ones(1, 1, 16, 16, dtype=torch.float64))
    assert out.shape[1] == 1  # concat sums in the probe: one channel throughout


def test_to_torch_wrapper():
    net = archcalc.to_torch("alexnet")
    assert sum(p.numel() for p in net.parameters()) == 61_100_840


def test_analysis_path_never_imports_torch():
    code = ("import sys, archcalc, archcalc.cli, archcalc.cli.pytorch\n"
            "archcalc.analyze('resnet50')\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=archcalc.spec.bundled.architectures_dir().parent)
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "archcalc", "params", "architectures/resnet50.yaml"],
                         capture_output=True, text=True, cwd=archcalc.spec.bundled.architectures_dir().parent)
    assert out.returncode == 0
    assert not [line for line in out.stderr.splitlines() if line.rstrip().endswith((" torch", " torch.nn"))]
