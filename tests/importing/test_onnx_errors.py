"""Untrusted ONNX input: every mistake is one line naming the file (and the op and node where
there is one), exit status 2 through the command line's guarded runner; never a traceback, and
no file read outside the model's directory."""

import pytest

onnx = pytest.importorskip("onnx")

import typer  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402
from onnx_graphs import floats, ints, model, save, weight  # noqa: E402

from archcalc.cli.app import run_guarded  # noqa: E402
from archcalc.errors import ArchcalcError  # noqa: E402
from archcalc.importing.onnx_reader import analyze_onnx, spec_from_onnx  # noqa: E402

N = helper.make_node


def conv_net():
    return model([N("Conv", ["x", "w"], ["a"], name="stem"), N("Relu", ["a"], ["y"], name="act")], [1, 3, 8, 8],
                 [weight("w", 4, 3, 3, 3)])


def error_of(path, input_shape=None) -> str:
    with pytest.raises(ArchcalcError) as caught:
        spec_from_onnx(path, input_shape)
    text = str(caught.value)
    assert "\n" not in text and caught.value.exit_code == 2
    return text


def test_the_command_line_says_one_line_and_exits_2(tmp_path, capsys):
    path = save(tmp_path, model([N("Erf", ["x"], ["y"], name="gelu/erf")], [1, 3, 4, 4]))
    with pytest.raises(typer.Exit) as caught:
        run_guarded(lambda: analyze_onnx(path))
    assert caught.value.exit_code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unsupported ONNX op 'Erf'" in err and "gelu/erf" in err and "Traceback" not in err


@pytest.mark.parametrize(("nodes", "inits", "words"), [
    ([N("Erf", ["x"], ["y"], name="e1")], [], ["node 'e1' (Erf)", "unsupported ONNX op 'Erf'"]),
    ([N("Div", ["x", "k"], ["y"], name="half")], [floats("k", [2.0])], ["node 'half' (Div)", "Div of a computed tensor"]),
    ([N("Transpose", ["x"], ["y"], perm=[1, 0, 2, 3], name="nchw")], [], ["node 'nchw' (Transpose)", "batch"]),
    ([N("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1], name="nhwc"), N("Conv", ["t", "w"], ["y"], name="c")],
     [weight("w", 2, 4, 1, 1)], ["channels first", "permute it back"]),
    ([N("Concat", ["x", "x"], ["y"], axis=2, name="c")], [], ["node 'c' (Concat)", "axis 1"]),
    ([N("Add", ["x", "k"], ["y"], name="plus")], [floats("k", [3.0])], ["node 'plus' (Add)", "constant operand"]),
    ([N("Clip", ["x", "lo", "hi"], ["y"], name="clamp")], [floats("lo", -1), floats("hi", 1)], ["[-1.0, 1.0]"]),
    ([N("Conv", ["x", "x"], ["y"], name="dyn")], [], ["node 'dyn' (Conv)", "must be a constant"]),
    ([N("Reshape", ["x", "s"], ["y"], name="r")], [ints("s", [1, 2, 6, 4])], ["node 'r' (Reshape)", "not expressible"]),
    ([N("Resize", ["x", "", "sc"], ["y"], mode="nearest", name="up")], [floats("sc", [1, 1, 2, 2])],
     ["node 'up' (Resize)", "torch's nearest"]),
    ([N("Softmax", ["x"], ["y"], axis=0, name="sm")], [], ["batch axis"]),
    ([N("Gemm", ["x", "w"], ["y"], name="g")], [weight("w", 4, 4)], ["Gemm", "(g)"]),
    ([N("MaxPool", ["x"], ["y", "idx"], kernel_shape=[2, 2], name="mp"), N("Cast", ["idx"], ["z"], to=1)], [],
     ["node 'mp' (MaxPool)", "second output"]),
    ([N("ConvTranspose", ["x", "w"], ["y"], output_shape=[9, 9], strides=[2, 2], name="up")], [weight("w", 3, 2, 3, 3)],
     ["node 'up' (ConvTranspose)", "output_shape"]),
    ([N("Resize", ["x", "", "sc"], ["y"], mode="linear", coordinate_transformation_mode="asymmetric", name="bi")],
     [floats("sc", [1, 1, 2, 2])], ["node 'bi' (Resize)", "'asymmetric'"]),
])
def test_an_op_archcalc_cannot_express_names_the_op_and_the_node(tmp_path, nodes, inits, words):
    text = error_of(save(tmp_path, model(nodes, [1, 3, 4, 4], inits)))
    assert all(word in text for word in words), text


def test_batch_norm_in_training_mode(tmp_path):
    nodes = [N("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"], training_mode=1, name="bn")]
    inits = [weight("s", 3), weight("b", 3), weight("m", 3), weight("v", 3, value=1.0)]
    text = error_of(save(tmp_path, model(nodes, [1, 3, 4, 4], inits, outputs=("y", "rm", "rv"))))
    assert "node 'bn' (BatchNormalization)" in text and "training" in text


def test_a_custom_domain_op(tmp_path):
    graph = helper.make_graph([N("MyOp", ["x"], ["y"], name="mine", domain="com.example")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])])
    built = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    text = error_of(save(tmp_path, built))
    assert "com.example" in text and "mine" in text


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "net.onnx"
    path.write_text("layers: [relu]\n")
    assert "not an ONNX model" in error_of(str(path))


def test_a_truncated_file(tmp_path):
    full = conv_net().SerializeToString()
    path = tmp_path / "net.onnx"
    path.write_bytes(full[: len(full) // 2])
    assert "not an ONNX model" in error_of(str(path))


def test_an_empty_file_a_directory_and_a_missing_file(tmp_path):
    (tmp_path / "empty.onnx").write_bytes(b"")
    assert "not an ONNX model" in error_of(str(tmp_path / "empty.onnx"))
    assert "regular file" in error_of(str(tmp_path))
    assert "cannot read" in error_of(str(tmp_path / "missing.onnx"))


def test_a_missing_initializer(tmp_path):
    built = conv_net()
    del built.graph.initializer[:]
    text = error_of(save(tmp_path, built))
    assert "node 'stem' (Conv) reads 'w'" in text and "missing initializer" in text


def test_a_dynamic_shape_without_an_input_shape(tmp_path):
    built = model([N("Relu", ["x"], ["y"])], ["N", 3, "H", "W"])
    path = save(tmp_path, built)
    assert "dynamic shape (?x3x?x?" in error_of(path) and "--input" in error_of(path)
    assert spec_from_onnx(path, (3, 10, 12))["input"] == [3, 10, 12]
    assert "does not fit" in error_of(path, (100,))
    assert "does not fit" in error_of(path, (3, 10))  # CxL, a valid shape, but not this model's


def test_two_inputs_and_a_six_d_input(tmp_path):
    second = helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 3, 4, 4])
    assert "2 inputs" in error_of(save(tmp_path, model([N("Add", ["x", "z"], ["y"])], [1, 3, 4, 4], extra_inputs=[second])))
    assert "6-d" in error_of(save(tmp_path, model([N("Relu", ["x"], ["y"])], [1, 3, 4, 4, 4, 4]), "b.onnx"))


def test_an_invalid_graph_is_reported_by_the_checker_in_one_line(tmp_path):
    built = model([N("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3])], [1, 3, 8, 8], [weight("w", 4, 3, 3, 3)])
    text = error_of(save(tmp_path, built))
    assert "shape inference" in text or "invalid ONNX model" in text or "node 'c'" in text


def _external(tmp_path, location: str, *, size: int = 70_000):
    """A model whose Gemm weight lives in an external data file at ``location``."""
    built = model([N("Gemm", ["x", "w"], ["y"], transB=1)], [1, size // 10], [weight("w", 10, size // 10)])
    tensor = built.graph.initializer[0]
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value=location)
    return save(tmp_path, built)


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd", "sub/../../x.bin"])
def test_external_data_outside_the_model_directory_is_refused(tmp_path, location):
    text = error_of(_external(tmp_path, location))
    assert "outside the model's directory" in text


def test_external_weights_beside_the_model_are_counted_without_being_read(tmp_path):
    """Only the shape of an external weight matters: its file need not even exist."""
    spec = spec_from_onnx(_external(tmp_path, "weights.bin"))
    assert spec["layers"][0]["out_features"] == 10


def test_the_value_of_a_huge_constant_is_not_read(tmp_path):
    nodes = [N("Reshape", ["x", "shape"], ["y"], name="r")]
    text = error_of(save(tmp_path, model(nodes, [1, 3, 4, 4], [ints("shape", list(range(70_000)))])))
    assert "node 'r' (Reshape)" in text and "too large" in text


def test_a_huge_broadcast_in_a_shape_chain_is_refused_before_it_is_computed(tmp_path):
    nodes = [N("Add", ["a", "b"], ["s"], name="blowup"), N("Relu", ["x"], ["y"])]
    inits = [ints("a", [[i] for i in range(60_000)]), ints("b", list(range(60_000)))]
    text = error_of(save(tmp_path, model(nodes, [1, 3, 4, 4], inits)))
    assert "blowup" in text and "elements" in text


def test_a_graph_output_that_is_the_input(tmp_path):
    built = model([N("Identity", ["x"], ["y"])], [1, 3, 4, 4])
    assert "the input" in error_of(save(tmp_path, built))


def test_a_link_out_of_the_directory_is_refused(tmp_path):
    (tmp_path / "link.bin").symlink_to("/etc/hostname")
    assert "outside the model's directory" in error_of(_external(tmp_path, "link.bin"))


def _external_target(tmp_path, values, location="shape.bin"):
    """A Reshape whose target shape is an external tensor in ``location``."""
    import numpy as np

    built = model([N("Reshape", ["x", "shape"], ["y"], name="r")], [1, 3, 4, 4], [ints("shape", values)])
    tensor = built.graph.initializer[0]
    (tmp_path / location).write_bytes(np.array(values, dtype=np.int64).tobytes())
    tensor.ClearField("raw_data")
    tensor.ClearField("int64_data")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value=location)
    return save(tmp_path, built)


def test_a_small_external_value_beside_the_model_is_read(tmp_path):
    spec = spec_from_onnx(_external_target(tmp_path, [1, -1]))
    assert [layer["type"] for layer in spec["layers"]] == ["flatten"]


def test_an_external_value_file_that_is_missing_or_too_long_is_refused(tmp_path):
    path = _external_target(tmp_path, [1, -1])
    (tmp_path / "shape.bin").write_bytes(b"\0" * (1 << 25))  # no length given: onnx would read it all
    assert "over 16,777,216 bytes" in error_of(path)
    (tmp_path / "shape.bin").unlink()
    assert "missing" in error_of(path)
