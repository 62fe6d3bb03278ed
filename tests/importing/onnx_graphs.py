"""Small ONNX models built with onnx.helper for the importer's tests (no torch)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def weight(name: str, *shape: int, value: float | None = None) -> onnx.TensorProto:
    rng = np.random.default_rng(len(name))
    data = np.full(shape, value, np.float32) if value is not None else rng.standard_normal(shape).astype(np.float32)
    return numpy_helper.from_array(data, name)


def ints(name: str, values) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def floats(name: str, values) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=np.float32), name)


def model(nodes, input_shape, initializers=(), *, outputs=("y",), opset: int = 17, input_name: str = "x",
          extra_inputs=()) -> onnx.ModelProto:
    """A one-input graph; ``input_shape`` may hold names (dynamic dimensions)."""
    graph = helper.make_graph(
        list(nodes), "g",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape)), *extra_inputs],
        [helper.make_empty_tensor_value_info(name) for name in outputs],
        list(initializers))
    built = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    # the checker wants the outputs' types: those shape inference gives them, dimensions free
    inferred = onnx.shape_inference.infer_shapes(built)
    ranks = {value.name: len(value.type.tensor_type.shape.dim) for value in (*inferred.graph.value_info, *inferred.graph.output)}
    del built.graph.output[:]
    built.graph.output.extend(helper.make_tensor_value_info(name, TensorProto.FLOAT, [f"{name}_{i}" for i in range(ranks.get(name, 4))])
                              for name in outputs)
    return built


def save(tmp_path, onnx_model, name: str = "net.onnx") -> str:
    path = tmp_path / name
    onnx.save(onnx_model, path)
    return str(path)


# GELU as exporters write it with Erf: x * 0.5 * (1 + erf(x / sqrt 2)), the product associated as
# TorchScript's nn.GELU (Mul(Mul(x, a), 0.5)), the dynamo exporter's (Mul(x, Mul(0.5, a))) and plain
# code's `x * 0.5 * (1 + torch.erf(x / math.sqrt(2)))` (Mul(Mul(x, 0.5), a), the half first)
GELU_ORDERS = ("torchscript", "dynamo", "half_first", "half_after", "reciprocal")


def erf_gelu(x: str, y: str, order: str = "torchscript", prefix: str = "gelu", half: float = 0.5):
    """(nodes, initializers) computing y = GELU(x) in the given ``order``; ``reciprocal`` writes the
    scaling as x * (1 / sqrt 2), ``half`` other than 0.5 makes a product that is no GELU."""
    def name(part: str) -> str:
        return f"{prefix}/{part}"

    inits = [floats(name("sqrt2"), np.float32(np.sqrt(2.0))), floats(name("one"), 1.0), floats(name("half"), half)]
    N = helper.make_node
    if order == "reciprocal":
        inits.append(floats(name("rsqrt2"), np.float32(1 / np.sqrt(2.0))))
        scale = N("Mul", [x, name("rsqrt2")], [name("s")], name=name("Mul_scale"))
    else:
        scale = N("Div", [x, name("sqrt2")], [name("s")], name=name("Div"))
    erf = [scale, N("Erf", [name("s")], [name("e")], name=name("Erf")),
           N("Add", [name("e"), name("one")], [name("a")], name=name("Add"))]
    if order in ("torchscript", "reciprocal"):
        rest = [N("Mul", [x, name("a")], [name("m")], name=name("Mul")),
                N("Mul", [name("m"), name("half")], [y], name=name("Mul_1"))]
        return erf + rest, inits
    if order == "dynamo":
        rest = [N("Mul", [name("half"), name("a")], [name("m")], name=name("Mul")),
                N("Mul", [x, name("m")], [y], name=name("Mul_1"))]
        return erf + rest, inits
    halved = N("Mul", [x, name("half")], [name("h")], name=name("Mul_half"))
    last = N("Mul", [name("h"), name("a")], [y], name=name("Mul"))
    return ([halved, *erf, last] if order == "half_first" else [*erf, halved, last]), inits


def split_to_sequence(x: str, outputs, split=None, positions=None, axis: int = 1, prefix: str = "split",
                      keepdims: int = 1):
    """(nodes, initializers): SplitToSequence of ``x`` (``split`` a scalar size, a list of sizes or
    None), read by one SequenceAt per output at ``positions`` (0, 1, ... by default)."""
    N = helper.make_node
    inits, inputs = [], [x]
    if split is not None:
        inits.append(ints(f"{prefix}/sizes", split))
        inputs.append(f"{prefix}/sizes")
    nodes = [N("SplitToSequence", inputs, [f"{prefix}/seq"], axis=axis, keepdims=keepdims, name=prefix)]
    for index, (output, position) in enumerate(zip(outputs, positions or range(len(outputs)))):
        inits.append(ints(f"{prefix}/at{index}", position))
        nodes.append(N("SequenceAt", [f"{prefix}/seq", f"{prefix}/at{index}"], [output], name=f"{prefix}/at{index}"))
    return nodes, inits


def convnext_block(x: str, y: str, channels: int, prefix: str = "block", expansion: int = 4):
    """(nodes, initializers): torchvision's ConvNeXt block as TorchScript exports it: a depthwise 7x7
    conv, Transpose to channels last, LayerNormalization over the last axis, MatMul by a transposed
    weight + Add (Linear), an Erf-written GELU, MatMul + Add, Transpose back, Mul by the learnable
    C x 1 x 1 layer scale, and the residual Add."""
    N = helper.make_node
    hidden = channels * expansion

    def name(part: str) -> str:
        return f"{prefix}/{part}"

    gelu, inits = erf_gelu(name("fc1"), name("act"), "torchscript", prefix=name("gelu"))
    inits += [weight(name("dw.w"), channels, 1, 7, 7), weight(name("dw.b"), channels), weight(name("ln.w"), channels),
              weight(name("ln.b"), channels), weight(name("fc1.w"), hidden, channels), weight(name("fc1.b"), hidden),
              weight(name("fc2.w"), channels, hidden), weight(name("fc2.b"), channels),
              weight(name("scale"), channels, 1, 1, value=1e-6)]
    nodes = [N("Conv", [x, name("dw.w"), name("dw.b")], [name("dw")], group=channels, pads=[3, 3, 3, 3], name=name("Conv")),
             N("Transpose", [name("dw")], [name("nhwc")], perm=[0, 2, 3, 1], name=name("Transpose")),
             N("LayerNormalization", [name("nhwc"), name("ln.w"), name("ln.b")], [name("ln")], axis=-1, epsilon=1e-6,
               name=name("LayerNormalization")),
             N("Transpose", [name("fc1.w")], [name("fc1.wt")], perm=[1, 0], name=name("Transpose_w1")),
             N("MatMul", [name("ln"), name("fc1.wt")], [name("mm1")], name=name("MatMul")),
             N("Add", [name("fc1.b"), name("mm1")], [name("fc1")], name=name("Add_b1")),
             *gelu,
             N("Transpose", [name("fc2.w")], [name("fc2.wt")], perm=[1, 0], name=name("Transpose_w2")),
             N("MatMul", [name("act"), name("fc2.wt")], [name("mm2")], name=name("MatMul_1")),
             N("Add", [name("fc2.b"), name("mm2")], [name("fc2")], name=name("Add_b2")),
             N("Transpose", [name("fc2")], [name("nchw")], perm=[0, 3, 1, 2], name=name("Transpose_1")),
             N("Mul", [name("scale"), name("nchw")], [name("scaled")], name=name("Mul")),
             N("Add", [name("scaled"), x], [y], name=name("Add"))]
    return nodes, inits
