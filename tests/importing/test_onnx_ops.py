"""Each ONNX op the importer maps, on a small graph built with onnx.helper: the layer it becomes
(type and arguments) and the same figures as the spec written by hand. The importer itself
checks every layer's output shape against onnx.shape_inference and its parameters and buffers
against the initializers it reads."""

import pytest

onnx = pytest.importorskip("onnx")

from onnx import helper  # noqa: E402
from onnx_graphs import floats, ints, model, save, weight  # noqa: E402

import archcalc  # noqa: E402
from archcalc.importing.onnx_reader import import_onnx, spec_text  # noqa: E402

N = helper.make_node


def imported(tmp_path, onnx_model, input_shape=None):
    return import_onnx(save(tmp_path, onnx_model), input_shape)


def figures(report):
    return [(r.type, tuple(r.output), r.params, r.buffers, r.macs, r.flops) for r in report.rows]


def assert_same(report, layers_yaml: str, input_text: str):
    expected = archcalc.analyze_text(f"input: {input_text}\nlayers:\n{layers_yaml}")
    assert figures(report) == figures(expected)
    assert (report.total.params, report.total.macs, report.total.flops) == (
        expected.total.params, expected.total.macs, expected.total.flops)


def types(spec):
    return [layer["type"] for layer in spec["layers"]]


def test_conv_with_bias_groups_asymmetric_pads_and_dilation(tmp_path):
    nodes = [N("Conv", ["x", "w", "b"], ["y"], name="conv/1", group=2, strides=[2, 1], pads=[1, 0, 2, 1],
               dilations=[1, 2], kernel_shape=[3, 3])]
    spec, report = imported(tmp_path, model(nodes, [1, 4, 17, 16], [weight("w", 6, 2, 3, 3), weight("b", 6)]))
    layer = spec["layers"][0]
    assert layer == {"name": "conv_1", "type": "conv2d", "in_channels": 4, "out_channels": 6, "kernel_size": 3,
                     "stride": [2, 1], "padding": [1, 2, 0, 1], "dilation": [1, 2], "groups": 2, "bias": True}
    assert_same(report, "  - {type: conv2d, out_channels: 6, kernel_size: 3, stride: [2, 1], padding: [1, 2, 0, 1],"
                        " dilation: [1, 2], groups: 2}", "4x17x16")
    assert report.rows[0].params == 6 * 2 * 9 + 6


def test_conv_same_upper_auto_pad_becomes_explicit_padding(tmp_path):
    nodes = [N("Conv", ["x", "w"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2])]
    spec, report = imported(tmp_path, model(nodes, [1, 3, 8, 8], [weight("w", 4, 3, 3, 3)]))
    assert spec["layers"][0]["padding"] == [0, 1, 0, 1] and report.rows[0].output == (4, 4, 4)


def test_conv_transpose(tmp_path):
    nodes = [N("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])]
    spec, report = imported(tmp_path, model(nodes, [1, 8, 5, 5], [weight("w", 8, 3, 3, 3), weight("b", 3)]))
    assert types(spec) == ["conv_transpose2d"]
    assert_same(report, "  - {type: conv_transpose2d, out_channels: 3, kernel_size: 3, stride: 2, padding: 1,"
                        " output_padding: 1}", "8x5x5")


def test_gemm_and_matmul_with_add_are_linear_layers(tmp_path):
    nodes = [N("Flatten", ["x"], ["f"]), N("Gemm", ["f", "w1", "b1"], ["h"], transB=1),
             N("MatMul", ["h", "w2"], ["m"]), N("Add", ["m", "b2"], ["y2"]), N("MatMul", ["y2", "w3"], ["y"])]
    inits = [weight("w1", 10, 12), weight("b1", 10), weight("w2", 10, 7), weight("b2", 7), weight("w3", 7, 5)]
    spec, report = imported(tmp_path, model(nodes, [1, 3, 2, 2], inits))
    assert types(spec) == ["flatten", "linear", "linear", "linear"]
    assert [layer["bias"] for layer in spec["layers"][1:]] == [True, True, False]
    assert_same(report, "  - flatten\n  - {type: linear, out_features: 10}\n  - {type: linear, out_features: 7}\n"
                        "  - {type: linear, out_features: 5, bias: false}", "3x2x2")


def test_pools(tmp_path):
    nodes = [N("MaxPool", ["x"], ["a"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1),
             N("AveragePool", ["a"], ["b"], kernel_shape=[2, 2], strides=[1, 1], pads=[1, 1, 0, 0],
               count_include_pad=1),
             N("GlobalMaxPool", ["b"], ["c"]), N("GlobalAveragePool", ["c"], ["y"])]
    spec, report = imported(tmp_path, model(nodes, [1, 3, 10, 10]))
    assert types(spec) == ["maxpool2d", "avgpool2d", "global_maxpool2d", "global_avgpool2d"]
    assert_same(report, "  - {type: maxpool2d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}\n"
                        "  - {type: avgpool2d, kernel_size: 2, stride: 1, padding: [1, 0, 1, 0]}\n"
                        "  - global_maxpool2d\n  - global_avgpool2d", "3x10x10")


@pytest.mark.parametrize("opset", [13, 18])
def test_reduce_mean_over_h_and_w_is_a_global_pool(tmp_path, opset):
    """x.mean((2, 3)): axes as an attribute (opset 13) or an input (18); keepdims=0 adds a flatten."""
    if opset < 18:
        node, inits = N("ReduceMean", ["x"], ["y"], axes=[-1, -2], keepdims=0), []
    else:
        node, inits = N("ReduceMean", ["x", "axes"], ["y"], keepdims=0), [ints("axes", [2, 3])]
    spec, report = imported(tmp_path, model([node], [1, 5, 4, 4], inits, opset=opset))
    assert types(spec) == ["global_avgpool2d", "flatten"] and report.rows[-1].output == (5,)


def test_batch_norm_counts_scale_and_shift_as_parameters_and_statistics_as_buffers(tmp_path):
    nodes = [N("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)]
    inits = [weight("s", 6), weight("b", 6), weight("m", 6), weight("v", 6, value=1.0)]
    spec, report = imported(tmp_path, model(nodes, [1, 6, 4, 4], inits))
    assert spec["layers"][0]["type"] == "batchnorm2d" and spec["layers"][0]["eps"] == pytest.approx(1e-3)
    assert (report.rows[0].params, report.rows[0].buffers) == (12, 13)  # + torch's num_batches_tracked
    assert_same(report, "  - {type: batchnorm2d, eps: 0.001}", "6x4x4")


@pytest.mark.parametrize(("node", "inits", "expected", "opset"), [
    (N("Relu", ["x"], ["y"]), [], {"type": "relu"}, 17),
    (N("Sigmoid", ["x"], ["y"]), [], {"type": "sigmoid"}, 17),
    (N("Tanh", ["x"], ["y"]), [], {"type": "tanh"}, 17),
    (N("LeakyRelu", ["x"], ["y"], alpha=0.2), [], {"type": "leaky_relu", "negative_slope": 0.2}, 17),
    (N("Elu", ["x"], ["y"], alpha=0.5), [], {"type": "elu", "alpha": 0.5}, 17),
    (N("Gelu", ["x"], ["y"], approximate="tanh"), [], {"type": "gelu", "approximate": "tanh"}, 20),
    (N("HardSwish", ["x"], ["y"]), [], {"type": "hardswish"}, 17),
    (N("HardSigmoid", ["x"], ["y"], alpha=1 / 6), [], {"type": "hardsigmoid"}, 17),
    (N("Clip", ["x", "lo", "hi"], ["y"]), [floats("lo", 0), floats("hi", 6)], {"type": "relu6"}, 17),
    (N("Clip", ["x", "lo"], ["y"]), [floats("lo", 0)], {"type": "relu"}, 17),
    (N("Clip", ["x"], ["y"], min=0.0, max=6.0), [], {"type": "relu6"}, 6),
    (N("Softmax", ["x"], ["y"], axis=1), [], {"type": "softmax", "dim": 0}, 17),
    (N("Dropout", ["x"], ["y"], ratio=0.3), [], {"type": "dropout", "p": pytest.approx(0.3)}, 10),
    (N("LRN", ["x"], ["y"], size=5, alpha=1e-4, beta=0.75, bias=2.0), [],
     {"type": "local_response_norm", "size": 5, "k": 2.0}, 17),
])
def test_activations_and_element_wise_layers(tmp_path, node, inits, expected, opset):
    spec, report = imported(tmp_path, model([node], [1, 4, 6, 6], inits, opset=opset))
    layer = spec["layers"][0]
    assert len(spec["layers"]) == 1 and {key: layer[key] for key in expected} == expected
    assert report.rows[0].output == (4, 6, 6) and report.total.params == 0


@pytest.mark.parametrize(("gate", "attributes", "fused"), [("Sigmoid", {}, "silu"),
                                                           ("HardSigmoid", {"alpha": 1 / 6}, "hardswish")])
def test_x_times_its_own_gate_is_one_activation(tmp_path, gate, attributes, fused):
    """x * Sigmoid(x) is SiLU as exported, x * HardSigmoid(x) (alpha 1/6) Hardswish."""
    nodes = [N(gate, ["x"], ["g"], **attributes), N("Mul", ["g", "x"], ["y"])]
    spec, _ = imported(tmp_path, model(nodes, [1, 4, 6, 6]))
    assert types(spec) == [fused]


def test_a_gate_on_another_tensor_stays_a_gate_and_a_product(tmp_path):
    """Squeeze-excitation: x * Sigmoid(s), s a pooled branch: sigmoid and mul, broadcast."""
    nodes = [N("GlobalAveragePool", ["x"], ["p"]), N("Sigmoid", ["p"], ["g"]), N("Mul", ["x", "g"], ["y"])]
    spec, report = imported(tmp_path, model(nodes, [1, 4, 6, 6]))
    assert types(spec) == ["global_avgpool2d", "sigmoid", "mul"]
    assert spec["layers"][2]["inputs"] == ["input", spec["layers"][1]["name"]]
    assert report.rows[-1].output == (4, 6, 6)


def test_residual_add_concat_and_layer_scale(tmp_path):
    nodes = [N("Relu", ["x"], ["a"], name="r"), N("Add", ["a", "x"], ["s"], name="add"),
             N("Concat", ["s", "x"], ["c"], axis=1, name="cat"), N("Mul", ["c", "gamma"], ["y"], name="scale")]
    spec, report = imported(tmp_path, model(nodes, [1, 3, 4, 4], [weight("gamma", 6, 1, 1)]))
    assert types(spec) == ["relu", "add", "concat", "layer_scale"]
    assert spec["layers"][1]["inputs"] == ["r", "input"] and spec["layers"][2]["inputs"] == ["add", "input"]
    assert report.rows[-1].params == 6 and report.rows[-1].output == (6, 4, 4)


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_split_into_channel_slices(tmp_path, opset):
    if opset == 11:
        node, inits = N("Split", ["x"], ["a", "b"], axis=1, split=[2, 4]), []
    elif opset == 13:
        node, inits = N("Split", ["x", "sizes"], ["a", "b"], axis=1), [ints("sizes", [2, 4])]
    else:
        node, inits = N("Split", ["x"], ["a", "b"], axis=1, num_outputs=2), []
    nodes = [node, N("Concat", ["b", "a"], ["y"], axis=1)]
    spec, report = imported(tmp_path, model(nodes, [1, 6, 3, 3], inits, opset=opset))
    assert types(spec) == ["slice", "slice", "concat"]
    bounds = [(layer["start"], layer["end"]) for layer in spec["layers"][:2]]
    assert bounds == ([(0, 2), (2, 6)] if opset != 18 else [(0, 3), (3, 6)])
    assert report.rows[-1].output == (6, 3, 3)


def test_slice_of_the_channels(tmp_path):
    nodes = [N("Slice", ["x", "st", "en", "ax"], ["y"])]
    inits = [ints("st", [1]), ints("en", [1 << 62]), ints("ax", [1])]
    spec, report = imported(tmp_path, model(nodes, [1, 5, 3, 3], inits))
    assert spec["layers"][0]["type"] == "slice" and (spec["layers"][0]["start"], spec["layers"][0]["end"]) == (1, 5)


def test_reshape_through_a_shape_chain_is_a_flatten(tmp_path):
    """x.view(x.size(0), -1) as the TorchScript exporter writes it: Shape, Gather, Unsqueeze,
    Concat with a Constant -1, all computed at import."""
    nodes = [N("Shape", ["x"], ["s"]), N("Constant", [], ["i0"], value=helper.make_tensor("i0", 7, [], [0])),
             N("Gather", ["s", "i0"], ["n"], axis=0), N("Unsqueeze", ["n", "ax"], ["n1"]),
             N("Constant", [], ["m1"], value_ints=[-1]), N("Concat", ["n1", "m1"], ["shape"], axis=0),
             N("Reshape", ["x", "shape"], ["y"], name="view")]
    spec, report = imported(tmp_path, model(nodes, [1, 4, 3, 3], [ints("ax", [0])]))
    assert types(spec) == ["flatten"] and spec["layers"][0]["name"] == "view"
    assert report.rows[0].output == (36,)


def test_reshape_of_a_vector_to_a_map_and_back(tmp_path):
    nodes = [N("Reshape", ["x", "to_map"], ["m"]), N("Relu", ["m"], ["r"]), N("Reshape", ["r", "to_vec"], ["y"])]
    spec, report = imported(tmp_path, model(nodes, [1, 48], [ints("to_map", [1, 3, 4, 4]), ints("to_vec", [0, -1])]))
    assert types(spec) == ["reshape", "relu", "flatten"] and spec["layers"][0]["shape"] == [3, 4, 4]


@pytest.mark.parametrize("clone", [False, True])
def test_channel_shuffle_as_exported(tmp_path, clone):
    """Reshape to N x g x C/g x H x W, Transpose (0, 2, 1, 3, 4), Reshape back: one layer (the
    dynamo exporter puts an Identity, its clone, before the last Reshape)."""
    copy = [N("Identity", ["t"], ["t2"])] if clone else []
    nodes = [N("Reshape", ["x", "split"], ["a"], name="shuffle"), N("Transpose", ["a"], ["t"], perm=[0, 2, 1, 3, 4]),
             *copy, N("Reshape", ["t2" if clone else "t", "back"], ["y"])]
    inits = [ints("split", [1, 2, 3, 5, 5]), ints("back", [1, -1, 5, 5])]
    spec, report = imported(tmp_path, model(nodes, [1, 6, 5, 5], inits))
    assert spec["layers"] == [{"name": "shuffle", "type": "channel_shuffle", "groups": 2}]


def test_identity_dropout_flatten_of_a_vector_and_an_identity_transpose_add_no_layer(tmp_path):
    nodes = [N("Identity", ["x"], ["a"]), N("Transpose", ["a"], ["b"], perm=[0, 1, 2, 3]), N("Flatten", ["b"], ["c"]),
             N("Flatten", ["c"], ["d"]), N("Relu", ["d"], ["y"])]
    spec, _ = imported(tmp_path, model(nodes, [1, 2, 3, 3]))
    assert types(spec) == ["flatten", "relu"]


@pytest.mark.parametrize(("mode", "layer_mode"), [("constant", "constant"), ("reflect", "reflect"),
                                                  ("edge", "replicate"), ("wrap", "circular")])
def test_pad(tmp_path, mode, layer_mode):
    nodes = [N("Pad", ["x", "pads"], ["y"], mode=mode)]
    spec, report = imported(tmp_path, model(nodes, [1, 2, 5, 5], [ints("pads", [0, 0, 1, 2, 0, 0, 3, 1])], opset=19))
    assert spec["layers"][0]["padding"] == [1, 3, 2, 1] and spec["layers"][0]["mode"] == layer_mode
    assert report.rows[0].output == (2, 9, 8)


def test_resize_nearest_by_scales_and_bilinear_to_a_size(tmp_path):
    nodes = [N("Resize", ["x", "", "scales"], ["a"], mode="nearest", coordinate_transformation_mode="asymmetric",
               nearest_mode="floor"),
             N("Resize", ["a", "", "", "sizes"], ["y"], mode="linear", coordinate_transformation_mode="half_pixel")]
    inits = [floats("scales", [1, 1, 2, 2]), ints("sizes", [1, 3, 13, 11])]
    spec, report = imported(tmp_path, model(nodes, [1, 3, 4, 5], inits))
    assert [(layer["type"], layer.get("scale_factor"), layer.get("size"), layer["mode"]) for layer in spec["layers"]] == [
        ("upsample", 2, None, "nearest"), ("upsample", None, [13, 11], "bilinear")]
    assert report.rows[-1].output == (3, 13, 11)


def test_upsample_of_opset_9(tmp_path):
    nodes = [N("Upsample", ["x", "scales"], ["y"], mode="nearest")]
    spec, report = imported(tmp_path, model(nodes, [1, 3, 4, 4], [floats("scales", [1, 1, 3, 3])], opset=9))
    assert spec["layers"][0]["scale_factor"] == 3 and report.rows[0].output == (3, 12, 12)


def test_identity_aliases_of_initializers_count_once_per_layer(tmp_path):
    """The TorchScript exporter stores equal initializers once and reads the copies through
    Identity: each layer still counts its own weights."""
    nodes = [N("Identity", ["w"], ["w2"]), N("Conv", ["x", "w"], ["a"], pads=[1, 1, 1, 1]),
             N("Conv", ["a", "w2"], ["y"], pads=[1, 1, 1, 1])]
    _, report = imported(tmp_path, model(nodes, [1, 3, 5, 5], [weight("w", 3, 3, 3, 3)]))
    assert [row.params for row in report.rows] == [81, 81]


def test_the_spec_round_trips_through_yaml(tmp_path):
    nodes = [N("Conv", ["x", "w"], ["a"], name="stem.conv"), N("Relu", ["a"], ["r"]),
             N("Add", ["r", "a"], ["y"], name="input")]
    spec, report = imported(tmp_path, model(nodes, [1, 3, 8, 8], [weight("w", 4, 3, 3, 3)]))
    assert [layer["name"] for layer in spec["layers"]] == ["stem_conv", "Relu_1", "input_"]
    again = archcalc.analyze_text(spec_text(spec))
    assert figures(again) == figures(report) and spec["output"] == "input_"


def test_large_weights_are_counted_from_their_shape(tmp_path):
    """A weight past the value limit is read for its shape only (never its data)."""
    nodes = [N("Flatten", ["x"], ["f"]), N("Gemm", ["f", "w"], ["y"], transB=1)]
    _, report = imported(tmp_path, model(nodes, [1, 256, 4, 4], [weight("w", 100, 4096)]))
    assert report.total.params == 409_600


def test_a_dynamic_input_takes_the_given_shape(tmp_path):
    nodes = [N("Conv", ["x", "w"], ["y"], strides=[2, 2])]
    spec, report = imported(tmp_path, model(nodes, ["N", 3, "H", "W"], [weight("w", 8, 3, 3, 3)]), "3x33x21")
    assert spec["input"] == [3, 33, 21] and spec["batch"] == 1 and report.rows[0].output == (8, 16, 10)


def test_repeated_node_names_are_numbered(tmp_path):
    nodes = [N("Relu", ["x"], ["a"], name="same"), N("Relu", ["a"], ["b"], name="same"),
             N("Relu", ["b"], ["c"], name="same_2"), N("Sum", ["c"], ["d"], name="same"), N("Relu", ["d"], ["y"], name="same")]
    spec, _ = imported(tmp_path, model(nodes, [1, 2, 3, 3]))
    assert [layer["name"] for layer in spec["layers"]] == ["same", "same_2", "same_2_2", "same_3"]


def test_torchscript_scopes_read_as_module_paths():
    from archcalc.importing.onnx_reader import safe_name

    assert safe_name("/layer1/layer1.0/conv1/Conv") == "layer1_0_conv1_Conv"
    assert safe_name("/features/features.denseblock1/features.denseblock1.denselayer1/Concat") == (
        "features_denseblock1_denselayer1_Concat")
    assert safe_name("-bad name\n;drop") == "bad_name_drop" and safe_name("///") == ""


def test_the_import_runs_without_torch(tmp_path):
    """Reading ONNX needs onnx only: torch is never imported on this path."""
    import subprocess
    import sys
    from pathlib import Path

    path = save(tmp_path, model([N("Conv", ["x", "w"], ["y"])], [1, 3, 8, 8], [weight("w", 4, 3, 3, 3)]))
    code = ("import sys; from archcalc.importing.onnx_reader import analyze_onnx; "
            f"print(analyze_onnx({path!r}).total.params, 'torch' in sys.modules)")
    root = str(Path(__file__).resolve().parents[2])
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                            env={"PYTHONPATH": root, "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.stdout.split() == ["108", "False"], result.stderr  # 4 x 3 x 3 x 3, no bias
