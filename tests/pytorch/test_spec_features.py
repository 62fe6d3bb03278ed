"""The spec format's newer parts, proved against PyTorch: frozen groups (requires_grad), auxiliary
heads that run only in training (torchvision's GoogLeNet and Inception v3)."""

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


@pytest.mark.parametrize("name, aux", [("googlenet", ("aux1", "aux2")), ("inception_v3", ("AuxLogits",))])
def test_aux_heads_count_like_torchvision_in_eval_and_train(name, aux):
    """torchvision builds the heads (aux_logits=True): their parameters count; in eval() they do
    not run, so torchvision's eval FLOPs are the spec's eval FLOPs, and in train() its FLOPs are
    the spec's --mode train FLOPs."""
    from torch.utils.flop_counter import FlopCounterMode

    import archcalc
    from archcalc.analysis import analyze
    from archcalc.pytorch.torchvision_models import torchvision_model

    model = torchvision_model(name, init_weights=False)
    graph = archcalc.load(name)
    eval_report, train_report = analyze(graph), analyze(graph, mode="train")
    assert sum(p.numel() for p in model.parameters()) == eval_report.total.params == train_report.total.params
    state = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")}
    ours = {f"{r.name}.{t.name}" for r in eval_report.rows for t in r.param_tensors + r.buffer_tensors}
    assert {k for k in state if k.startswith(aux)} <= ours
    x = torch.zeros((2, *graph.input_shape))
    for mode, report in (("eval", eval_report), ("train", train_report)):
        getattr(model, mode)()
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(x)
        assert counter.get_total_flops() == 2 * report.total.flops, mode
    assert eval_report.total.flops < train_report.total.flops


def test_googlenet_verifies_and_exports_with_its_aux_heads(tmp_path):
    from archcalc.spec.bundled import bundled

    graph = load_graph(bundled()["googlenet"])
    result = verify(graph, device="meta", rf=False, backward=True)
    assert result.ok, result.mismatches
    module_path = tmp_path / "googlenet_exported.py"
    module_path.write_text(to_pytorch_source(graph))
    spec = importlib.util.spec_from_file_location("googlenet_exported", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.build()
    assert "aux1.fc2" in dict(net.named_modules())
    scripted = torch.jit.script(net)
    with torch.no_grad():
        for train in (False, True):
            scripted.train(train)
            assert scripted(torch.zeros(2, 3, 224, 224)).shape == (2, 1000)


BRANCHED = """\
input: 3x8x8
layers:
  - {name: stem, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - name: side
    inputs: stem
    layers: [{type: global_avgpool2d}, {type: flatten}, {name: fc, type: linear, out_features: 3}]
  - name: aux
    inputs: stem
    layers: [{type: global_avgpool2d}, {type: flatten}, {name: fc, type: linear, out_features: 2}]
  - {name: body, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1, inputs: stem}
  - {name: pool, type: global_avgpool2d}
  - {type: flatten}
  - {name: fc, type: linear, out_features: 10}
outputs: [fc, side, {name: aux, mode: train}]
"""


def test_several_outputs_verify_forward_and_backward(tmp_path):
    """loss = the sum of the mode's outputs: in eval the side head takes part in the backward pass,
    the train-only aux head neither runs nor takes part."""
    path = tmp_path / "branched.yaml"
    path.write_text(BRANCHED)
    graph = load_graph(path)
    result = verify(graph, rf=False, backward=True)
    assert result.ok, result.mismatches
    from archcalc.analysis import analyze

    rows = {r.name: r for r in analyze(graph).rows}
    assert rows["side.fc"].backward_weight_flops > 0 and rows["aux.fc"].backward_flops == 0
