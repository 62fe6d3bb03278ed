"""The SOURCE dispatch without torch: which arguments name a model to import, the constructor
arguments read as literals (never evaluated), and that a spec still loads without importing torch."""

import subprocess
import sys
from pathlib import Path

import pytest

from archcalc.errors import ArchcalcError
from archcalc.importing.sources import parse_source

ROOT = Path(__file__).resolve().parents[2]


def test_model_sources_are_recognised(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = parse_source("torchvision:resnet50")
    assert (source.kind, source.target, source.name) == ("torchvision", "resnet50", "resnet50")
    source = parse_source("timm:efficientnet_b0(num_classes=10, drop_rate=0.2)")
    assert (source.kind, source.kwargs) == ("timm", {"num_classes": 10, "drop_rate": 0.2})
    source = parse_source("nets/model.py:Net(64, sizes=[1, 2], table={'a': (1, 2)})")
    assert (source.kind, source.file, source.target, source.args) == ("python", "nets/model.py", "Net", (64,))
    assert source.kwargs == {"sizes": [1, 2], "table": {"a": (1, 2)}}
    (tmp_path / "net.onnx").write_bytes(b"")
    (tmp_path / "prog.pt2").write_bytes(b"")
    assert parse_source("net.onnx").kind == "onnx" and parse_source("prog.pt2").kind == "pt2"


def test_specs_and_bundled_names_are_not_sources(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argument in ("resnet50", "architectures/resnet50.yaml", "resnet:resnet50", "architectures/resnet.yaml:resnet18"):
        assert parse_source(argument) is None
    (tmp_path / "torchvision:resnet50").write_text("an existing file wins")
    assert parse_source("torchvision:resnet50") is None


@pytest.mark.parametrize("argument, fragment", [
    ("model.py:Net(__import__('os').system('true'))", "nothing is evaluated"),
    ("model.py:Net(width=open('x'))", "nothing is evaluated"),
    ("model.py:Net(*args)", "plain values"),
    ("model.py:Net(width=", "expected NAME or NAME(arguments)"),
    ("model.py:Net(width=))", "not valid Python"),
    ("torchvision:resnet 50", "NAME(arguments)"),
    ("missing.onnx", "file not found"),
])
def test_malformed_sources_are_one_clear_error(argument, fragment):
    with pytest.raises(ArchcalcError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_source(argument)


def test_a_spec_command_imports_no_torch():
    code = ("import sys; from archcalc.cli import run; code = run(['params', 'architectures/resnet50.yaml']); "
            "assert code == 0, code; assert 'torch' not in sys.modules, 'torch was imported'; "
            "import archcalc; archcalc.analyze('resnet50'); assert 'torch' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
