"""The spec format's newer parts, proved against PyTorch: frozen groups (requires_grad), ..."""

import importlib.util

import pytest

torch = pytest.importorskip("torch")

from archcalc.graph import load_graph  # noqa: E402
from archcalc.pytorch.export import to_pytorch_source  # noqa: E402
from archcalc.pytorch.verify import verify  # noqa: E402

FROZEN = """\
input: 3x8x8
blocks:
  unit:
    args: {width: null}
    layers:
      - {name: conv, type: conv2d, out_channels: width, kernel_size: 3, padding: 1}
      - {name: bn, type: batchnorm2d}
layers:
  - name: backbone
    trainable: false
    layers:
      - {name: stem, type: conv2d, out_channels: 4, kernel_size: 3}
      - {name: unit, type: unit, width: 4}
      - {name: bn, type: batchnorm2d, trainable: true}
  - {name: head, type: unit, width: 4, trainable: false}
  - {type: flatten}
  - {name: fc, type: linear, out_features: 10}
"""


def exported(tmp_path, text, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    module_path = tmp_path / f"{name}_exported.py"
    module_path.write_text(to_pytorch_source(load_graph(path)))
    spec = importlib.util.spec_from_file_location(f"{name}_exported", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return path, module.build()


def test_a_frozen_group_exports_and_verifies_with_requires_grad_off(tmp_path):
    path, net = exported(tmp_path, FROZEN, "frozen")
    trainable = {name for name, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"backbone.bn.weight", "backbone.bn.bias", "fc.weight", "fc.bias"}
    result = verify(load_graph(path), rf=False, backward=True)
    assert result.ok, result.mismatches
