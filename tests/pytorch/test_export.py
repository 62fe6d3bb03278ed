"""`archcalc export --to pytorch`: a standalone source file whose model has the spec's module
names, parameter count and output shape, for every bundled spec and for inline ones."""

import ast
import importlib.util
import textwrap

import pytest

from archcalc import analyze, analyze_text
from archcalc.spec import bundled as zoo
from archcalc.cli import app
from archcalc.pytorch.export import to_pytorch_source
from archcalc.graph import load_graph

torch = pytest.importorskip("torch")

from typer.testing import CliRunner  # noqa: E402

runner = CliRunner()

DECODER = """
name: decoder
input: 3x20x24
layers:
  - {name: down, type: conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
  - {name: train, type: conv2d, out_channels: 8, kernel_size: 3, padding: same, groups: 2}
  - {name: up, type: conv_transpose2d, out_channels: 4, kernel_size: 4, stride: 2, padding: 1}
  - {name: near, type: upsample, scale_factor: 2, inputs: down}
  - {name: squeeze, type: conv2d, out_channels: 4, kernel_size: 1, inputs: near, trainable: false}
  - {name: skip, type: concat, inputs: [up, squeeze, input]}
  - {name: gate, layers: [global_avgpool2d, {type: conv2d, out_channels: 11, kernel_size: 1}, hardsigmoid]}
  - {name: excite, type: mul, inputs: [skip, gate]}
  - {name: head, layers: [{type: conv2d, out_channels: 2, kernel_size: 1}, {type: softmax, dim: 0}]}
"""


def import_source(tmp_path, text, name="generated_model"):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def only_torch_imports(text):
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    return imported == {"torch"}


def check_model(module, graph, report, device="meta"):
    with torch.device(device):
        net = module.build()
    names = dict(net.named_modules())
    assert all(node.name in names for node in graph.nodes)
    assert sum(p.numel() for p in net.parameters()) == report.total.params
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == report.total.trainable
    for row in report.rows:
        own = sum(p.numel() for p in names[row.name].parameters(recurse=False))
        assert own == row.params, row.name
    net.eval()
    with torch.no_grad():
        out = net(torch.zeros((2, *report.input), device=device))
    assert tuple(out.shape) == (2, *report.output)


SHIPPED = {**zoo.bundled(), **{f"compare/{p.stem}": p for p in sorted((zoo.architectures_dir() / "compare").glob("*.yaml"))}}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_bundled_spec_exports(tmp_path, name):
    graph = load_graph(SHIPPED[name])
    text = to_pytorch_source(graph)
    assert only_torch_imports(text)
    check_model(import_source(tmp_path, text, f"model_{name.replace('/', '_')}"), graph, analyze(SHIPPED[name]))


def test_inline_decoder_with_concat_upsample_and_transposed_conv(tmp_path):
    graph = load_graph("decoder.yaml", text=textwrap.dedent(DECODER))
    report = analyze_text(textwrap.dedent(DECODER))
    text = to_pytorch_source(graph)
    module = import_source(tmp_path, text, "decoder_model")
    check_model(module, graph, report, device="cpu")
    net = module.build()
    modules = dict(net.named_modules())
    assert isinstance(modules["train"], torch.nn.Conv2d)  # a layer named like a Module method
    assert not modules["squeeze"].weight.requires_grad
    assert "nn.ConvTranspose2d(8, 4, kernel_size=4, stride=2, padding=1)" in text


def test_export_matches_the_twin_numerically(tmp_path):
    """Same modules, same names: the exported model loads the twin's weights and computes the same."""
    from archcalc.pytorch.twin import build_module

    graph = load_graph("decoder.yaml", text=textwrap.dedent(DECODER))
    twin = build_module(graph).eval()
    exported = import_source(tmp_path, to_pytorch_source(graph), "decoder_same").build().eval()
    exported.load_state_dict(twin.state_dict())
    x = torch.randn(2, 3, 20, 24)
    assert torch.equal(twin(x), exported(x))


def test_cli_export_to_file_and_stdout(tmp_path):
    target = tmp_path / "alexnet_model.py"
    result = runner.invoke(app, ["export", "alexnet", "--to", "pytorch", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stderr
    module = import_source(tmp_path, target.read_text(), "alexnet_model")
    check_model(module, load_graph(zoo.bundled()["alexnet"]), analyze("alexnet"))
    result = runner.invoke(app, ["export", "architectures/resnet50.yaml"])
    assert result.exit_code == 0
    assert "class Resnet50(Group):" in result.stdout and "def build():" in result.stdout


def test_cli_export_errors_exit_2(tmp_path):
    result = runner.invoke(app, ["export", "alexnet", "-o", str(tmp_path / "missing" / "x.py")])
    assert result.exit_code == 2 and result.stderr.startswith("error: cannot write")
    result = runner.invoke(app, ["export", "no_such_net"])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")


def test_padded_layers_export_scripted_and_equal_to_the_twin(tmp_path):
    """Asymmetric and TensorFlow-style paddings: the exported file carries the padded module
    classes (and nothing else from archcalc), scripts, and computes what the twin computes."""
    from archcalc.pytorch.twin import build_module
    from test_verify import INLINE

    text = textwrap.dedent(INLINE["padding"])
    graph = load_graph("padding.yaml", text=text)
    source = to_pytorch_source(graph)
    assert only_torch_imports(source) and "class PaddedConv2d(nn.Conv2d)" in source
    # 33 rows: 17 outputs need 2 padded rows, one each side; 30 columns: 15 need 1, on the right
    assert "PaddedConv2d(3, 8, kernel_size=3, stride=2, pads=(0, 1, 1, 1))" in source
    module = import_source(tmp_path, source, "padded_model")
    check_model(module, graph, analyze_text(text), device="cpu")
    exported = module.build().eval()
    exported.load_state_dict(build_module(graph).state_dict())
    twin = build_module(graph).eval()
    twin.load_state_dict(exported.state_dict())
    x = torch.randn(2, 3, 33, 30)
    assert torch.equal(twin(x), exported(x))
    assert torch.equal(torch.jit.script(exported)(x), exported(x))
    assert {"c0.weight", "c0.bias", "c1.weight"} <= dict(exported.named_parameters()).keys()  # the module's own names


# issue 9's vocabulary: the modules torch.nn lacks (LayerNorm2d, LayerScale, StochasticDepth,
# Slice) are copied into the exported file from archcalc.pytorch.layermodules
VOCAB = """
name: vocab
input: 8x10x10
layers:
  - {name: stem, type: conv2d, out_channels: 16, kernel_size: 3, padding: 1}
  - {name: ln, type: layernorm, eps: 1.0e-6}
  - {name: gamma, type: layer_scale, init: 0.5}
  - {name: drop, type: stochastic_depth, p: 0.1}
  - {name: left, type: slice, chunks: 2, index: 0}
  - {name: right, type: slice, start: 8, inputs: drop}
  - {name: gn, type: groupnorm, num_groups: 2}
  - {name: inorm, type: instancenorm2d, affine: true}
  - {name: unit, type: concat, inputs: [left, inorm]}
  - {name: mix, type: channel_shuffle, groups: 4}
  - {type: global_avgpool2d}
  - flatten
  - {name: fc, type: linear, out_features: 12}
  - {name: lnv, type: layernorm}
  - {name: map, type: reshape, shape: [3, 2, 2]}
"""


def test_vocabulary_exports_and_matches_the_twin(tmp_path):
    from archcalc.pytorch.twin import build_module

    graph = load_graph("vocab.yaml", text=textwrap.dedent(VOCAB))
    text = to_pytorch_source(graph)
    assert only_torch_imports(text)
    assert "class LayerNorm2d(nn.LayerNorm):" in text and "_attach(self, 'gamma', LayerScale(16, init=0.5))" in text
    assert "Slice(0, 8)" in text and "nn.ChannelShuffle(4)" in text and "nn.Unflatten(1, (3, 2, 2))" in text
    module = import_source(tmp_path, text, "vocab_model")
    check_model(module, graph, analyze_text(textwrap.dedent(VOCAB)), device="cpu")
    twin = build_module(graph).eval()
    exported = module.build().eval()
    exported.load_state_dict(twin.state_dict())
    x = torch.randn(2, 8, 10, 10)
    assert torch.equal(twin(x), exported(x))
    assert torch.equal(torch.jit.script(exported)(x), exported(x))
    named = dict(exported.named_parameters())
    assert named["gamma.layer_scale"].shape == (16, 1, 1) and named["ln.weight"].shape == (16,)


@pytest.mark.parametrize("key, shape", [("sequence", (2, 4, 40)), ("volume", (2, 2, 6, 10, 10)),
                                        ("permuted", (2, 8, 11, 9)), ("attention", (2, 8, 12, 10)),
                                        ("norm-free", (2, 3, 32, 40))])
def test_one_and_three_axis_nets_export_scripted_and_equal_to_the_twin(tmp_path, key, shape):
    """conv1d/conv3d, their transposed forms and the 1-D/3-D pools export as torch.nn's Conv1d,
    MaxPool3d, ...: the exported model takes the twin's weights and computes the same, scripted too.
    So do permuted tensors (Permute's source copied, nn.LayerNorm over the last dimension)."""
    from test_verify import INLINE

    from archcalc.pytorch.twin import build_module

    text = textwrap.dedent(INLINE[key])
    graph = load_graph(f"{key}.yaml", text=text)
    source = to_pytorch_source(graph)
    assert only_torch_imports(source)
    module = import_source(tmp_path, source, f"{key}_model")
    check_model(module, graph, analyze_text(text), device="cpu")
    twin, exported = build_module(graph).eval(), module.build().eval()
    exported.load_state_dict(twin.state_dict())
    x = torch.randn(*shape)
    assert torch.equal(twin(x), exported(x))
    assert torch.equal(torch.jit.script(exported)(x), exported(x))


def test_a_reshape_to_a_sequence_exports_its_pair_whole(tmp_path):
    """A [C, L] target stays two numbers in the source (an equal pair of a kernel prints as one)."""
    text = "name: seq\ninput: 64\nlayers:\n  - {name: r, type: reshape, shape: [8, 8]}\n  - {name: c, type: conv1d, out: 4, k: 3}\n"
    graph = load_graph("seq.yaml", text=text)
    source = to_pytorch_source(graph)
    assert "nn.Unflatten(1, [8, 8])" in source
    check_model(import_source(tmp_path, source, "seq_model"), graph, analyze_text(text), device="cpu")
