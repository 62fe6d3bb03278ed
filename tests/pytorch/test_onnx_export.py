"""`archcalc export --to onnx`: the file loads with onnx, passes onnx.checker's full check, holds
exactly the twin's parameters (the ones eval runs) as initializers under their names, and has the
analysis's output shapes; on a small net with asymmetric padding and joins, onnx's reference
runtime computes what the twin computes."""

from __future__ import annotations

import numpy as np
import pytest

from archcalc import analyze, load
from archcalc.cli import app, run
from cli_checks import assert_clean_error, runner

onnx = pytest.importorskip("onnx", reason="onnx, for export --to onnx")
pytest.importorskip("onnxscript", reason="onnxscript, for export --to onnx")
torch = pytest.importorskip("torch")

ASYMMETRIC = """name: asym_joins
input: 3x33x31
outputs: [fc, cat]
layers:
  - {name: stem, type: conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: tf_same}
  - {name: a, type: conv2d, out_channels: 8, kernel_size: 3, padding: [0, 2, 1, 1], bias: false, inputs: [stem]}
  - {name: b, type: maxpool2d, kernel_size: 3, stride: 1, padding: [1, 1, 0, 2], inputs: [stem]}
  - {name: sum, type: add, inputs: [a, b]}
  - {name: cat, type: concat, inputs: [sum, stem]}
  - {name: bn, type: batchnorm2d}
  - {name: relu, type: relu}
  - {name: pool, type: global_avgpool2d}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out_features: 5}
"""


def export(tmp_path, spec, *extra):
    target = tmp_path / "net.onnx"
    result = runner.invoke(app, ["export", spec, "--to", "onnx", "-o", str(target), *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout == "" and "onnx.checker passed" in result.stderr
    return target, result.stderr


def check(path, spec, batch=1, outputs=None):
    """The checks every exported net passes; returns the model."""
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    report = analyze(load(spec))
    twin = {name: tuple(p.shape) for name, p in _twin(spec).named_parameters()}
    active = {r.name for r in report.rows if r.active}
    initializers = {i.name: tuple(i.dims) for i in model.graph.initializer}
    expected = {name: shape for name, shape in twin.items() if name.rsplit(".", 1)[0] in active}
    assert {n: s for n, s in initializers.items() if n in twin} == expected  # every parameter eval runs, by name
    assert sum(int(np.prod(s)) for s in expected.values()) == sum(r.params for r in report.rows if r.active)
    # besides the parameters, only the running statistics of batch norms, and small integer constants
    others = [i for i in model.graph.initializer if i.name not in twin]
    for tensor in others:
        assert tensor.name.endswith((".running_mean", ".running_var")) or (
            tensor.data_type == onnx.TensorProto.INT64 and int(np.prod(tensor.dims)) <= 8), tensor.name
    shapes = [tuple(d.dim_value for d in o.type.tensor_type.shape.dim) for o in model.graph.output]
    assert shapes == [(batch, *s) for s in (outputs or [report.output])]
    assert [i.name for i in model.graph.input] == ["input"]
    assert tuple(d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim) == (batch, *report.input)
    assert not any(p.key == "pkg.torch.onnx.stack_trace" for n in model.graph.node for p in n.metadata_props)
    return model


def _twin(spec):
    from archcalc.pytorch.twin import build_module

    return build_module(load(spec))


def test_resnet50(tmp_path):
    path, note = export(tmp_path, "resnet50")
    model = check(path, "resnet50")
    ops = [n.op_type for n in model.graph.node]
    # the spec's layers, unfused: 53 convolutions and 53 batch norms, 16 adds; no bias for bias-less convs
    assert ops.count("Conv") == 53 and ops.count("BatchNormalization") == 53 and ops.count("Add") == 16
    assert all(len(n.input) == 2 for n in model.graph.node if n.op_type == "Conv")
    assert "25,557,032 parameters" in note


def test_googlenet_in_eval_mode_leaves_out_the_auxiliary_heads(tmp_path):
    path, _ = export(tmp_path, "googlenet", "--batch", "2")
    model = check(path, "googlenet", batch=2)
    assert not [i.name for i in model.graph.initializer if i.name.startswith("aux")]
    assert [n.op_type for n in model.graph.node].count("Concat") == 9


def test_asymmetric_padding_joins_and_two_outputs_compute_what_the_twin_computes(tmp_path):
    from onnx.reference import ReferenceEvaluator

    spec = tmp_path / "asym.yaml"
    spec.write_text(ASYMMETRIC)
    path, note = export(tmp_path, str(spec))
    report = analyze(load(str(spec)))
    cat = next(r for r in report.rows if r.name == "cat")
    model = check(path, str(spec), outputs=[report.output, cat.output])
    assert [o.name for o in model.graph.output] == ["output", "output_1"]
    assert {"Pad", "Concat", "Add", "MaxPool"} <= {n.op_type for n in model.graph.node}
    assert "output 1x5, output_1 1x16x17x16" in note
    # the file's weights put back into a fresh twin: the reference runtime agrees with it
    twin = _twin(str(spec)).eval()
    state = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in model.graph.initializer
             if i.name in twin.state_dict()}
    twin.load_state_dict(state, strict=False)
    x = np.random.default_rng(0).standard_normal((1, 3, 33, 31)).astype(np.float32)
    got = ReferenceEvaluator(model).run(None, {"input": x})
    with torch.no_grad():
        out = twin(torch.from_numpy(x))
    expected = [out, *out.archcalc_extra_outputs]
    assert len(got) == 2
    for mine, theirs in zip(got, expected):
        assert mine.shape == tuple(theirs.shape)
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-5, atol=1e-5)


CNBLOCK = """name: cnblock
input: 3x13x11
layers:
  - {name: stem, type: conv2d, out_channels: 8, kernel_size: 2, stride: 2}
  - name: block
    layers:
      - {type: conv2d, out_channels: 8, kernel_size: 7, padding: 3, groups: 8}
      - {type: permute, dims: [0, 2, 3, 1]}
      - {type: layernorm, over: last, eps: 1.0e-6}
      - {type: linear, out_features: 32}
      - {type: gelu}
      - {type: linear, out_features: 8}
      - {type: permute, dims: [0, 3, 1, 2]}
  - {name: gamma, type: layer_scale, init: 0.5}
  - {name: res, type: add, inputs: [gamma, stem]}
  - {name: pool, type: global_avgpool2d}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out_features: 5}
"""


def test_a_permuted_block_keeps_every_weight_named_and_computes_what_the_twin_computes(tmp_path):
    """ConvNeXt's channels-last stretch (Transpose, LayerNormalization over the last axis, MatMul
    with the linears' weights): the weights stay initializers under their names (the folder would
    otherwise fold their transposes into new, unnamed ones) and the reference runtime agrees."""
    from onnx.reference import ReferenceEvaluator

    spec = tmp_path / "permuted.yaml"
    spec.write_text(CNBLOCK)
    path, note = export(tmp_path, str(spec))
    model = check(path, str(spec))
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("MatMul") == 2 and ops.count("Transpose") >= 2 and "LayerNormalization" in ops
    report = analyze(load(str(spec)))
    assert f"{report.total.params:,} parameters" in note
    twin = _twin(str(spec)).eval()
    twin.load_state_dict({i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in model.graph.initializer
                          if i.name in twin.state_dict()}, strict=False)
    x = np.random.default_rng(0).standard_normal((1, *report.input)).astype(np.float32)
    (got,) = ReferenceEvaluator(model).run(None, {"input": x})
    with torch.no_grad():
        np.testing.assert_allclose(got, twin(torch.from_numpy(x)).numpy(), rtol=1e-4, atol=1e-5)


def test_input_and_set_apply(tmp_path):
    path, _ = export(tmp_path, "lenet5", "--set", "num_classes=7", "--input", "1x36x36", "--batch", "3")
    model = onnx.load(str(path))
    assert [tuple(d.dim_value for d in o.type.tensor_type.shape.dim) for o in model.graph.output] == [(3, 7)]
    assert tuple(d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim) == (3, 1, 36, 36)


def test_python_stays_the_default(tmp_path):
    result = runner.invoke(app, ["export", "lenet5"])
    assert result.exit_code == 0 and "def build(" in result.stdout
    same = runner.invoke(app, ["export", "lenet5", "--to", "python"])
    assert same.stdout == result.stdout == runner.invoke(app, ["export", "lenet5", "--to", "pytorch"]).stdout


def test_mistakes_are_one_line(tmp_path, capsys, monkeypatch):
    assert_clean_error(runner.invoke(app, ["export", "lenet5", "--to", "onnx"]), "--output FILE.onnx")
    assert_clean_error(runner.invoke(app, ["export", "lenet5", "--batch", "2"]), "--batch applies to --to onnx")
    assert_clean_error(runner.invoke(app, ["export", "lenet5", "--to", "onnx", "-o", str(tmp_path / "no" / "x.onnx")]),
                       "cannot write")
    assert run(["export", "lenet5", "--to", "tflite"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "tflite" in err
    monkeypatch.setitem(__import__("sys").modules, "onnxscript", None)
    message = assert_clean_error(runner.invoke(app, ["export", "lenet5", "--to", "onnx", "-o", str(tmp_path / "x.onnx")]))
    assert 'pip install "archcalc[onnx-export]"' in message


def test_large_weights_go_beside_the_model(tmp_path, monkeypatch):
    from archcalc.pytorch import onnx_export

    monkeypatch.setattr(onnx_export, "INLINE_LIMIT", 0)  # as if lenet5 had 2 GB of weights
    path, note = export(tmp_path, "lenet5")
    assert "weights in net.onnx.data" in note
    assert (tmp_path / "net.onnx.data").stat().st_size > 60_000 * 4 > 20 * path.stat().st_size  # (tensors under 1 KB stay inline)
    check(path, "lenet5")  # onnx.load reads the weights back from beside it
