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
