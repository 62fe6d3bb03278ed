"""A spec's PyTorch twin: the same layers as torch.nn modules, named as the spec names them.

torch is imported here only (lazily by callers), never on the analysis path.

Each node becomes one module, reached by the node's dotted name (``layer1.0.conv1``) through
plain containers, exactly as ``named_modules()`` lists it. The forward pass walks the nodes in
topological order. ``module_call(node, ...)`` states each node's constructor once, as
(constructor, positional args, keyword args): ``build_module`` instantiates it and
``archcalc.export`` prints it as source, so both always agree.

``geometric=True`` builds the receptive-field probe instead (see ``geometric_call``): the same
kernels, strides, paddings, dilations and ceil_mode, but one channel everywhere, positive
averaging weights, no bias, max pooling as average pooling and every normalisation, dropout and
element-wise activation as identity. One channel is enough because a layer's spatial
dependence is the same for every channel: the union over all output channels of a grouped or
dense convolution reads exactly the union over all input channels of each tap, so groups and
widths cannot change the receptive field (the union over channels that the analysis reports).
For the same reason concat sums its inputs in the probe.
"""

from __future__ import annotations

from typing import Any

from ..analysis import analyze
from ..graph import Graph, Node
from ..layers.base import conv_output_size, elements

ACTIVATIONS = {
    "relu": "ReLU", "relu6": "ReLU6", "leaky_relu": "LeakyReLU", "elu": "ELU", "sigmoid": "Sigmoid",
    "tanh": "Tanh", "gelu": "GELU", "silu": "SiLU", "hardswish": "Hardswish", "softmax": "Softmax",
}
ELEMENTWISE = {"batchnorm2d", "batchnorm1d", "local_response_norm", "dropout", "identity", *ACTIVATIONS}


# --------------------------------------------------------------------------- constructors
def module_call(node: Node, in_shapes: list[tuple[int, ...]]) -> tuple[str, tuple, dict[str, Any]]:
    """The torch.nn constructor for a node: (name, args, kwargs). Names without a dot are
    torch.nn classes; 'Add', 'Concat' are the small joins defined in this module."""
    a, t = node.args, node.layer.name
    shape = in_shapes[0]
    if t == "conv2d":
        padding = a["padding"] if isinstance(a["padding"], str) else tuple(a["padding"])
        return "Conv2d", (shape[0], a["out_channels"]), dict(
            kernel_size=a["kernel_size"], stride=a["stride"], padding=padding, dilation=a["dilation"],
            groups=a["groups"], bias=a["bias"])
    if t == "conv_transpose2d":
        return "ConvTranspose2d", (shape[0], a["out_channels"]), dict(
            kernel_size=a["kernel_size"], stride=a["stride"], padding=a["padding"],
            output_padding=a["output_padding"], groups=a["groups"], bias=a["bias"], dilation=a["dilation"])
    if t == "linear":
        return "Linear", (shape[-1], a["out_features"]), dict(bias=a["bias"])
    if t == "maxpool2d":
        return "MaxPool2d", (a["kernel_size"],), dict(
            stride=a["stride"] or a["kernel_size"], padding=a["padding"], dilation=a["dilation"], ceil_mode=a["ceil_mode"])
    if t == "avgpool2d":
        return "AvgPool2d", (a["kernel_size"],), dict(
            stride=a["stride"] or a["kernel_size"], padding=a["padding"], ceil_mode=a["ceil_mode"],
            count_include_pad=a["count_include_pad"])
    if t in ("adaptive_avgpool2d", "adaptive_maxpool2d"):
        cls = "AdaptiveAvgPool2d" if t == "adaptive_avgpool2d" else "AdaptiveMaxPool2d"
        return cls, (tuple(a["output_size"]),), {}
    if t in ("global_avgpool2d", "global_maxpool2d"):
        return ("AdaptiveAvgPool2d" if t == "global_avgpool2d" else "AdaptiveMaxPool2d"), (1,), {}
    if t in ("batchnorm2d", "batchnorm1d"):
        return ("BatchNorm2d" if t == "batchnorm2d" else "BatchNorm1d"), (shape[0],), dict(
            eps=a["eps"], momentum=a["momentum"], affine=a["affine"], track_running_stats=a["track_running_stats"])
    if t == "local_response_norm":
        return "LocalResponseNorm", (a["size"],), dict(alpha=a["alpha"], beta=a["beta"], k=a["k"])
    if t in ACTIVATIONS:
        kwargs = {k: v for k, v in a.items() if k != "inplace"}
        if t == "softmax":
            kwargs["dim"] = a["dim"] + 1  # dims in a spec exclude the batch
        return ACTIVATIONS[t], (), kwargs
    if t == "dropout":
        return "Dropout", (), dict(p=a["p"])
    if t == "identity":
        return "Identity", (), {}
    if t == "flatten":
        return "Flatten", (), {}
    if t == "upsample":
        kwargs = {"mode": a["mode"]}
        if a["size"] is not None:
            kwargs["size"] = tuple(a["size"])
        else:
            kwargs["scale_factor"] = tuple(float(f) for f in a["scale_factor"])
        if a["align_corners"] is not None:
            kwargs["align_corners"] = a["align_corners"]
        return "Upsample", (), kwargs
    if t == "add":
        return "Add", (), {}
    if t == "concat":
        return "Concat", (), {}
    raise NotImplementedError(f"no PyTorch twin for layer type '{t}'")


def geometric_call(node: Node, in_shapes: list[tuple[int, ...]], out_shape: tuple[int, ...],
                   geo_in: list[tuple[int, ...]]) -> tuple[str, tuple, dict[str, Any]]:
    """The probe twin's constructor (see the module docstring). ``geo_in`` are the probe's
    input shapes (one channel)."""
    a, t = node.args, node.layer.name
    if t == "conv2d":
        padding = a["padding"] if isinstance(a["padding"], str) else tuple(a["padding"])
        if a["kernel_size"] == (1, 1) and a["stride"] == (1, 1) and padding in ("same", "valid", (0, 0)):
            return "Identity", (), {}  # reads exactly its own position: the field is unchanged
        return "Conv2d", (1, 1), dict(kernel_size=a["kernel_size"], stride=a["stride"], padding=padding,
                                      dilation=a["dilation"], bias=False)
    if t == "conv_transpose2d":
        return "ConvTranspose2d", (1, 1), dict(
            kernel_size=a["kernel_size"], stride=a["stride"], padding=a["padding"],
            output_padding=a["output_padding"], bias=False, dilation=a["dilation"])
    if t == "maxpool2d":
        stride = a["stride"] or a["kernel_size"]
        if a["dilation"] == (1, 1):
            return "AvgPool2d", (a["kernel_size"],), dict(stride=stride, padding=a["padding"], ceil_mode=a["ceil_mode"])
        # dilated windows: a ones convolution, padded on the right as far as ceil_mode reaches
        pads = []
        for size, k, s, p, d in zip(in_shapes[0][1:], a["kernel_size"], stride, a["padding"], a["dilation"]):
            out = conv_output_size(size, k, s, p, p, d, a["ceil_mode"])
            pads.append((p, max(p, (out - 1) * s + d * (k - 1) + 1 - size - p)))
        return "archcalc.SumPool", (), dict(kernel_size=a["kernel_size"], stride=stride, dilation=a["dilation"],
                                           pads=tuple(pads))
    if t in ("adaptive_avgpool2d", "adaptive_maxpool2d", "global_avgpool2d", "global_maxpool2d", "avgpool2d"):
        name, args, kwargs = module_call(node, in_shapes)
        return name.replace("Max", "Avg"), args, {k: v for k, v in kwargs.items() if k != "count_include_pad"}
    if t == "linear":
        width = out_shape[-1] if len(geo_in[0]) == 3 else 1
        return "Linear", (geo_in[0][-1], width), dict(bias=False)
    if t == "softmax" and a["dim"] > 0:
        return "archcalc.Spread", (), dict(dim=a["dim"] + 1)
    if t in ELEMENTWISE:
        return "Identity", (), {}
    if t == "upsample" and a["mode"] == "bilinear":
        return "archcalc.SnappedBilinear", (), dict(in_size=tuple(in_shapes[0][1:]), out_size=tuple(out_shape[1:]),
                                                   align_corners=bool(a["align_corners"]))
    if t == "concat":
        return "Add", (), {}
    return module_call(node, in_shapes)


def geometric_shape(node: Node, out_shape: tuple[int, ...], geo_in: list[tuple[int, ...]]) -> tuple[int, ...]:
    t = node.layer.name
    if t == "flatten":
        return (elements(geo_in[0]),)
    if t == "linear":
        return (1, out_shape[1], out_shape[2]) if len(out_shape) == 3 else (1,)
    if len(out_shape) == 3:
        return (1, out_shape[1], out_shape[2])
    return geo_in[0]


# --------------------------------------------------------------------------- modules
def _torch_classes():
    """The small modules the twin needs beyond torch.nn (defined lazily: torch is optional)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Add(nn.Module):
        """Element-wise sum of the inputs (a residual join)."""

        def forward(self, *inputs):
            out = inputs[0]
            for other in inputs[1:]:
                out = out + other
            return out

    class Concat(nn.Module):
        """Channel concatenation: torch.cat(inputs, dim=1)."""

        def forward(self, *inputs):
            return torch.cat(inputs, dim=1)

    class SumPool(nn.Module):
        """Probe twin of a dilated max pool: zero padding, then a ones convolution."""

        def __init__(self, kernel_size, stride, dilation, pads):
            super().__init__()
            self.kernel_size, self.stride, self.dilation, self.pads = kernel_size, stride, dilation, pads

        def forward(self, x):
            (top, bottom), (left, right) = self.pads
            x = F.pad(x, (left, right, top, bottom))
            weight = x.new_ones((x.shape[1], 1, *self.kernel_size))
            return F.conv2d(x, weight, stride=self.stride, dilation=self.dilation, groups=x.shape[1])

    class Spread(nn.Module):
        """Probe twin of a softmax over a spatial dim: every output reads the whole dim."""

        def __init__(self, dim):
            super().__init__()
            self.dim = dim

        def forward(self, x):
            return x.sum(self.dim, keepdim=True).expand_as(x)

    class SnappedBilinear(nn.Module):
        """Probe twin of bilinear upsampling: torch's own interpolation weights per axis, with
        the float noise of weights that are exactly zero in exact arithmetic set to zero."""

        def __init__(self, in_size, out_size, align_corners):
            super().__init__()
            for axis, (n, m) in enumerate(zip(in_size, out_size)):
                eye = torch.eye(n, dtype=torch.float64).reshape(1, n, n, 1)
                scale = (m // n, 1) if m % n == 0 else None
                kwargs = dict(scale_factor=(float(scale[0]), 1.0)) if scale else dict(size=(m, 1))
                rows = F.interpolate(eye, mode="bilinear", align_corners=align_corners, **kwargs)[0, :, :, 0]
                rows = torch.where(rows.abs() < 1e-12, torch.zeros_like(rows), rows)
                self.register_buffer(f"axis{axis}", rows.t().contiguous(), persistent=False)

        def forward(self, x):
            return torch.einsum("bchw,Hh,Ww->bcHW", x, self.axis0.to(x.dtype), self.axis1.to(x.dtype))

    class Group(nn.Module):
        """A named container (a block or sequential group of the spec); the net's forward runs
        its members."""

    return {"Add": Add, "Concat": Concat, "archcalc.SumPool": SumPool, "archcalc.Spread": Spread,
            "archcalc.SnappedBilinear": SnappedBilinear, "Group": Group}


def instantiate(call: tuple[str, tuple, dict[str, Any]], extra: dict):
    from torch import nn

    name, args, kwargs = call
    cls = extra.get(name) or getattr(nn, name)
    return cls(*args, **kwargs)


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
    from torch import nn

    extra = _torch_classes()
    report = analyze(graph)
    shapes = {id(n): r.output for n, r in zip(graph.nodes, report.rows)}
    input_shape = tuple(report.input)
    geo = {None: (1, *input_shape[1:]) if len(input_shape) == 3 else input_shape}

    class_name = "".join(p.capitalize() for p in "".join(c if c.isalnum() else " " for c in graph.name).split()) or "Net"
    if class_name[0].isdigit():
        class_name = "Net" + class_name
    net_cls = type(class_name, (_net_base(nn),), {"__doc__": f"PyTorch twin of spec '{graph.name}'."})
    net = net_cls()
    plan = []
    for node in graph.nodes:
        in_shapes = [input_shape if p is None else shapes[id(p)] for p in node.inputs]
        if geometric:
            geo_in = [geo[None if p is None else id(p)] for p in node.inputs]
            call = geometric_call(node, in_shapes, shapes[id(node)], geo_in)
            geo[id(node)] = geometric_shape(node, shapes[id(node)], geo_in)
        else:
            call = module_call(node, in_shapes)
        module = instantiate(call, extra)
        if geometric:
            with torch.no_grad():
                for param in module.parameters(recurse=False):
                    fan = elements(tuple(param.shape[1:])) if call[0] == "Linear" else elements(tuple(param.shape[2:]))
                    param.fill_(1.0 / max(fan, 1))
            module.requires_grad_(False)
        elif not node.trainable:
            module.requires_grad_(False)
        attach(net, node.name, module, extra["Group"])
        plan.append((node.name, module, tuple(None if p is None else p.name for p in node.inputs)))
    net._set_plan(plan, None if graph.output is None else graph.output.name)
    return net.double() if geometric else net


def _net_base(nn):
    class Net(nn.Module):
        """Runs the spec's nodes in topological order; each value is dropped after its last use."""

        def _set_plan(self, plan, output):
            last_use = {}
            for index, (_, _, sources) in enumerate(plan):
                for source in sources:
                    last_use[source] = index
            self._plan = [(name, module, sources, [s for s in set(sources) if last_use[s] == i and s != output])
                          for i, (name, module, sources) in enumerate(plan)]
            self._output = output

        def forward(self, x, until: str | None = None):
            """The net's output; with ``until``, stop once that node has run (and return it)."""
            values = {None: x}
            for name, module, sources, done in self._plan:
                values[name] = module(*[values[s] for s in sources])
                if name == until:
                    return values[name]
                for source in done:
                    if source is not None:
                        del values[source]
            return values[self._output]

    return Net
