"""1-D (N x C x L) and 3-D (N x C x T x H x W) maps through the ONNX importer, on small graphs
built with onnx.helper: each op becomes the layer type of its rank, with the figures of the same
spec written by hand."""

import pytest

onnx = pytest.importorskip("onnx")

from onnx import helper  # noqa: E402
from onnx_graphs import ints, model, save, weight  # noqa: E402

import archcalc  # noqa: E402
from archcalc.errors import SpecError  # noqa: E402
from archcalc.importing.onnx_reader import import_onnx  # noqa: E402

N = helper.make_node


def imported(tmp_path, onnx_model):
    return import_onnx(save(tmp_path, onnx_model))


def figures(report):
    return [(r.type, tuple(r.output), r.params, r.buffers, r.macs, r.flops) for r in report.rows]


def assert_same(report, layers_yaml: str, input_text: str):
    expected = archcalc.analyze_text(f"input: {input_text}\nlayers:\n{layers_yaml}")
    assert figures(report) == figures(expected)


def types(spec):
    return [layer["type"] for layer in spec["layers"]]


def test_a_1d_net(tmp_path):
    nodes = [N("Conv", ["x", "w1", "b1"], ["c"], strides=[2], pads=[2, 2], dilations=[2], group=2),
             N("BatchNormalization", ["c", "s", "o", "m", "v"], ["n"]), N("Relu", ["n"], ["r"]),
             N("MaxPool", ["r"], ["p"], kernel_shape=[3], strides=[2], pads=[1, 1]),
             N("AveragePool", ["p"], ["a"], kernel_shape=[2], count_include_pad=1),
             N("ConvTranspose", ["a", "w2"], ["t"], strides=[2], pads=[1, 1], output_padding=[1]),
             N("GlobalAveragePool", ["t"], ["g"]), N("Flatten", ["g"], ["y"])]
    inits = [weight("w1", 8, 2, 5), weight("b1", 8), weight("s", 8), weight("o", 8), weight("m", 8),
             weight("v", 8, value=1.0), weight("w2", 8, 6, 3)]
    spec, report = imported(tmp_path, model(nodes, [1, 4, 64], inits))
    assert types(spec) == ["conv1d", "batchnorm1d", "relu", "maxpool1d", "avgpool1d", "conv_transpose1d",
                           "adaptive_avgpool1d", "flatten"]
    assert_same(report, "  - {type: conv1d, out_channels: 8, kernel_size: 5, stride: 2, padding: 2, dilation: 2,"
                        " groups: 2}\n"
                        "  - batchnorm1d\n  - relu\n  - {type: maxpool1d, kernel_size: 3, stride: 2, padding: 1}\n"
                        "  - {type: avgpool1d, kernel_size: 2, stride: 1, count_include_pad: true}\n"
                        "  - {type: conv_transpose1d, out_channels: 6, kernel_size: 3, stride: 2, padding: 1,"
                        " output_padding: 1, bias: false}\n"
                        "  - {type: adaptive_avgpool1d, output_size: 1}\n  - flatten", "4x64")


def test_a_3d_net_as_r3d_18s_stem(tmp_path):
    nodes = [N("Conv", ["x", "w1"], ["c"], kernel_shape=[3, 7, 7], strides=[1, 2, 2], pads=[1, 3, 3, 1, 3, 3]),
             N("BatchNormalization", ["c", "s", "o", "m", "v"], ["n"]), N("Relu", ["n"], ["r"]),
             N("MaxPool", ["r"], ["p"], kernel_shape=[1, 3, 3], strides=[1, 2, 2], pads=[0, 1, 1, 0, 1, 1]),
             N("AveragePool", ["p"], ["a"], kernel_shape=[2, 2, 2], strides=[2, 2, 2]),
             N("ConvTranspose", ["a", "w2", "b2"], ["t"], strides=[1, 2, 2]),
             N("GlobalMaxPool", ["t"], ["g"]), N("Flatten", ["g"], ["y"])]
    inits = [weight("w1", 8, 3, 3, 7, 7), weight("s", 8), weight("o", 8), weight("m", 8), weight("v", 8, value=1.0),
             weight("w2", 8, 4, 1, 2, 2), weight("b2", 4)]
    spec, report = imported(tmp_path, model(nodes, [1, 3, 4, 32, 32], inits))
    assert types(spec) == ["conv3d", "batchnorm3d", "relu", "maxpool3d", "avgpool3d", "conv_transpose3d",
                           "adaptive_maxpool3d", "flatten"]
    assert spec["layers"][0]["padding"] == [1, 3, 3] and spec["layers"][0]["stride"] == [1, 2, 2]
    assert_same(report, "  - {type: conv3d, out_channels: 8, kernel_size: [3, 7, 7], stride: [1, 2, 2], padding: [1, 3, 3],"
                        " bias: false}\n  - batchnorm3d\n  - relu\n"
                        "  - {type: maxpool3d, kernel_size: [1, 3, 3], stride: [1, 2, 2], padding: [0, 1, 1]}\n"
                        "  - {type: avgpool3d, kernel_size: 2}\n"
                        "  - {type: conv_transpose3d, out_channels: 4, kernel_size: [1, 2, 2], stride: [1, 2, 2]}\n"
                        "  - {type: adaptive_maxpool3d, output_size: 1}\n  - flatten", "3x4x32x32")


def test_a_residual_3d_block_and_a_mean_over_the_volume(tmp_path):
    nodes = [N("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1, 1, 1]), N("Add", ["c", "x"], ["s"]),
             N("ReduceMean", ["s", "axes"], ["y"], keepdims=0)]
    spec, report = imported(tmp_path, model(nodes, [1, 4, 3, 5, 5], [weight("w", 4, 4, 3, 3, 3), ints("axes", [2, 3, 4])],
                                            opset=18))
    assert types(spec) == ["conv3d", "add", "adaptive_avgpool3d", "flatten"]
    assert report.rows[-1].output == (4,)


@pytest.mark.parametrize(("nodes", "inits", "shape", "message"), [
    ([N("Conv", ["x", "w"], ["y"], pads=[1, 0, 0, 0, 0, 0])], [weight("w", 2, 3, 1, 1, 1)], [1, 3, 4, 4, 4],
     "asymmetric pads"),
    ([N("ReduceMean", ["x", "axes"], ["y"])], [ints("axes", [2, 3])], [1, 3, 4, 4, 4], "spatial axes [2, 3, 4]"),
    ([N("Resize", ["x", "", "sc"], ["y"])], [weight("sc", 5, value=2.0)], [1, 3, 4, 4, 4], "4-d input"),
])
def test_what_3d_maps_do_not_take(tmp_path, nodes, inits, shape, message):
    with pytest.raises(SpecError) as caught:
        imported(tmp_path, model(nodes, shape, inits, opset=18))
    assert message in caught.value.message and "\n" not in caught.value.message
