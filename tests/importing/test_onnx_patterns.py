"""Patterns exporters spread over several nodes, on small graphs built with onnx.helper: GELU
written with Erf (each association of the product the exporters and plain code write) is one
gelu layer; SplitToSequence read by SequenceAt is one channel slice per piece read."""

import pytest

onnx = pytest.importorskip("onnx")

from onnx import helper  # noqa: E402
from onnx_graphs import GELU_ORDERS, erf_gelu, model, save, split_to_sequence, weight  # noqa: E402

import archcalc  # noqa: E402
from archcalc.errors import SpecError  # noqa: E402
from archcalc.importing.onnx_reader import import_onnx  # noqa: E402

N = helper.make_node


def imported(tmp_path, onnx_model):
    return import_onnx(save(tmp_path, onnx_model))


def rows(report):
    return [(r.type, tuple(r.output), r.params, r.macs, r.flops) for r in report.rows]


def error_of(tmp_path, onnx_model) -> str:
    with pytest.raises(SpecError) as caught:
        imported(tmp_path, onnx_model)
    return caught.value.message


@pytest.mark.parametrize("order", GELU_ORDERS)
def test_an_erf_written_gelu_is_one_gelu_layer(tmp_path, order):
    """conv -> GELU -> conv: three layers, the figures of the same spec written by hand."""
    gelu, inits = erf_gelu("c", "g", order)
    nodes = [N("Conv", ["x", "w1"], ["c"], name="conv1"), *gelu, N("Conv", ["g", "w2"], ["y"], name="conv2")]
    inits += [weight("w1", 4, 3, 3, 3), weight("w2", 2, 4, 1, 1)]
    spec, report = imported(tmp_path, model(nodes, [1, 3, 8, 8], inits))
    assert [layer["type"] for layer in spec["layers"]] == ["conv2d", "gelu", "conv2d"]
    assert spec["layers"][1]["approximate"] == "none"
    assert "inputs" not in spec["layers"][2]  # reads the gelu, the layer before it
    expected = archcalc.analyze_text("input: 3x8x8\nlayers:\n"
                                     "  - {type: conv2d, out_channels: 4, kernel_size: 3, bias: false}\n"
                                     "  - gelu\n  - {type: conv2d, out_channels: 2, kernel_size: 1, bias: false}")
    assert rows(report) == rows(expected)


def test_two_gelus_on_one_tensor_and_a_gelu_of_a_vector(tmp_path):
    first, inits1 = erf_gelu("x", "a", "torchscript", prefix="g1")
    second, inits2 = erf_gelu("x", "b", "half_first", prefix="g2")
    flat, inits3 = erf_gelu("f", "y", "dynamo", prefix="g3")
    nodes = [*first, *second, N("Add", ["a", "b"], ["s"]), N("Flatten", ["s"], ["f"]), *flat]
    spec, report = imported(tmp_path, model(nodes, [1, 3, 4, 4], [*inits1, *inits2, *inits3]))
    assert [layer["type"] for layer in spec["layers"]] == ["gelu", "gelu", "add", "flatten", "gelu"]
    assert spec["layers"][1]["inputs"] == "input" and report.rows[-1].output == (48,)


@pytest.mark.parametrize(("change", "message"), [
    ("half", "Div of a computed tensor"),        # x * 0.25 * (1 + erf(x / sqrt 2)) is no GELU
    ("reader", "Div of a computed tensor"),      # the Erf's output read elsewhere too
    ("output", "Div of a computed tensor"),      # 1 + erf(...) is a graph output
])
def test_a_product_that_is_no_gelu_is_refused(tmp_path, change, message):
    gelu, inits = erf_gelu("x", "y", "torchscript", half=0.25 if change == "half" else 0.5)
    outputs = ("y",)
    if change == "reader":
        gelu.append(N("Relu", ["gelu/e"], ["r"]))
        outputs = ("y", "r")
    if change == "output":
        outputs = ("y", "gelu/a")
    text = error_of(tmp_path, model(gelu, [1, 3, 4, 4], inits, outputs=outputs))
    assert message in text and "node 'gelu/Div' (Div)" in text and "\n" not in text


def test_a_lone_erf_or_div_is_refused(tmp_path):
    assert "unsupported ONNX op 'Erf'" in error_of(tmp_path, model([N("Erf", ["x"], ["y"])], [1, 3, 4, 4]))
    div = model([N("Div", ["x", "x"], ["y"], name="d")], [1, 3, 4, 4])
    assert "node 'd' (Div)" in error_of(tmp_path, div)


@pytest.mark.parametrize(("split", "positions", "bounds"), [
    ([2, 4], None, [(0, 2), (2, 6)]),            # torch.split(x, [2, 4], 1)
    (4, None, [(0, 4), (4, 6)]),                 # torch.split(x, 4, 1): the last piece smaller
    (3, [-1, 0], [(3, 6), (0, 3)]),              # a negative position counts from the end
    (None, [5, 0], [(5, 6), (0, 1)]),            # no sizes: single channels (keepdims=1)
])
def test_split_to_sequence_read_by_sequence_at_is_channel_slices(tmp_path, split, positions, bounds):
    nodes, inits = split_to_sequence("x", ["a", "b"], split, positions)
    nodes.append(N("Concat", ["b", "a"], ["y"], axis=1))
    spec, report = imported(tmp_path, model(nodes, [1, 6, 3, 3], inits, opset=18))
    assert [layer["type"] for layer in spec["layers"]] == ["slice", "slice", "concat"]
    assert [(layer["start"], layer["end"]) for layer in spec["layers"][:2]] == bounds
    widths = sum(end - start for start, end in bounds)
    assert report.rows[-1].output == (widths, 3, 3)


@pytest.mark.parametrize(("build", "message"), [
    (lambda: split_to_sequence("x", ["a"], [1, 2], axis=2), "axis 1"),
    (lambda: split_to_sequence("x", ["a"], keepdims=0), "drops the channel axis"),
    (lambda: split_to_sequence("x", ["a"], [2, 4], positions=[2]), "outside the sequence"),
])
def test_split_to_sequence_errors(tmp_path, build, message):
    nodes, inits = build()
    nodes.append(N("Relu", ["a"], ["y"]))
    text = error_of(tmp_path, model(nodes, [1, 6, 3, 3], inits, opset=18))
    assert message in text and "\n" not in text


def test_a_sequence_read_otherwise_is_refused(tmp_path):
    nodes, inits = split_to_sequence("x", [], [2, 4])
    nodes.append(N("ConcatFromSequence", ["split/seq"], ["y"], axis=1))
    text = error_of(tmp_path, model(nodes, [1, 6, 3, 3], inits, opset=18))
    assert "node 'split' (SplitToSequence)" in text and "ConcatFromSequence" in text and "SequenceAt" in text


CONVNEXT_BLOCK = """  - {type: conv2d, out_channels: C, kernel_size: 7, padding: 3, groups: C}
  - {type: permute, dims: [0, 2, 3, 1]}
  - {type: layernorm, over: last, eps: 1.0e-6}
  - {type: linear, out_features: H}
  - gelu
  - {type: linear, out_features: C}
  - {type: permute, dims: [0, 3, 1, 2]}
  - {name: scale, type: layer_scale, channels: C}
  - {type: add, inputs: [scale, input]}
"""


@pytest.mark.parametrize("channels", [8, 160])  # 160: the weights (160 x 640) are counted by their shape alone
def test_a_convnext_block_channels_last(tmp_path, channels):
    """Transpose to channels last, LayerNormalization and MatMul + Add on the last axis, GELU,
    Transpose back, the C x 1 x 1 layer scale: torchvision's ConvNeXt block, layer for layer."""
    from onnx_graphs import convnext_block

    nodes, inits = convnext_block("x", "y", channels)
    spec, report = imported(tmp_path, model(nodes, [1, channels, 6, 5], inits))
    assert [layer["type"] for layer in spec["layers"]] == ["conv2d", "permute", "layernorm", "linear", "gelu", "linear",
                                                           "permute", "layer_scale", "add"]
    assert report.rows[2].output == (6, 5, channels) and report.rows[-1].output == (channels, 6, 5)
    hand = CONVNEXT_BLOCK.replace("H", str(4 * channels)).replace("C", str(channels))
    expected = archcalc.analyze_text(f"input: {channels}x6x5\nlayers:\n{hand}")
    assert rows(report) == rows(expected)
    assert report.total.params == sum(onnx.numpy_helper.to_array(t).size for t in inits if "gelu" not in t.name)


def test_a_transpose_of_the_batch_or_a_layer_norm_over_channels_first_is_refused(tmp_path):
    nodes = [N("LayerNormalization", ["x", "s"], ["y"], axis=1, name="ln")]
    text = error_of(tmp_path, model(nodes, [1, 4, 3, 3], [weight("s", 4, 3, 3)]))
    assert "node 'ln' (LayerNormalization)" in text and "last dimension" in text
