"""SOURCE arguments (torchvision:NAME, file.py:Class(args), a module instance, .onnx dispatch) in
the commands that take a SPEC, `archcalc import`, the Python API on a module, and every kind of
bad input: one line, exit 2, never a traceback."""

import json
import sys
import textwrap

import pytest
import torch
from typer.testing import CliRunner

import archcalc
from archcalc.cli import app
from archcalc.errors import ArchcalcError

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from cli_checks import assert_clean_error  # noqa: E402

runner = CliRunner()

MODELS = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Net(nn.Module):
        def __init__(self, width=16, classes=10):
            super().__init__()
            self.conv = nn.Conv2d(3, width, 3, padding=1)
            self.bn = nn.BatchNorm2d(width)
            self.branch = nn.Conv2d(width, width, 1)
            self.fc = nn.Linear(width * 2, classes)

        def forward(self, x):
            x = F.relu(self.bn(self.conv(x)))
            y = torch.cat([x, self.branch(x)], 1)
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))

    def make(width=8):
        return Net(width=width)

    INSTANCE = Net(width=4)
    NOT_A_MODULE = 42

    def not_a_module_factory():
        return "resnet"

    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            raise ValueError("this net cannot be built")

    class Raises(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return self.conv(x).view(7, -1, 3)

    class DataDependent(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            x = self.conv(x)
            if x.sum() > 0:
                return x
            return -x

    class Differences(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.head = nn.Conv2d(4, 4, 1)

        def forward(self, x):
            x = self.conv(x)
            x = x.diff(dim=2)
            return x
''')


@pytest.fixture
def models(tmp_path, monkeypatch):
    (tmp_path / "models.py").write_text(MODELS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def totals(args):
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, (result.output, result.exception)
    data = json.loads(result.stdout)
    return data["total"], data["output"], [(r["name"], r["params"], r["flops"], r["output"]) for r in data["layers"]]


def expected(module, shape):
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = module.eval()(torch.zeros(1, *shape))
    return sum(p.numel() for p in module.parameters()), counter.get_total_flops(), list(out.shape[1:])


def test_torchvision_source_equals_the_bundled_spec():
    imported, bundled = totals(["params", "torchvision:resnet18"]), totals(["params", "resnet18"])
    assert imported[0] == bundled[0] and imported[1] == bundled[1]


def test_python_file_class_with_literal_arguments(models):
    total, output, rows = totals(["flops", "models.py:Net(width=32, classes=5)", "--input", "3x16x16"])
    module = sys.modules  # the figures against the same class built here
    namespace = {}
    exec(MODELS, namespace)
    params, flops, out = expected(namespace["Net"](width=32, classes=5), (3, 16, 16))
    assert (total["params"], total["flops"], output) == (params, flops, out)
    assert [r[0] for r in rows][:3] == ["conv", "bn", "relu"] and module


def test_python_file_factory_and_instance(models):
    namespace = {}
    exec(MODELS, namespace)
    total, _, _ = totals(["params", "models.py:make(width=8)"])
    assert total["params"] == expected(namespace["make"](8), (3, 224, 224))[0]
    total, _, _ = totals(["params", "models.py:INSTANCE"])
    assert total["params"] == expected(namespace["Net"](width=4), (3, 224, 224))[0]


def test_import_writes_a_spec_that_analyses_to_the_same_figures(models):
    result = runner.invoke(app, ["import", "models.py:Net", "--input", "3x32x32", "-o", "net.yaml"])
    assert result.exit_code == 0, result.output
    assert (models / "net.yaml").read_text().startswith("# Net: written by archcalc import, imported from models.py:Net")
    assert totals(["summary", "net.yaml"]) == totals(["summary", "models.py:Net", "--input", "3x32x32"])


def test_compare_takes_sources(models):
    result = runner.invoke(app, ["compare", "torchvision:resnet18", "resnet18", "--format", "json"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("source, fragments", [
    ("models.py:NOT_A_MODULE", ["NOT_A_MODULE", "not a module class"]),
    ("models.py:not_a_module_factory", ["gave a str, not a torch.nn.Module"]),
    ("models.py:Broken", ["constructing Broken() raised ValueError: this net cannot be built"]),
    ("models.py:Raises", ["Raises.forward raised", "models.py"]),
    ("models.py:DataDependent", ["data-dependent control flow"]),
    ("models.py:Missing", ["models.py has no 'Missing'"]),
    ("models.py:Net(width=__import__('os'))", ["Python literals", "nothing is evaluated"]),
    ("models.py:Net(**{'width': 3})", ["plain values"]),
    ("nowhere.py:Net", ["nowhere.py", "file not found"]),
    ("models.py:Differences", ["unsupported operation Tensor.diff at the top level (", "models.py:", "--partial"]),
    ("torchvision:resnet_fifty", ["torchvision has no model 'resnet_fifty'"]),
    ("torchvision:resnet18(weights='DEFAULT')", ["never loads weights"]),
    ("missing.onnx", ["missing.onnx", "file not found"]),
])
def test_bad_sources_are_one_line_errors(models, source, fragments):
    assert_clean_error(runner.invoke(app, ["params", source]), *fragments)


def test_a_file_that_is_not_python_is_one_line(models):
    (models / "text.py").write_text("this is not python(\n")
    assert_clean_error(runner.invoke(app, ["params", "text.py:Net"]), "running the file raised SyntaxError")


def test_partial_lists_what_was_not_counted_above_the_totals(models):
    result = runner.invoke(app, ["params", "models.py:Differences", "--partial", "--input", "3x8x8"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    marked = [i for i, line in enumerate(lines) if line.startswith("not counted: Tensor.diff")]
    totals_at = next(i for i, line in enumerate(lines) if line.startswith("Parameters:"))
    assert marked and marked[0] < totals_at
    assert "models.py:" in lines[marked[0]]
    data = json.loads(runner.invoke(app, ["params", "models.py:Differences", "--partial", "--format", "json", "-i", "3x8x8"]).stdout)
    assert data["not_counted"][1] == "head (Conv2d): forward never calls it [20 parameters and buffers not counted]"
    assert data["total"]["params"] == 4 * 3 * 9 + 4 and data["output"] == [4, 6, 6]  # the conv before the difference


def test_partial_needs_an_imported_model():
    assert_clean_error(runner.invoke(app, ["params", "resnet18", "--partial"]), "--partial applies to an imported model")


def test_onnx_without_its_reader_is_refused(models, monkeypatch):
    (models / "net.onnx").write_bytes(b"\x08\x07")
    monkeypatch.setitem(sys.modules, "archcalc.importing.onnx_reader", None)
    assert_clean_error(runner.invoke(app, ["params", "net.onnx"]), "ONNX import is not available in this version")


def test_a_pt2_that_is_not_a_program_is_refused_clearly(models):
    (models / "net.pt2").write_bytes(b"PK")  # more in tests/pytorch/test_import_pt2.py
    assert_clean_error(runner.invoke(app, ["params", "net.pt2"]), "net.pt2", "not a saved torch.export program")


def test_analyze_a_module_returns_the_report():
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 6 * 6, 10))
    report = archcalc.analyze(module, input_shape=(3, 8, 8))
    params, flops, out = expected(module, (3, 8, 8))
    assert (report.total.params, report.total.flops, list(report.output)) == (params, flops, out)
    assert [row.name for row in report.rows] == ["0", "1", "2", "3"]
    assert f"parameters {params:,}" in repr(report) and "<table>" in report._repr_html_()
    assert report.as_json()["total"]["params"] == params


def test_analyze_a_module_needs_an_input_shape_and_a_module():
    with pytest.raises(ArchcalcError, match="input_shape"):
        archcalc.analyze(torch.nn.Conv2d(3, 4, 3))
    with pytest.raises(ArchcalcError, match="partial"):
        archcalc.analyze(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Unfold(2)), input_shape=(3, 8, 8))
    report = archcalc.analyze(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Unfold(2)), input_shape=(3, 8, 8),
                              partial=True)
    assert report.not_counted and "torch.nn.Unfold" in report.not_counted[0]


def test_verify_an_imported_model_against_the_module(models):
    result = runner.invoke(app, ["verify", "torchvision:resnet18", "--device", "meta", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and len(data["checks"]) > 100
    result = runner.invoke(app, ["verify", "models.py:Net", "--device", "cpu", "--input", "3x16x16", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"], result.output
