"""`archcalc export --to onnx`: the spec's PyTorch twin written as an ONNX model (to open in
Netron), through torch.onnx.export's torch.export-based exporter (onnx and onnxscript; imported
lazily, only here).

The exporter's graph is tidied so the file reads like the spec: constants folded (the shape
arithmetic torch.export leaves in), but no fusion (the exporter's default optimizer folds each
batch norm into its convolution, and the layers would no longer be the spec's); the all-zero
bias the exporter hands a bias-less convolution is dropped; and the stack traces the exporter
records per node (paths on this machine) are left out. Initializers keep the twin's names
(``layer1.0.conv1.weight``): the parameters, plus the running statistics that eval uses."""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArchcalcError, UsageError
from ..graph import Graph

ONNX_MISSING = ('archcalc export --to onnx needs onnx and onnxscript, which are not installed: '
                'pip install "archcalc[onnx-export]"')
# Past protobuf's 2 GiB limit the weights go to a file beside the model (ONNX external data).
INLINE_LIMIT = 1_800_000_000
DROPPED_METADATA = ("pkg.torch.onnx.stack_trace", "pkg.torch.onnx.fx_node")


@dataclass(frozen=True)
class OnnxExport:
    path: Path
    nodes: int
    initializers: int
    parameters: int  # elements of the initializers that are the twin's parameters
    outputs: tuple[tuple[str, tuple[int, ...]], ...]
    external: bool  # weights written beside the model


def require_onnx():
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise ArchcalcError(ONNX_MISSING) from None


def _with_all_outputs(net):
    """The twin returning every output of eval mode as a tuple (the main one first) instead of
    hanging the others on the main tensor; same modules, so the same initializer names."""
    base = type(net)

    class Exported(base):
        def forward(self, x):
            out = base.forward(self, x)
            return (out, *getattr(out, "archcalc_extra_outputs", ()))

    Exported.__name__ = Exported.__qualname__ = base.__name__
    Exported.__module__ = base.__module__
    net.__class__ = Exported
    return net


def _output_count(graph: Graph) -> int:
    return 1 + sum(1 for node, mode in graph.outputs[1:] if node is not None and mode in ("all", "eval"))


def exported_program(graph: Graph, batch: int):
    """torch.onnx.export's ONNXProgram of the twin in eval mode, constants folded, unfused."""
    from .twin import build_module
    from .verify import require_torch

    torch = require_torch()
    require_onnx()
    import onnx_ir.passes.common as passes
    import onnxscript.optimizer

    net = _with_all_outputs(build_module(graph).eval())
    example = torch.zeros(batch, *graph.input_shape)
    names = ["output"] + [f"output_{i}" for i in range(1, _output_count(graph))]
    chatter = io.StringIO()  # the exporter prints its progress on stdout; the command's output is the file
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(chatter), torch.no_grad():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(net, (example,), None, dynamo=True, optimize=False, verbose=False,
                                        input_names=["input"], output_names=names, external_data=False)
    except Exception as exc:  # the exporter's failures come in many types; each is one line here
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ArchcalcError(f"torch.onnx.export could not export {graph.name}: {reason[:300]}", file=graph.file) from None
    # parameters stay initializers under their names: the folder leaves alone what reads a graph
    # input, so they are inputs while it runs (a Linear on a channels-last map exports as MatMul of
    # the transposed weight, which it would fold into a new, unnamed initializer)
    graph = program.model.graph
    parameters = {name for name, _ in net.named_parameters()}
    protected = [value for name, value in graph.initializers.items() if name in parameters and not value.is_graph_input()]
    graph.inputs.extend(protected)
    onnxscript.optimizer.fold_constants(program.model)
    for value in protected:
        graph.inputs.remove(value)
    passes.RemoveUnusedNodesPass()(program.model)
    return net, program


def tidy(model, parameter_names: set[str]) -> None:
    """Drop the zero bias of bias-less convolutions and the per-node stack traces (in place, on
    an onnx.ModelProto)."""
    from onnx import numpy_helper

    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    zero = {name for name, tensor in initializers.items()
            if name not in parameter_names and tensor.data_type == 1 and not numpy_helper.to_array(tensor).any()}
    for node in graph.node:
        if node.op_type == "Conv" and len(node.input) == 3 and node.input[2] in zero:
            del node.input[2]
        kept = [p for p in node.metadata_props if p.key not in DROPPED_METADATA]
        del node.metadata_props[:]
        node.metadata_props.extend(kept)
    used = {name for node in graph.node for name in node.input}
    kept = [i for i in graph.initializer if i.name in used or i.name in parameter_names]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def to_onnx(graph: Graph, path: Path, batch: int = 1) -> OnnxExport:
    """Write the twin of ``graph`` as an ONNX model at ``path``; checked with onnx.checker."""
    import onnx

    net, program = exported_program(graph, batch)
    parameter_names = {name for name, _ in net.named_parameters()}
    model = program.model_proto
    tidy(model, parameter_names)
    model.doc_string = f"archcalc export --to onnx: {graph.name} (PyTorch twin, eval mode, batch {batch})"
    size = sum(len(i.raw_data) for i in model.graph.initializer)
    external = size > INLINE_LIMIT
    try:
        if external:
            onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                            location=path.name + ".data")
            onnx.checker.check_model(str(path))
        else:
            data = model.SerializeToString()  # once: the file and the checker share it
            path.write_bytes(data)
            onnx.checker.check_model(data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    outputs = tuple((o.name, tuple(d.dim_value for d in o.type.tensor_type.shape.dim)) for o in model.graph.output)
    parameters = sum(_elements(i) for i in model.graph.initializer if i.name in parameter_names)
    return OnnxExport(path, len(model.graph.node), len(model.graph.initializer), parameters, outputs, external)


def _elements(tensor) -> int:
    count = 1
    for dim in tensor.dims:
        count *= dim
    return count
