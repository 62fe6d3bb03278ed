"""A spec's PyTorch twin: the same layers as torch.nn modules, named as the spec names them.

torch is imported here only (lazily by callers), never on the analysis path.

Each node becomes one module, reached by the node's dotted name (``layer1.0.conv1``) through
plain containers, exactly as ``named_modules()`` lists it. The forward pass walks the nodes in
topological order. Each layer type states its module as plain data (``LayerType.torch_module``,
a ModuleCall): ``build_module`` instantiates it and archcalc.pytorch.export prints it as source,
so both always agree.

``geometric=True`` builds the receptive-field probe instead (``LayerType.probe_module``): the same
kernels, strides, paddings, dilations and ceil_mode, but one channel everywhere, positive
averaging weights, no bias, max pooling as average pooling and every normalisation, dropout and
element-wise activation as identity. One channel is enough because a layer's spatial
dependence is the same for every channel: the union over all output channels of a grouped or
dense convolution reads exactly the union over all input channels of each tap, so groups and
widths cannot change the receptive field (the union over channels that the analysis reports).
For the same reason every join sums its inputs in the probe (a concat, a product gate).
The probe holds every tensor channels first in the net input's axis order: a layer that reads
or makes a permuted tensor (archcalc.layers.layout: ConvNeXt's channels-last linears) acts on
each position on its own, so in the one-channel probe it is an identity.
"""

from __future__ import annotations

from ..analysis import analyze
from ..analysis.modes import only_in
from ..errors import ArchcalcError
from ..graph import Graph
from ..layers import ModuleCall
from ..layers.base import elements, is_map
from ..layers.layout import canonical_sizes, is_standard
from .modules import instantiate, torch_classes


def node_calls(graph: Graph, shapes: dict[int, tuple[int, ...]], geometric: bool = False,
               layouts: dict | None = None) -> list[ModuleCall]:
    """Each node's module (``shapes``: output shape by node id, the net input under None); with
    ``geometric``, the probe twin's, whose one-channel shapes are worked out on the way
    (``layouts``: each output's layout by node id, archcalc.layers.layout)."""
    calls = []
    probe_shapes = {None: _probe_input(shapes[None])}
    layouts = layouts or {}
    for node in graph.nodes:
        in_shapes = [shapes[None if p is None else id(p)] for p in node.inputs]
        if not geometric:
            calls.append(node.layer.torch_module(node.args, in_shapes))
            continue
        probe_in = [probe_shapes[None if p is None else id(p)] for p in node.inputs]
        out = shapes[id(node)]
        touched = [layouts[id(n)] for n in (node, *node.inputs) if n is not None and id(n) in layouts]
        if not all(map(is_standard, touched)):  # reads or makes a permuted tensor: per position
            calls.append(ModuleCall("Identity"))
            probe_shapes[id(node)] = (1, *canonical_sizes(out, layouts[id(node)]))
            continue
        calls.append(node.layer.probe_module(node.args, in_shapes, out, probe_in))
        probe_shapes[id(node)] = node.layer.probe_shape(node.args, out, probe_in)
    return calls


def _probe_input(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (1, *shape[1:]) if is_map(shape) else tuple(shape)


def attach(root, path: str, module, container) -> None:
    """Put ``module`` at dotted ``path`` under ``root``, creating containers on the way. Names
    that clash with nn.Module attributes (e.g. 'train') go straight into _modules."""
    parts = path.split(".")
    parent = root
    for part in parts[:-1]:
        child = parent._modules.get(part)
        if child is None:
            child = container()
            _put(parent, part, child)
        parent = child
    _put(parent, parts[-1], module)


def _put(parent, name: str, module) -> None:
    try:
        parent.add_module(name, module)
    except KeyError:
        parent._modules[name] = module


def build_module(graph: Graph, *, geometric: bool = False):
    """The spec's PyTorch twin (or its receptive-field probe twin with ``geometric=True``)."""
    import torch

    report = analyze(graph)
    shapes = {id(n): r.output for n, r in zip(graph.nodes, report.rows)}
    shapes[None] = tuple(report.input)
    layouts = {id(n): r.layout for n, r in zip(graph.nodes, report.rows)}
    net = type(_class_name(graph.name), (_net_base(torch_classes()["Group"]),), {"__doc__": f"PyTorch twin of spec '{graph.name}'."})()
    calls = node_calls(graph, shapes, geometric, layouts)
    # a layer sharing another's module (``shares``) runs it through Shared; the probe twin gives
    # each use its own copy (positive weights, the same field)
    shared = {node.name for node in graph.nodes if node.shares is not None and not geometric}
    built = {node.name: _instantiate(call, node, graph.file) for node, call in zip(graph.nodes, calls)
             if node.name not in shared}
    plan = []
    for node in graph.nodes:
        module = torch_classes()["Shared"](built[node.shares.name]) if node.name in shared else built[node.name]
        if geometric:
            with torch.no_grad():  # positive averaging weights: 1 / the taps one output reads
                for param in module.parameters(recurse=False):
                    param.fill_(1.0 / max(elements(tuple(param.shape[1:])), 1))
            module.requires_grad_(False)
        elif not node.trainable:
            module.requires_grad_(False)
        attach(net, node.name, module, torch_classes()["Group"])
        # a declared input beyond the first reads the tensor forward receives for it
        sources = (INPUT_KEY + node.name,) if is_net_input(node) else tuple(None if p is None else p.name for p in node.inputs)
        plan.append((node.name, module, sources))
    extras = [(node.name, mode) for node, mode in graph.outputs[1:] if node is not None]
    net._set_plan(plan, None if graph.output is None else graph.output.name, {} if geometric else only_in(graph), extras)
    net._input_keys = [INPUT_KEY + node.name for node in graph.nodes if is_net_input(node)]
    return net.double() if geometric else net


INPUT_KEY = "<input>"  # values of the declared inputs; no layer name holds '<'


def is_net_input(node) -> bool:
    """A declared input beyond the first (spec 'inputs'), fed from forward's arguments."""
    return getattr(node.layer, "net_input", False)


def input_tensors(graph: Graph, batch: int, device) -> list:
    """Zero tensors for the declared inputs beyond the first, in forward's order."""
    import torch

    return [torch.zeros((batch, *node.args["shape"]), device=device) for node in graph.nodes if is_net_input(node)]


def _instantiate(call: ModuleCall, node, file: str):
    """The node's module; an argument torch refuses (or memory it cannot get) is one clear error
    naming the layer, not torch's traceback."""
    try:
        return instantiate(call)
    except (ValueError, TypeError, RuntimeError, MemoryError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArchcalcError(f"PyTorch cannot build {call.name}: {reason[:300]}", file=file, line=node.line,
                            layer=node.name) from None


def _class_name(name: str) -> str:
    text = "".join(p.capitalize() for p in "".join(c if c.isalnum() else " " for c in name).split()) or "Net"
    return "Net" + text if text[0].isdigit() else text


def _net_base(group):
    class Net(group):
        """Runs the spec's nodes in topological order; each value is dropped after its last use."""

        def _set_plan(self, plan, output, only_in=None, extras=()):
            """``only_in``: layer name -> the mode ('train', 'eval') it alone runs in; ``extras``:
            the other declared outputs (name, mode), kept for the loss of the backward pass."""
            last_use = {}
            for index, (_, _, sources) in enumerate(plan):
                for source in sources:
                    last_use[source] = index
            only_in = only_in or {}
            kept = {output, *(name for name, _ in extras)}
            self._plan = [(name, module, sources, [s for s in set(sources) if last_use[s] == i and s not in kept],
                           None if name not in only_in else only_in[name] == "train")
                          for i, (name, module, sources) in enumerate(plan)]
            self._output, self._extras = output, list(extras)

        def forward(self, x, *others, until: str | None = None):
            """The net's output; with ``until``, stop once that node has run (and return it).
            A layer of one mode only (an auxiliary head) runs only in that mode. ``others``: the
            tensors of the spec's other declared inputs, in order."""
            if len(others) != len(self._input_keys):
                raise TypeError(f"the net takes {1 + len(self._input_keys)} input tensor(s), got {1 + len(others)}")
            values = {None: x, **dict(zip(self._input_keys, others))}
            for name, module, sources, done, training in self._plan:
                if training is None or training == self.training:
                    values[name] = module(*[values[s] for s in sources])
                if name == until:
                    return values[name]
                for source in done:
                    if source is not None:
                        values.pop(source, None)
            out = values[self._output]
            mode = "train" if self.training else "eval"
            extras = [values[name] for name, when in self._extras if when in ("all", mode) and name in values]
            if extras:  # the other outputs of this mode, for loss = the sum of them all (pytorch.backward)
                out.archcalc_extra_outputs = extras
            return out

    return Net
