"""torch.export programs: a .pt2 file saved with torch.export.save imports through the ATen table
(archcalc.layers.imports.aten_ops) with the module's parameters, buffers, FlopCounterMode FLOPs and
output, and the fx import's layer names; bad .pt2 files are one line and exit 2; and where torch.fx
cannot trace a module, the importer goes through torch.export instead."""

import json
import sys
import textwrap
import zipfile

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from typer.testing import CliRunner

import archcalc
from archcalc.cli import app
from archcalc.importing.sources import import_source, parse_source
from archcalc.pytorch.importer import import_module
from archcalc.pytorch.torchvision_models import torchvision_models

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from cli_checks import assert_clean_error  # noqa: E402

runner = CliRunner()
SHAPE = (3, 64, 64)
# GoogLeNet without its auxiliary heads: an eval-mode program never reads them (the import would
# stop naming them, as test_a_module_forward_never_calls_stops_the_import shows on a small net)
NETS = {"resnet18": {}, "mobilenet_v3_small": {}, "squeezenet1_1": {}, "efficientnet_b0": {},
        "googlenet": {"aux_logits": False, "init_weights": False}}


def measured(module, shape=SHAPE):
    """The module's own figures: parameters, buffers, FlopCounterMode FLOPs, output shape."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = module.eval()(torch.zeros(1, *shape))
    return (sum(p.numel() for p in module.parameters()), sum(b.numel() for b in module.buffers()),
            counter.get_total_flops(), list(out.shape[1:]))


def figures(report):
    return report.total.params, report.total.buffers, report.total.flops, list(report.output)


def save(module, path, shape=SHAPE, decompose=False):
    program = torch.export.export(module.eval(), (torch.zeros(1, *shape),))
    torch.export.save(program.run_decompositions() if decompose else program, str(path))
    return str(path)


@pytest.mark.parametrize("name", NETS)
def test_saved_torchvision_program_equals_the_module(name, tmp_path):
    module = torchvision_models().get_model(name, weights=None, **NETS[name]).eval()
    imported = import_source(parse_source(save(module, tmp_path / f"{name}.pt2")))
    report = archcalc.analyze(imported.result.graph)
    assert figures(report) == measured(module)
    names = [row.name for row in report.rows]
    fx_import = import_module(module, SHAPE, name=name)
    fx_rows = archcalc.analyze(fx_import.graph).rows
    # the fx import's names; torchvision's StochasticDepth is no op at all in an eval-mode program
    assert names == [row.name for row in fx_rows if row.name in set(names)]
    assert {row.type for row in fx_rows if row.name not in set(names)} <= {"stochastic_depth"}
    if len(names) == len(fx_rows):  # and the same spec, but that the program says which F.relu runs in place
        assert spec_body(imported.text).replace(", inplace: true", "") == \
            spec_body(fx_import.text).replace(", inplace: true", "")


def test_convnext_as_exported_and_decomposed(tmp_path):
    """torchvision's ConvNeXt (channels last: permute, layer norm over the last axis, linear layers
    on the channels, layer scale; LayerNorm2d read whole), as exported and in core ATen: the
    module's figures and the fx import's names (StochasticDepth runs no op in eval mode)."""
    module = torchvision_models().get_model("convnext_tiny", weights=None).eval()
    program = torch.export.export(module, (torch.zeros(1, *SHAPE),))
    fx_rows = archcalc.analyze(import_module(module, SHAPE, name="convnext_tiny").graph).rows
    expected = [(row.name, row.type) for row in fx_rows if row.type != "stochastic_depth"]
    own = measured(module)
    for form, path in ((program, tmp_path / "exported.pt2"), (program.run_decompositions(), tmp_path / "core.pt2")):
        torch.export.save(form, str(path))
        report = archcalc.analyze(str(path))
        assert figures(report) == own
        assert [(row.name, row.type) for row in report.rows] == expected


def spec_body(text: str) -> str:
    return text[text.index("\nblocks:"):]


class SmallResidual(torch.nn.Module):
    """ResNet's ops in a few layers (a decomposed program of a whole net costs seconds to read)."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 7, 2, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        self.branch = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16))
        self.relu = nn.ReLU()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)
        self.head = nn.Linear(10, 4, bias=False)

    def forward(self, x):
        x = self.stem(x)
        x = self.relu(self.branch(x) + x)
        return self.head(self.fc(torch.flatten(self.avgpool(x), 1)))


def test_a_decomposed_program_and_the_written_spec(tmp_path, monkeypatch):
    """The core ATen form (convolution, permute + addmm, permute + mm, _native_batch_norm_legit_no_training,
    max_pool2d_with_indices, mean) reads alike; `archcalc import` writes a spec with the same figures."""
    monkeypatch.chdir(tmp_path)
    module = SmallResidual().eval()
    path = save(module, tmp_path / "small.pt2", shape=(3, 32, 32), decompose=True)
    result = runner.invoke(app, ["import", path, "-o", "net.yaml"])
    assert result.exit_code == 0, result.output
    spec = archcalc.analyze(archcalc.load("net.yaml"))
    assert figures(spec) == measured(module, (3, 32, 32))
    assert {"stem.0", "stem.1", "stem.3", "branch.1", "add", "relu", "avgpool", "fc", "head"} <= {r.name for r in spec.rows}
    flops = json.loads(runner.invoke(app, ["flops", path, "--format", "json"]).stdout)
    assert flops["total"]["flops"] == spec.total.flops


def test_a_program_exported_for_a_batch_counts_that_batch(tmp_path):
    module = SmallResidual().eval()
    program = torch.export.export(module, (torch.zeros(3, 3, 32, 32),))
    torch.export.save(program, str(tmp_path / "batch3.pt2"))
    report = archcalc.analyze(str(tmp_path / "batch3.pt2"))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(torch.zeros(3, 3, 32, 32))
    assert (report.batch, report.total.flops) == (3, counter.get_total_flops())


BAD = textwrap.dedent('''
    import torch
    import torch.nn as nn

    class Sorts(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.head = nn.Conv2d(4, 4, 1)

        def forward(self, x):
            x = self.conv(x)
            x = torch.sort(x, dim=1).values
            return self.head(x)

    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.spare = nn.Sequential(nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4))

        def forward(self, x):
            return self.conv(x)
''')


@pytest.fixture(scope="module")
def sorts(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pt2")
    namespace: dict = {}
    exec(compile(BAD, str(directory / "sorts.py"), "exec"), namespace)
    save(namespace["Unused"](), directory / "unused.pt2", shape=(3, 8, 8))
    return save(namespace["Sorts"](), directory / "sorts.pt2", shape=(3, 8, 8))


def test_a_module_forward_never_calls_stops_the_import(sorts):
    unused = sorts.replace("sorts.pt2", "unused.pt2")
    assert_clean_error(runner.invoke(app, ["params", unused]), "module spare: forward never reads its tensors",
                       "[37 parameters and buffers not counted]", "--partial")
    data = json.loads(runner.invoke(app, ["params", unused, "--partial", "--format", "json"]).stdout)
    assert data["total"]["params"] == 4 * 3 * 9 + 4
    assert any("spare" in line and "37 parameters" in line for line in data["not_counted"])


def test_bad_pt2_files_are_one_line(tmp_path, sorts):
    text = tmp_path / "text.pt2"
    text.write_text("not an archive")
    assert_clean_error(runner.invoke(app, ["params", str(text)]), "text.pt2", "not a saved torch.export program")
    truncated = tmp_path / "truncated.pt2"
    data = open(sorts, "rb").read()
    truncated.write_bytes(data[: len(data) // 2])
    assert_clean_error(runner.invoke(app, ["params", str(truncated)]), "truncated.pt2", "not a saved torch.export")
    other = tmp_path / "other.pt2"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("notes.txt", "a zip, but no program")
    assert_clean_error(runner.invoke(app, ["params", str(other)]), "other.pt2", "no serialized model")
    assert_clean_error(runner.invoke(app, ["params", sorts]),
                       "unsupported operation aten.sort at the top level (", "sorts.py:13)", "--partial")
    assert_clean_error(runner.invoke(app, ["params", sorts, "--input", "3x9x9"]), "exported for a 3x8x8 input")


def test_partial_lists_the_op_a_program_cannot_count(sorts):
    result = runner.invoke(app, ["params", sorts, "--partial", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert any("aten.sort" in line for line in data["not_counted"])
    assert any("head" in line for line in data["not_counted"])  # reads the sort's output: left out too


FALLBACK = textwrap.dedent('''
    import torch
    import torch.nn as nn

    class Branches(nn.Module):
        """A loop over a tensor's parts: torch.fx cannot iterate a traced value, torch.export can."""

        def __init__(self, sizes=(8, 8, 16)):
            super().__init__()
            self.sizes = list(sizes)
            self.stem = nn.Conv2d(3, sum(sizes), 3, padding=1)
            self.convs = nn.ModuleList(nn.Conv2d(s, s, 3, padding=1, groups=s // 8) for s in sizes)
            self.bn = nn.BatchNorm2d(sum(sizes))
            self.relu = nn.ReLU()

        def forward(self, x):
            x = self.stem(x)
            parts = [conv(part) for conv, part in zip(self.convs, x.split(self.sizes, 1))]
            return self.relu(self.bn(torch.cat(parts, 1)))
''')


def test_torch_export_reads_what_fx_cannot_trace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "branches.py").write_text(FALLBACK)
    namespace: dict = {}
    exec(compile(FALLBACK, "branches.py", "exec"), namespace)
    module = namespace["Branches"]().eval()
    with pytest.raises(torch.fx.proxy.TraceError):
        torch.fx.symbolic_trace(module)
    report = archcalc.analyze(module, input_shape=(3, 16, 16))
    assert figures(report) == measured(module, (3, 16, 16))
    # the ModuleList reads three tensors, so its convolutions move up a level (importing.layout.fit_scopes)
    assert [row.name.replace("convs_", "convs.") for row in report.rows] == [
        "stem", "split0", "split1", "split2", "convs.0", "convs.1", "convs.2", "cat", "bn", "relu"]
    result = runner.invoke(app, ["params", "branches.py:Branches", "--input", "3x16x16"])
    assert result.exit_code == 0 and "read through torch.export (torch.fx cannot trace Branches)" in result.stderr


MIXED = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Mixed(nn.Module):
        """Ops the torchvision nets above do not use, in one small program."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3, stride=2, padding="valid", bias=False)
            self.gn = nn.GroupNorm(4, 16)
            self.act = nn.ReLU6()
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.deconv = nn.ConvTranspose2d(8, 8, 2, stride=2)
            self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.avg = nn.AvgPool2d(2, count_include_pad=False)
            self.fc = nn.Linear(16, 10, bias=False)
            self.gelu = nn.GELU(approximate="tanh")

        def forward(self, x):
            x = self.act(self.gn(self.conv(x)))
            a, b = x.chunk(2, 1)
            a = self.up(a)
            b = F.interpolate(self.deconv(b), size=a.shape[-2:], mode="bilinear", align_corners=False)
            x = torch.cat([F.pad(a, (1, 1, 1, 1)), F.pad(b, (1, 1, 1, 1), mode="reflect")], 1)
            x = self.avg(self.pool(self.gelu(x[:, 2:14] * 1)))
            x = torch.flatten(F.leaky_relu(x, 0.2), 1)
            return F.softmax(self.fc(x[:, :16]), dim=1)
''')


def test_a_program_of_many_op_kinds(tmp_path):
    namespace: dict = {}
    exec(compile(MIXED, "mixed.py", "exec"), namespace)
    module = namespace["Mixed"]().eval()
    shape = (3, 33, 33)
    report = archcalc.analyze(save(module, tmp_path / "mixed.pt2", shape=shape))
    assert figures(report) == measured(module, shape)
    types = {row.type for row in report.rows}
    assert {"groupnorm", "relu6", "slice", "upsample", "conv_transpose2d", "pad", "concat", "gelu", "maxpool2d",
            "avgpool2d", "leaky_relu", "flatten", "linear", "softmax"} <= types
    fx_names = [row.name for row in archcalc.analyze(module, input_shape=shape).rows]
    assert [row.name for row in report.rows] == fx_names


def test_an_archive_that_unpacks_to_far_more_than_its_size_is_refused(tmp_path, monkeypatch):
    from archcalc.pytorch import pt2_source

    monkeypatch.setattr(pt2_source, "_UNPACK_FREE", 1 << 16)  # the 1 GiB allowance, scaled down for the test
    bomb = tmp_path / "bomb.pt2"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model/models/model.json", b"\0" * (1 << 20))  # 1 MiB of zeros in about 1 KiB
    assert_clean_error(runner.invoke(app, ["params", str(bomb)]), "bomb.pt2", "times its size; refused")


class ChannelsLast(torch.nn.Module):
    """ConvNeXt's channels-last algebra and NF-Nets' scales in one small module: torchvision's
    LayerNorm2d (read whole), a permute to channels last, a layer norm over the last axis, a
    linear layer on the channels, back, a C x 1 x 1 layer scale, a constant and a learnable scale."""

    def __init__(self):
        super().__init__()
        torchvision_models()  # torchvision imported tolerantly first
        from torchvision.models.convnext import LayerNorm2d

        self.stem = torch.nn.Conv2d(3, 8, 4, stride=4)
        self.norm = LayerNorm2d(8)
        self.ln = torch.nn.LayerNorm(8)
        self.fc = torch.nn.Linear(8, 16)
        self.layer_scale = torch.nn.Parameter(torch.ones(16, 1, 1))
        self.gain = torch.nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        x = self.norm(self.stem(x))
        x = self.fc(self.ln(x.permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
        return (self.layer_scale * x) * 0.5 * self.gain


@pytest.mark.parametrize("decompose", [False, True])
def test_a_channels_last_program_reads_as_the_fx_import(tmp_path, decompose):
    """The fx import's layers and names, as exported and after run_decompositions() (its linear
    layer on the channels-last map: view N x H x W x C as (N*H*W) x C, addmm, view back; its
    LayerNorm2d: permute, native_layer_norm, permute)."""
    module = ChannelsLast().eval()
    shape = (3, 32, 32)
    report = archcalc.analyze(save(module, tmp_path / "cl.pt2", shape=shape, decompose=decompose))
    assert figures(report) == measured(module, shape)
    fx_rows = archcalc.analyze(module, input_shape=shape).rows
    assert [(r.name, r.type) for r in report.rows] == [(r.name, r.type) for r in fx_rows]
    assert {"permute", "layernorm", "layer_scale", "scale"} <= {r.type for r in report.rows}


def test_a_view_of_the_batch_with_other_axes_is_refused(tmp_path):
    class Folds(torch.nn.Module):
        def forward(self, x):
            return torch.relu(x.flatten(0, 1))

    result = runner.invoke(app, ["params", save(Folds(), tmp_path / "folds.pt2", shape=(3, 4, 4))])
    assert result.exit_code == 2
    assert "aten.flatten at the top level" in result.output and \
        "views the batch dimension with others ([1, 3, 4, 4] as [3, 4, 4]" in result.output


@pytest.mark.parametrize("name", ["skresnet18", "gcresnet33ts"])
def test_timm_attention_tensor_algebra(name, tmp_path):
    """timm's selective kernel (stack, a sum over dimension 1) and global context (a matrix
    product, views of a range of axes): the module's figures and the fx import's names."""
    torchvision_models()  # timm imports torchvision: tolerantly first
    timm = pytest.importorskip("timm")
    module = timm.create_model(name, pretrained=False).eval()
    report = archcalc.analyze(save(module, tmp_path / f"{name}.pt2"))
    assert figures(report) == measured(module)
    names = [row.name for row in report.rows]
    fx_rows = archcalc.analyze(import_module(module, SHAPE, name=name).graph).rows
    # the same layers (the parts of a split are listed where the program splits, not where fx uses them)
    assert sorted(names) == sorted(row.name for row in fx_rows if row.type != "identity")
    assert {"skresnet18": {"stack_maps", "channel_sum"}, "gcresnet33ts": {"matmul", "reshape"}}[name] <= \
        {row.type for row in report.rows}


def test_a_weight_read_in_another_shape_is_refused(tmp_path):
    """A view of a parameter is read in that shape only where a rule checks it (a layer scale, a
    linear layer's transposed weight): a convolution of a weight stored 8 x 27 is refused."""

    class Viewed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(8, 27))

        def forward(self, x):
            return torch.nn.functional.conv2d(x, self.w.view(8, 3, 3, 3))

    result = runner.invoke(app, ["params", save(Viewed(), tmp_path / "viewed.pt2", shape=(3, 8, 8))])
    assert result.exit_code == 2
    assert "aten.conv2d at the top level" in result.output
    assert "its weight 'w' is read as [8, 3, 3, 3], not as stored ([8, 27])" in result.output


class Context(torch.nn.Module):
    """timm's ECA gate (expand_as; core ATen: expand), a transpose of an axis of size 1 (ResNeSt's
    radix softmax; core ATen: permute) and global-context pooling: a map's positions weighted by a
    softmax over them, a matrix product of two activations (core ATen: expand, view, bmm, view)."""

    def __init__(self):
        super().__init__()
        self.attn = torch.nn.Conv2d(8, 1, 1)

    def forward(self, x):
        x = x * torch.sigmoid(x.mean((2, 3), keepdim=True)).expand_as(x)
        scores = self.attn(x).view(1, 1, 2, 32).transpose(1, 2).reshape(1, 1, 64)
        weights = torch.softmax(scores, dim=-1).unsqueeze(3)
        return (x.reshape(1, 8, 64).unsqueeze(1) @ weights).view(1, 8, 1, 1)


@pytest.mark.parametrize("decompose", [False, True])
def test_a_matrix_product_of_activations(tmp_path, decompose):
    module = Context().eval()
    report = archcalc.analyze(save(module, tmp_path / "context.pt2", shape=(8, 8, 8), decompose=decompose))
    assert figures(report) == measured(module, (8, 8, 8))
    assert {"matmul", "reshape", "softmax"} <= {row.type for row in report.rows}
