"""Hypothesis strategies that generate random CNN architectures as YAML spec text.

``valid_nets()`` builds nets that PyTorch accepts: it tracks the feature-map shape itself (an
oracle independent of archcalc's analyzer) and only draws arguments that fit. The nets mix
chains, residual adds (identity and 1x1 projection), concats, blocks with arguments (called
from other blocks), ``repeat``, ``when`` and nested sequential groups, with random kernels,
strides, paddings ('same'/'valid' too), dilations, groups (depthwise too), ceil_mode,
transposed convolutions, pooling, upsampling, normalisation and activations.

``free_nets()`` draws arguments without regard to validity (flat layer lists with residual and
concat branches) and also returns the plan, so a test can build the PyTorch twin directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from hypothesis import strategies as st

ACTIVATIONS = ["relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "hardswish", "identity"]
MAX_SIDE = 48
MAX_CHANNELS = 16


def out_size(size: int, kernel: int, stride: int, pad_l: int, pad_r: int, dilation: int = 1, ceil: bool = False) -> int:
    """PyTorch's output-size rule (conv and pooling), written out independently."""
    span = size + pad_l + pad_r - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    n = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (n - 1) * stride >= size + pad_l:
        n -= 1
    return n


@dataclass
class State:
    """The current feature map while generating: channels, height, width."""

    c: int
    h: int
    w: int
    flat: bool = False
    blocks: dict = field(default_factory=dict)

    @property
    def shape(self):
        return (self.c, self.h, self.w)


def _pair(draw, lo, hi, square_bias=0.7):
    a = draw(st.integers(lo, hi))
    if draw(st.floats(0, 1)) < square_bias:
        return a, a
    return a, draw(st.integers(lo, hi))


def _yaml_pair(p):
    return p[0] if p[0] == p[1] else [p[0], p[1]]


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


# --------------------------------------------------------------------------- single layers
def conv(draw, s: State, entry: dict) -> dict:
    groups = draw(st.sampled_from(_divisors(s.c)))
    per = draw(st.integers(1, max(1, MAX_CHANNELS // groups)))
    out = groups * per
    k = _pair(draw, 1, 5)
    d = _pair(draw, 1, 2, 0.8)
    mode = draw(st.sampled_from(["int", "int", "same", "valid", "pair"]))
    stride = (1, 1) if mode == "same" else _pair(draw, 1, 3)
    if mode == "same":
        pads = [((dd * (kk - 1)) // 2, dd * (kk - 1) - (dd * (kk - 1)) // 2) for kk, dd in zip(k, d)]
        padding = "same"
    elif mode == "valid":
        pads, padding = [(0, 0), (0, 0)], "valid"
    else:
        p = _pair(draw, 0, 3, 1.0 if mode == "int" else 0.0)
        pads, padding = [(p[0], p[0]), (p[1], p[1])], _yaml_pair(p)
    sizes = [out_size(n, kk, ss, pl, pr, dd) for n, kk, ss, (pl, pr), dd in zip((s.h, s.w), k, stride, pads, d)]
    if min(sizes) < 1:  # kernel does not fit: fall back to a 1x1 kernel
        k, d = (1, 1), (1, 1)
        pads = [(0, 0), (0, 0)] if padding == "same" else pads
        sizes = [out_size(n, 1, ss, pl, pr) for n, ss, (pl, pr) in zip((s.h, s.w), stride, pads)]
    entry.update(type="conv2d", out_channels=out, kernel_size=_yaml_pair(k))
    if stride != (1, 1):
        entry["stride"] = _yaml_pair(stride)
    if padding != 0:
        entry["padding"] = padding
    if d != (1, 1):
        entry["dilation"] = _yaml_pair(d)
    if groups > 1:
        entry["groups"] = groups
    if draw(st.booleans()):
        entry["bias"] = False
    _maybe_frozen(draw, entry)
    if draw(st.integers(0, 4)) == 0:
        entry["in_channels"] = s.c
    s.c, s.h, s.w = out, sizes[0], sizes[1]
    return entry


def conv_transpose(draw, s: State, entry: dict) -> dict:
    groups = draw(st.sampled_from(_divisors(s.c)))
    out = groups * draw(st.integers(1, max(1, MAX_CHANNELS // groups)))
    k = _pair(draw, 1, 4)
    stride = _pair(draw, 1, 3) if max(s.h, s.w) * 3 <= MAX_SIDE else (1, 1)
    d = _pair(draw, 1, 2, 0.8)
    p = _pair(draw, 0, 2)
    op = tuple(draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(stride, d))
    sizes = [(n - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1 for n, ss, pp, dd, kk, oo in zip((s.h, s.w), stride, p, d, k, op)]
    if min(sizes) < 1:
        p = (0, 0)
        sizes = [(n - 1) * ss + dd * (kk - 1) + oo + 1 for n, ss, dd, kk, oo in zip((s.h, s.w), stride, d, k, op)]
    entry.update(type="conv_transpose2d", out_channels=out, kernel_size=_yaml_pair(k), stride=_yaml_pair(stride))
    if p != (0, 0):
        entry["padding"] = _yaml_pair(p)
    if op != (0, 0):
        entry["output_padding"] = _yaml_pair(op)
    if d != (1, 1):
        entry["dilation"] = _yaml_pair(d)
    if groups > 1:
        entry["groups"] = groups
    if draw(st.booleans()):
        entry["bias"] = False
    _maybe_frozen(draw, entry)
    s.c, s.h, s.w = out, sizes[0], sizes[1]
    return entry


def _maybe_frozen(draw, entry: dict) -> None:
    """One weighted layer in five is frozen: the backward pass then skips its weight gradient, and
    a frozen stem leaves later inputs without a gradient."""
    if draw(st.integers(0, 4)) == 0:
        entry["trainable"] = False


def pool(draw, s: State, entry: dict) -> dict:
    kind = draw(st.sampled_from(["maxpool2d", "avgpool2d"]))
    k = _pair(draw, 1, 4)
    d = _pair(draw, 1, 2, 0.8) if kind == "maxpool2d" else (1, 1)
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    ceil = draw(st.booleans())
    eff = stride or k
    sizes = [out_size(n, kk, ss, pp, pp, dd, ceil) for n, kk, ss, pp, dd in zip((s.h, s.w), k, eff, p, d)]
    if min(sizes) < 1:
        k, d, p, stride = (1, 1), (1, 1), (0, 0), (1, 1)
        sizes = [s.h, s.w]
    entry.update(type=kind, kernel_size=_yaml_pair(k))
    if stride is not None:
        entry["stride"] = _yaml_pair(stride)
    if p != (0, 0):
        entry["padding"] = _yaml_pair(p)
    if d != (1, 1):
        entry["dilation"] = _yaml_pair(d)
    if ceil:
        entry["ceil_mode"] = True
    if kind == "avgpool2d" and draw(st.booleans()):
        entry["count_include_pad"] = False
    s.h, s.w = sizes
    return entry


def adaptive(draw, s: State, entry: dict) -> dict:
    kind = draw(st.sampled_from(["adaptive_avgpool2d", "adaptive_maxpool2d"]))
    oh, ow = draw(st.integers(1, s.h + 2)), draw(st.integers(1, s.w + 2))
    size = [oh, ow]
    if draw(st.integers(0, 5)) == 0:
        size = [None, ow]
        oh = s.h
    entry.update(type=kind, output_size=size if size[0] != size[1] else oh)
    s.h, s.w = oh, ow
    return entry


def upsample(draw, s: State, entry: dict) -> dict:
    mode = draw(st.sampled_from(["nearest", "bilinear"]))
    entry.update(type="upsample", mode=mode)
    if draw(st.integers(0, 3)) == 0:  # to a size, possibly not a multiple (receptive field unknown)
        h, w = draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE))
        entry["size"] = [h, w]
    else:
        f = _pair(draw, 1, 3)
        while s.h * f[0] > MAX_SIDE or s.w * f[1] > MAX_SIDE:
            f = (max(1, f[0] - 1), max(1, f[1] - 1))
            if f == (1, 1):
                break
        entry["scale_factor"] = _yaml_pair(f)
        h, w = s.h * f[0], s.w * f[1]
    if mode == "bilinear" and draw(st.booleans()):
        entry["align_corners"] = draw(st.booleans())
    s.h, s.w = h, w
    return entry


def pointwise(draw, s: State, entry: dict) -> dict:
    kind = draw(st.sampled_from(ACTIVATIONS + ["batchnorm2d", "batchnorm2d", "leaky_relu", "elu", "dropout", "local_response_norm", "softmax"]))
    entry["type"] = kind
    if kind == "batchnorm2d":
        if draw(st.booleans()):
            entry["affine"] = draw(st.booleans())
            # without running stats PyTorch needs more than one value per channel (batch 1)
            entry["track_running_stats"] = draw(st.booleans()) or s.h * s.w == 1
    elif kind == "leaky_relu":
        entry["negative_slope"] = 0.2
    elif kind == "dropout":
        entry["p"] = 0.3
    elif kind == "local_response_norm":
        entry["size"] = draw(st.integers(1, 5))
    return entry


SIMPLE = [(conv, 6), (pool, 3), (pointwise, 4), (conv_transpose, 1), (adaptive, 1), (upsample, 1)]


def simple_layer(draw, s: State, name: str | None = None) -> dict:
    makers = [m for m, weight in SIMPLE for _ in range(weight)]
    maker = draw(st.sampled_from(makers))
    return maker(draw, s, {"name": name} if name else {})


# --------------------------------------------------------------------------- structures
RES_BLOCK = {
    "args": {"planes": None, "stride": 1, "project": False, "k": 3},
    "layers": [
        {"name": "conv1", "type": "conv2d", "out_channels": "planes", "kernel_size": "k", "stride": "stride", "padding": "k // 2", "bias": False},
        {"name": "bn1", "type": "batchnorm2d"},
        {"name": "relu1", "type": "relu"},
        {"name": "conv2", "type": "conv2d", "out_channels": "planes", "kernel_size": "k", "padding": "k // 2"},
        {"name": "shortcut", "when": "project", "inputs": "input", "layers": [
            {"type": "conv2d", "out_channels": "planes", "kernel_size": 1, "stride": "stride", "bias": False},
            {"type": "batchnorm2d"},
        ]},
        {"name": "add", "type": "add", "inputs": ["conv2", "shortcut"]},
        {"name": "relu", "type": "relu"},
    ],
}
# a block that calls another block, with repeat inside
STAGE_BLOCK = {
    "args": {"planes": None, "count": 1, "stride": 1},
    "layers": [
        {"type": "res", "planes": "planes", "stride": "stride", "project": True},
        {"type": "res", "name": "more{i}", "planes": "planes", "repeat": "count - 1"},
    ],
}
UNIT_BLOCK = {
    "args": {"width": None, "k": 3, "s": 1},
    "layers": [
        {"type": "conv2d", "out_channels": "max(1, width)", "kernel_size": "k", "stride": "s", "padding": "k // 2"},
        {"type": "batchnorm2d"},
        "relu",
    ],
}


def residual_block(draw, s: State, name: str) -> dict:
    k = draw(st.sampled_from([1, 3, 5]))
    stride = draw(st.integers(1, 2))
    planes = draw(st.integers(1, MAX_CHANNELS))
    project = stride != 1 or planes != s.c or draw(st.booleans())
    s.blocks["res"] = RES_BLOCK
    entry = {"name": name, "type": "res", "planes": planes, "k": k}
    if stride != 1:
        entry["stride"] = stride
    if project:
        entry["project"] = True
    s.c, s.h, s.w = planes, (s.h - 1) // stride + 1, (s.w - 1) // stride + 1
    return entry


def stage(draw, s: State, name: str) -> dict:
    s.blocks["res"], s.blocks["stage"] = RES_BLOCK, STAGE_BLOCK
    planes, count, stride = draw(st.integers(1, 8)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    s.c, s.h, s.w = planes, (s.h - 1) // stride + 1, (s.w - 1) // stride + 1
    return {"name": name, "type": "stage", "planes": planes, "count": count, "stride": stride}


def units(draw, s: State, name: str) -> dict:
    s.blocks["unit"] = UNIT_BLOCK
    k, width, n = draw(st.sampled_from([1, 3])), draw(st.integers(1, 8)), draw(st.integers(1, 3))
    s.c = width
    return {"name": name, "layers": [{"type": "unit", "name": "u{i}", "width": f"{width} - i * 0", "k": k, "repeat": n}]}


def inline_residual(draw, s: State, name: str) -> dict:
    """A sequential group whose last entry adds its own input back (1-3 paths)."""
    body = []
    k = draw(st.sampled_from([1, 3]))
    body.append({"name": "a", "type": "conv2d", "out_channels": s.c, "kernel_size": k, "padding": k // 2, "groups": draw(st.sampled_from(_divisors(s.c)))})
    body.append({"name": "act", "type": draw(st.sampled_from(ACTIVATIONS))})
    inputs = ["act", "input"]
    if draw(st.booleans()):
        body.append({"name": "b", "type": "conv2d", "out_channels": s.c, "kernel_size": [1, 3], "padding": [0, 1], "inputs": "input"})
        inputs.append("b")
    body.append({"name": "sum", "type": "add", "inputs": inputs})
    return {"name": name, "layers": body}


def inception(draw, s: State, name: str) -> dict:
    """Branches from the group's input, joined by concat."""
    body, names, total = [], [], 0
    for b in range(draw(st.integers(2, 3))):
        kind = draw(st.sampled_from(["1x1", "3x3", "same", "pool", "nested"]))
        out = draw(st.integers(1, 6))
        bname = f"branch{b}"
        if kind == "1x1":
            body.append({"name": bname, "type": "conv2d", "out_channels": out, "kernel_size": 1, "inputs": "input"})
        elif kind == "3x3":
            body.append({"name": bname, "type": "conv2d", "out_channels": out, "kernel_size": 3, "padding": 1, "inputs": "input"})
        elif kind == "same":
            body.append({"name": bname, "type": "conv2d", "out_channels": out, "kernel_size": draw(st.sampled_from([2, 4, [2, 3]])), "padding": "same", "dilation": draw(st.integers(1, 2)), "inputs": "input"})
        elif kind == "pool":
            out = s.c
            body.append({"name": bname, "type": "maxpool2d", "kernel_size": 3, "stride": 1, "padding": 1, "inputs": "input"})
        else:
            body.append({"name": bname, "inputs": "input", "layers": [
                {"type": "conv2d", "out_channels": 2, "kernel_size": 1},
                {"type": "relu"},
                {"type": "conv2d", "out_channels": out, "kernel_size": 3, "padding": 1},
            ]})
        names.append(bname)
        total += out
    body.append({"name": "cat", "type": "concat", "inputs": names})
    s.c = total
    return {"name": name, "layers": body}


def group(draw, s: State, name: str, depth: int) -> dict:
    """A nested sequential group (optionally skipped by a false `when`)."""
    layers = body(draw, s, depth + 1, draw(st.integers(1, 3)))
    entry = {"name": name, "layers": layers}
    return entry


STRUCTURES = [("layer", 8), ("res", 2), ("stage", 1), ("units", 1), ("inline_res", 2), ("inception", 2), ("group", 2), ("skipped", 1)]


def body(draw, s: State, depth: int, count: int) -> list:
    entries: list = []
    kinds = [k for k, weight in STRUCTURES for _ in range(weight)]
    for index in range(count):
        kind = draw(st.sampled_from(kinds if depth < 3 else ["layer"]))
        name = f"n{index}" if draw(st.booleans()) else None
        if kind == "layer" or (kind in ("res", "stage", "inline_res", "inception") and min(s.h, s.w) < 1):
            entry = simple_layer(draw, s, name)
            if entry.get("type") in ACTIVATIONS and len(entry) == 1 and draw(st.booleans()):
                entry = entry["type"]  # the bare-string form
            entries.append(entry)
            continue
        name = name or f"g{index}"
        if kind == "res":
            entries.append(residual_block(draw, s, name))
        elif kind == "stage":
            entries.append(stage(draw, s, name))
        elif kind == "units":
            entries.append(units(draw, s, name))
        elif kind == "inline_res":
            entries.append(inline_residual(draw, s, name))
        elif kind == "inception":
            entries.append(inception(draw, s, name))
        elif kind == "group":
            entries.append(group(draw, s, name, depth))
        else:  # a dropped entry passes its input through
            entries.append({"name": name, "type": "conv2d", "out_channels": 99, "kernel_size": 99, "when": "1 > 2"})
    return entries


def head(draw, s: State) -> list:
    """An optional classifier head: pooled or flattened, then linear layers."""
    choice = draw(st.sampled_from(["none", "none", "gap", "flatten"]))
    if choice == "none" or (choice == "flatten" and s.c * s.h * s.w > 4096):
        return []
    layers = [{"name": "pool", "type": draw(st.sampled_from(["global_avgpool2d", "global_maxpool2d"]))}] if choice == "gap" else []
    layers.append({"name": "flatten", "type": "flatten"})
    if draw(st.booleans()):
        fc1 = {"name": "fc1", "type": "linear", "out_features": 7}
        _maybe_frozen(draw, fc1)
        layers += [fc1, {"type": "batchnorm1d"}, "relu", {"type": "dropout", "p": 0.5}]
    layers.append({"name": "fc", "type": "linear", "out_features": draw(st.integers(1, 10)), "bias": draw(st.booleans())})
    return layers


def dump(spec: dict) -> str:
    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, width=200)


@st.composite
def valid_nets(draw) -> str:
    """YAML text of a random net that PyTorch runs."""
    c, h, w = draw(st.integers(1, 4)), draw(st.integers(5, 40)), draw(st.integers(5, 40))
    s = State(c, h, w)
    layers = [simple_layer(draw, s, "stem")] + body(draw, s, 0, draw(st.integers(0, 5)))
    layers += head(draw, s)
    spec = {"name": "random", "input": f"{c}x{h}x{w}"}
    if s.blocks:
        spec["blocks"] = dict(s.blocks)
    spec["layers"] = layers
    return dump(spec)


# --------------------------------------------------------------------------- unconstrained nets
@st.composite
def free_layer(draw, channels: int) -> dict:
    """One layer with arguments drawn mostly, but not always, valid for ``channels`` inputs."""
    kind = draw(st.sampled_from(["conv2d", "conv2d", "conv_transpose2d", "maxpool2d", "maxpool2d", "avgpool2d", "upsample", "adaptive_avgpool2d", "batchnorm2d"]))
    layer: dict = {"type": kind}
    small = st.integers(0, 3)
    mostly_valid = draw(st.integers(0, 2)) > 0
    if kind in ("conv2d", "conv_transpose2d"):
        out = draw(st.integers(1, 6))
        groups = draw(st.sampled_from(_divisors(channels))) if mostly_valid else draw(st.integers(1, 3))
        layer.update(out_channels=out * groups if mostly_valid else out, kernel_size=draw(st.integers(1, 7)),
                     stride=draw(st.integers(1, 3)), dilation=draw(st.integers(1, 3)), groups=groups)
        if kind == "conv2d":
            layer["padding"] = draw(st.one_of(small, st.sampled_from(["same", "valid"])))
        else:
            layer["padding"] = draw(small)
            layer["output_padding"] = draw(small)
    elif kind in ("maxpool2d", "avgpool2d"):
        kernel = draw(st.integers(1, 6))
        layer.update(kernel_size=kernel, padding=draw(st.integers(0, kernel // 2 + 1 if mostly_valid else 3)), ceil_mode=draw(st.booleans()))
        if draw(st.booleans()):
            layer["stride"] = draw(st.integers(1, 3))
        if kind == "maxpool2d" and draw(st.booleans()):
            layer["dilation"] = draw(st.integers(1, 3))
    elif kind == "upsample":
        layer.update(scale_factor=draw(st.integers(1, 2)))
    elif kind == "adaptive_avgpool2d":
        layer.update(output_size=draw(st.integers(1, 4)))
    elif kind == "batchnorm2d":
        layer.update(num_features=channels if mostly_valid else draw(st.integers(1, 4)))
    return layer


@st.composite
def free_nets(draw) -> tuple[str, tuple[int, int, int], list[dict]]:
    """(YAML text, input shape, plan). A plan entry is a layer dict with 'inputs' as indices
    into earlier entries (-1: the net input) and 'name'."""
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 16)), draw(st.integers(1, 16)))
    plan: list[dict] = []
    channels = {-1: shape[0]}  # channel count of each entry, assuming it runs
    for index in range(draw(st.integers(1, 4))):
        name = f"l{index}"
        last = len(plan) - 1
        if plan and draw(st.integers(0, 3)) == 0:
            # join the previous entry with an earlier one (or the input): shapes may differ
            other = draw(st.integers(-1, len(plan) - 2)) if len(plan) > 1 else -1
            kind = draw(st.sampled_from(["add", "concat"]))
            plan.append({"name": name, "type": kind, "inputs": [last, other]})
            channels[index] = channels[last] + (channels[other] if kind == "concat" else 0)
            continue
        layer = draw(free_layer(channels[last]))
        layer["name"] = name
        layer["inputs"] = [last]
        plan.append(layer)
        channels[index] = layer.get("out_channels", channels[last])
    entries = []
    for layer in plan:
        entry = {k: v for k, v in layer.items() if k != "inputs"}
        entry["inputs"] = ["input" if i < 0 else plan[i]["name"] for i in layer["inputs"]]
        entries.append(entry)
    text = dump({"name": "free", "input": "x".join(map(str, shape)), "layers": entries})
    return text, shape, plan
