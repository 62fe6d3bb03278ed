"""Property tests over random nets (tests/netgen.py): the whole path spec text -> graph ->
analysis is checked against PyTorch.

- every valid random net verifies layer by layer against its PyTorch twin (output shape,
  parameters, buffers, FLOPs, receptive field, and the backward pass: which inputs need a
  gradient, backward FLOPs per layer, backward and train totals; netgen freezes some convs);
- for unconstrained random nets, archcalc rejects the spec with a clean ArchcalcError exactly
  when PyTorch fails to build or run it.

Runs are derandomized, so CI sees the same examples every time.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings

from archcalc.analysis import analyze
from archcalc.errors import ArchcalcError
from archcalc.graph import load_graph

from netgen import free_nets, valid_nets

torch = pytest.importorskip("torch")
nn = torch.nn

VALID_EXAMPLES = int(__import__("os").environ.get("ARCHCALC_VALID_EXAMPLES", 300))
FREE_EXAMPLES = 1500
SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)


# found by this test: the whole-input probe when no output reaches the input at all (every path
# reads only padding), a join after an adaptive pool in the one-axis probe twins, and fields that
# read padding behind a cropping transposed conv (only "clean" outputs can be compared)
NO_INPUT_READ = ("name: random\ninput: 1x5x5\nlayers:\n- {name: stem, type: adaptive_avgpool2d, output_size: [null, 1]}\n"
                 "- {type: conv2d, out_channels: 1, kernel_size: 1, stride: 2, padding: 1}\n- flatten\n"
                 "- {name: fc, type: linear, out_features: 1, bias: false}\n")
JOIN_AFTER_ADAPTIVE = ("name: random\ninput: 2x5x5\nlayers:\n- {name: stem, type: adaptive_avgpool2d, output_size: [null, 1]}\n"
                       "- name: g0\n  layers:\n  - {name: a, type: conv2d, out_channels: 2, kernel_size: 1}\n  - relu\n"
                       "  - {name: sum, type: add, inputs: [1, input]}\n")
CROPPED = ("name: random\ninput: 1x17x5\nlayers:\n- {name: stem, type: adaptive_avgpool2d, output_size: [null, 3]}\n"
           "- {type: conv_transpose2d, out_channels: 1, kernel_size: 1, padding: [0, 1]}\n"
           "- {name: c1, type: conv2d, out_channels: 2, kernel_size: 3, padding: 1}\n"
           "- {name: t2, type: conv_transpose2d, out_channels: 1, kernel_size: 3, stride: 2, padding: 2, inputs: stem}\n"
           "- {name: c2, type: conv2d, out_channels: 2, kernel_size: 3, padding: 1}\n")


@settings(max_examples=VALID_EXAMPLES, **SETTINGS)
@given(valid_nets())
@example(NO_INPUT_READ)
@example(JOIN_AFTER_ADAPTIVE)
@example(CROPPED)
def test_valid_random_nets_verify_against_torch(text):
    from archcalc.pytorch.verify import verify

    graph = load_graph("random.yaml", text=text)
    analyze(graph)  # a valid net must analyse without error
    result = verify(graph, device="cpu", backward=True)
    if not result.ok:
        lines = [f"  {c.layer} {c.quantity}: archcalc {c.expected!r} != torch {c.actual!r}" for c in result.mismatches]
        pytest.fail("verify found mismatches:\n" + "\n".join(lines) + "\nspec:\n" + text)


# --------------------------------------------------------------------------- torch twin of a plan
def _torch_layer(layer: dict, x):
    """The PyTorch module for one plan entry, built for the actual input ``x``."""
    kind, c = layer["type"], x.shape[1]
    if kind == "conv2d":
        return nn.Conv2d(c, layer["out_channels"], layer["kernel_size"], layer["stride"], layer["padding"], layer["dilation"], layer["groups"])
    if kind == "conv_transpose2d":
        return nn.ConvTranspose2d(c, layer["out_channels"], layer["kernel_size"], layer["stride"], layer["padding"],
                                  layer["output_padding"], layer["groups"], True, layer["dilation"])
    if kind == "maxpool2d":
        return nn.MaxPool2d(layer["kernel_size"], layer.get("stride"), layer["padding"], layer.get("dilation", 1), ceil_mode=layer["ceil_mode"])
    if kind == "avgpool2d":
        return nn.AvgPool2d(layer["kernel_size"], layer.get("stride"), layer["padding"], ceil_mode=layer["ceil_mode"])
    if kind == "upsample":
        return nn.Upsample(scale_factor=layer["scale_factor"], mode="nearest")
    if kind == "adaptive_avgpool2d":
        return nn.AdaptiveAvgPool2d(layer["output_size"])
    if kind == "batchnorm2d":
        return nn.BatchNorm2d(layer["num_features"]).eval()
    raise AssertionError(kind)


def torch_runs(shape, plan) -> bool:
    """Whether PyTorch builds and runs the plan on a batch-1 input (add = torch's broadcasting sum)."""
    values = {-1: torch.zeros(1, *shape)}
    try:
        with torch.no_grad():
            for index, layer in enumerate(plan):
                inputs = [values[i] for i in layer["inputs"]]
                if layer["type"] == "add":
                    out = inputs[0]
                    for other in inputs[1:]:  # torch's + broadcasts (a dimension equal, or 1), as add does
                        out = out + other
                elif layer["type"] == "concat":
                    out = torch.cat(inputs, dim=1)
                else:
                    out = _torch_layer(layer, inputs[0])(inputs[0])
                if out.numel() == 0:
                    return False
                values[index] = out
    except (RuntimeError, ValueError):
        return False
    return True


def archcalc_accepts(text) -> tuple[bool, str]:
    try:
        analyze(load_graph("free.yaml", text=text))
    except ArchcalcError as exc:
        return False, str(exc)
    return True, ""


# found by this test: PyTorch checks max-pool padding against kernel // 2, ignoring dilation
MAXPOOL_DILATED = "name: free\ninput: 1x5x5\nlayers:\n- {type: maxpool2d, kernel_size: 3, padding: 2, dilation: 2, ceil_mode: false, name: l0, inputs: [input]}\n"


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=FREE_EXAMPLES, **SETTINGS)
@given(free_nets())
@example((MAXPOOL_DILATED, (1, 5, 5), [{"type": "maxpool2d", "kernel_size": 3, "padding": 2, "dilation": 2, "ceil_mode": False, "name": "l0", "inputs": [-1]}]))
def test_archcalc_rejects_exactly_what_torch_rejects(case):
    text, shape, plan = case
    accepted, message = archcalc_accepts(text)
    runs = torch_runs(shape, plan)
    assert accepted == runs, (
        f"archcalc {'accepts' if accepted else 'rejects'} ({message or 'no error'}) but PyTorch "
        f"{'runs' if runs else 'fails'}; spec:\n{text}"
    )
    if not accepted:
        assert message.startswith("free.yaml:") and "\n" not in message, message
