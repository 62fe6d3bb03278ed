"""PyTorch operations -> archcalc layer types, as tables keyed by the foreign name: a torch.nn (or
torchvision) module class, a function (``torch.nn.functional.relu``, ``operator.add``,
``torch.cat``) or a Tensor method (``Tensor.mean``). Each entry reads the call's arguments and
says which layer type(s) it is, so the importer (archcalc.pytorch.fx_import) never names a layer
type. Nothing here imports torch: a module is read through its attributes, a call through plain
values and the shapes of its tensor arguments (``TensorArg``, sizes without the batch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


class Unsupported(Exception):
    """The call does something archcalc's layer types cannot express (the message says what)."""


@dataclass(frozen=True)
class TensorArg:
    """A tensor argument of a call: which of the call's tensors it is, and its shape without the batch."""

    index: int
    shape: tuple[int, ...]


@dataclass
class Emit:
    """One layer the call becomes: its type, arguments, and which of the call's tensors it reads
    (None: all of them for the first layer, the previous layer for the others). ``suffix`` names a
    second or later layer of one call (``flatten`` after the global average of ``x.mean((2, 3))``)."""

    type: str
    args: dict = field(default_factory=dict)
    inputs: tuple[int, ...] | None = None
    suffix: str | None = None


@dataclass(frozen=True)
class Alias:
    """The call passes tensor ``index`` through unchanged (``x.contiguous()``, a one-tensor cat)."""

    index: int = 0


@dataclass
class OpCall:
    """One traced call as the tables see it: ``module`` (a module call) or None, the positional and
    keyword arguments with tensors as TensorArg, the output shape (without the batch) and, for an
    element of a call that returns several tensors (``x.chunk(2, 1)[0]``), ``part``."""

    module: Any
    args: tuple
    kwargs: dict
    out: tuple[int, ...]
    part: int | None = None

    @property
    def tensors(self) -> list[TensorArg]:
        found: list[TensorArg] = []
        for value in (*self.args, *self.kwargs.values()):
            for item in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(item, TensorArg):
                    found.append(item)
        return found

    def arg(self, position: int, name: str, default: Any = None) -> Any:
        if len(self.args) > position:
            return self.args[position]
        return self.kwargs.get(name, default)

    @property
    def in_shape(self) -> tuple[int, ...]:
        return self.tensors[0].shape


Rule = Callable[[OpCall], "list[Emit] | Alias"]


def class_key(cls: type) -> str:
    """A module class as the tables name it: torch.nn's classes by their public path."""
    module = cls.__module__
    if module.startswith("torch.nn.modules."):
        module = "torch.nn"
    return f"{module}.{cls.__qualname__}"


# -- helpers ---------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """Tuples as lists (YAML), a pair of equal values as one."""
    if isinstance(value, (tuple, list)):
        items = [_plain(v) for v in value]
        return items[0] if len(items) == 2 and items[0] == items[1] else items
    return value


def _map_dim(call: OpCall, dim: int) -> int:
    """A torch dimension (batch included, may be negative) as one of the sample's dimensions."""
    rank = len(call.in_shape) + 1
    if not -rank <= dim < rank:
        raise Unsupported(f"dimension {dim} out of range")
    dim %= rank
    if dim == 0:
        raise Unsupported("an operation along the batch dimension")
    return dim - 1


def _tensor_count(call: OpCall, count: int, what: str) -> None:
    if len(call.tensors) != count:
        raise Unsupported(f"{what} with {len(call.tensors)} tensor arguments (archcalc reads {count})")


def _map_only(call: OpCall, what: str) -> None:
    if len(call.in_shape) != 3:
        raise Unsupported(f"{what} on a tensor of {len(call.in_shape) + 1} dimensions (archcalc reads NxCxHxW maps)")


def _one(type_name: str, **args: Any) -> list[Emit]:
    return [Emit(type_name, {k: _plain(v) for k, v in args.items()})]


# -- modules ---------------------------------------------------------------------------------------

def _conv(module, transposed: bool = False, padding=None) -> list[Emit]:
    if getattr(module, "padding_mode", "zeros") != "zeros":
        raise Unsupported(f"padding_mode '{module.padding_mode}' (archcalc's convolution pads with zeros)")
    if len(module.kernel_size) != 2:
        raise Unsupported(f"a {len(module.kernel_size)}-D convolution")
    args = dict(out_channels=module.out_channels, kernel_size=module.kernel_size,
                stride=module.stride, padding=module.padding if padding is None else padding, dilation=module.dilation, groups=module.groups,
                bias=module.bias is not None)
    if transposed:
        args["output_padding"] = module.output_padding
        return _one("conv_transpose2d", **args)
    return _one("conv2d", **args)


def _batchnorm(type_name: str):
    def rule(call: OpCall):
        m = call.module
        return _one(type_name, eps=m.eps, momentum=m.momentum, affine=m.affine,
                    track_running_stats=m.track_running_stats)
    return rule


def _with_children(first: Rule, *children: str) -> Rule:
    """A module that is a layer followed by child modules it calls in its own forward (timm's
    BatchNormAct2d: batch norm, then its ``drop`` and ``act``): the first layer, then each child
    that is not an identity, read through its own class's entry."""
    def rule(call: OpCall):
        emits = list(first(call))
        for name in children:
            child = getattr(call.module, name, None)
            if child is None or class_key(type(child)) == "torch.nn.Identity":
                continue
            child_rule = MODULES.get(class_key(type(child)))
            if child_rule is None:
                raise Unsupported(f"its {name} is a {class_key(type(child))}, which archcalc has no layer type for")
            for emit in child_rule(OpCall(child, call.args, call.kwargs, call.out)):
                emits.append(Emit(emit.type, emit.args, None, name))
        return emits
    return rule


def _maxpool(kernel, stride, padding, dilation, ceil_mode, return_indices=False) -> list[Emit]:
    if return_indices:
        raise Unsupported("max pooling that returns indices")
    return _one("maxpool2d", kernel_size=kernel, stride=kernel if stride in (None, []) else stride, padding=padding,
                dilation=dilation, ceil_mode=bool(ceil_mode))


def _avgpool(kernel, stride, padding, ceil_mode, count_include_pad) -> list[Emit]:
    return _one("avgpool2d", kernel_size=kernel, stride=kernel if stride in (None, []) else stride, padding=padding,
                ceil_mode=bool(ceil_mode), count_include_pad=bool(count_include_pad))


def _is_one(size) -> bool:
    return size == 1 or (isinstance(size, (tuple, list)) and all(s == 1 for s in size))


def _adaptive(kind: str):
    """Adaptive pooling: to 1x1 it is the global pool (the zoo's own spelling of it)."""
    def read(call: OpCall, size):
        _map_only(call, f"adaptive {kind} pooling")
        if _is_one(size):
            return _one(f"global_{kind}pool2d")
        return _one(f"adaptive_{kind}pool2d", output_size=size)
    return read


def _linear(call: OpCall):
    if len(call.in_shape) != 1:
        raise Unsupported("a linear layer on a tensor of more than 2 dimensions (archcalc reads NxF vectors)")
    m = call.module
    return _one("linear", out_features=m.out_features, bias=m.bias is not None)


def _layernorm(call: OpCall):
    m = call.module
    shape = tuple(m.normalized_shape)
    if len(call.in_shape) != 1 or shape != call.in_shape:
        raise Unsupported(f"layer norm over {list(shape)} of a {len(call.in_shape) + 1}-D tensor (archcalc normalises "
                          "a flat vector's features, or a map's channels)")
    return _one("layernorm", eps=m.eps, elementwise_affine=m.elementwise_affine,
                bias=getattr(m, "bias", None) is not None)


def _flatten_module(call: OpCall):
    m = call.module
    return _flatten(call, m.start_dim, m.end_dim)


def _flatten(call: OpCall, start: int = 0, end: int = -1):
    rank = len(call.in_shape) + 1
    if start % rank != 1 or end % rank != rank - 1:
        raise Unsupported(f"flatten of dimensions {start}..{end} (archcalc flattens all but the batch)")
    return _one("flatten") if rank > 2 else Alias()


def _reshape(call: OpCall):
    """view / reshape / unflatten: flattening a map, reading a vector as a map, or nothing."""
    before, after = call.in_shape, call.out
    if before == after:
        return Alias()
    if len(after) == 1:
        return _one("flatten")
    if len(before) == 1 and len(after) == 3:
        return _one("reshape", shape=list(after))
    raise Unsupported(f"a reshape of {list(before)} to {list(after)} (archcalc reads CxHxW maps and flat vectors)")


def _upsample_module(call: OpCall):
    m = call.module
    return _upsample(call, m.size, m.scale_factor, m.mode, m.align_corners)


def _upsample(call: OpCall, size, scale, mode, align_corners):
    _map_only(call, "upsampling")
    if mode not in ("nearest", "bilinear"):
        raise Unsupported(f"interpolation mode '{mode}'")
    if scale is not None:
        scales = scale if isinstance(scale, (tuple, list)) else (scale, scale)
        if any(float(s) != int(s) for s in scales):
            raise Unsupported(f"a fractional scale factor {scale}")
        scale = [int(s) for s in scales]
    args = {"mode": mode}
    if size is not None:
        args["size"] = size
    else:
        args["scale_factor"] = scale
    if align_corners is not None:
        args["align_corners"] = bool(align_corners)
    return _one("upsample", **args)


_PAD_MODES = {"ZeroPad2d": "constant", "ConstantPad2d": "constant", "ReflectionPad2d": "reflect",
              "ReplicationPad2d": "replicate", "CircularPad2d": "circular"}


def _pad_module(mode: str):
    def rule(call: OpCall):
        m = call.module
        return _pad(call, m.padding, mode, getattr(m, "value", 0.0))
    return rule


def _pad(call: OpCall, padding, mode="constant", value=0.0):
    """torch's pad order is (left, right, top, bottom); archcalc's per-side form is [top, bottom, left, right]."""
    _map_only(call, "padding")
    padding = list(padding) if isinstance(padding, (tuple, list)) else [padding] * 4
    if len(padding) != 4:
        raise Unsupported(f"padding of {len(padding) // 2} dimensions")
    left, right, top, bottom = padding
    args = {"padding": [top, bottom, left, right], "mode": mode}
    if mode == "constant":
        args["value"] = float(value or 0.0)
    return [Emit("pad", args)]


def _activation(type_name: str, *names: str):
    """An element-wise module: its arguments read by name (``inplace`` changes no count)."""
    def rule(call: OpCall):
        return _one(type_name, **{name: getattr(call.module, name) for name in names})
    return rule


def _softmax_module(call: OpCall):
    return _softmax(call, call.module.dim)


def _softmax(call: OpCall, dim):
    if dim is None:
        raise Unsupported("softmax without a dimension")
    return _one("softmax", dim=_map_dim(call, dim))


def _dropout_module(call: OpCall):
    return _one("dropout", p=call.module.p)


def _stochastic_depth(call: OpCall):
    return _one("stochastic_depth", p=call.module.p, mode=call.module.mode)


def _channel_shuffle(call: OpCall, groups):
    _map_only(call, "channel shuffle")
    return _one("channel_shuffle", groups=groups)


MODULES: dict[str, Rule] = {
    "torch.nn.Conv2d": lambda c: _conv(c.module),
    "torch.nn.ConvTranspose2d": lambda c: _conv(c.module, transposed=True),
    "torch.nn.Linear": _linear,
    "torch.nn.BatchNorm2d": _batchnorm("batchnorm2d"),
    "torch.nn.BatchNorm1d": _batchnorm("batchnorm1d"),
    "torch.nn.InstanceNorm2d": _batchnorm("instancenorm2d"),
    "torch.nn.GroupNorm": lambda c: _one("groupnorm", num_groups=c.module.num_groups,
                                         eps=c.module.eps, affine=c.module.affine),
    "torch.nn.LayerNorm": _layernorm,
    "torch.nn.LocalResponseNorm": lambda c: _one("local_response_norm", size=c.module.size, alpha=c.module.alpha,
                                                 beta=c.module.beta, k=c.module.k),
    "torch.nn.MaxPool2d": lambda c: _maxpool(c.module.kernel_size, c.module.stride, c.module.padding, c.module.dilation,
                                             c.module.ceil_mode, c.module.return_indices),
    "torch.nn.AvgPool2d": lambda c: _avgpool(c.module.kernel_size, c.module.stride, c.module.padding, c.module.ceil_mode,
                                             c.module.count_include_pad),
    "torch.nn.AdaptiveAvgPool2d": lambda c: _adaptive("avg")(c, c.module.output_size),
    "torch.nn.AdaptiveMaxPool2d": lambda c: _adaptive("max")(c, c.module.output_size)
    if not c.module.return_indices else _maxpool(0, 0, 0, 0, 0, True),
    "torch.nn.ReLU": _activation("relu", "inplace"),
    "torch.nn.ReLU6": _activation("relu6", "inplace"),
    "torch.nn.LeakyReLU": _activation("leaky_relu", "negative_slope", "inplace"),
    "torch.nn.ELU": _activation("elu", "alpha", "inplace"),
    "torch.nn.Sigmoid": _activation("sigmoid"),
    "torch.nn.Tanh": _activation("tanh"),
    "torch.nn.GELU": _activation("gelu", "approximate"),
    "torch.nn.SiLU": _activation("silu", "inplace"),
    "torch.nn.Hardswish": _activation("hardswish", "inplace"),
    "torch.nn.Hardsigmoid": _activation("hardsigmoid", "inplace"),
    "torch.nn.Softmax": _softmax_module,
    "torch.nn.Dropout": _dropout_module,
    "torch.nn.Dropout2d": _dropout_module,
    "torch.nn.Identity": lambda c: _one("identity"),
    "torch.nn.Flatten": _flatten_module,
    "torch.nn.Unflatten": _reshape,
    "torch.nn.Upsample": _upsample_module,
    "torch.nn.ChannelShuffle": lambda c: _channel_shuffle(c, c.module.groups),
    "torchvision.ops.stochastic_depth.StochasticDepth": _stochastic_depth,
    # timm's layers that are torch.nn's with a fixed extra: a following activation, TensorFlow's
    # SAME padding, weight standardisation (same parameters, and FlopCounterMode counts only the
    # convolution of the standardised weight)
    "timm.layers.norm_act.BatchNormAct2d": _with_children(_batchnorm("batchnorm2d"), "drop", "act"),
    "timm.layers.norm_act.GroupNormAct": _with_children(
        lambda c: _one("groupnorm", num_groups=c.module.num_groups, eps=c.module.eps, affine=c.module.affine),
        "drop", "act"),
    "timm.layers.linear.Linear": _linear,
    "timm.layers.conv2d_same.Conv2dSame": lambda c: _conv(c.module, padding="tf_same"),
    "timm.layers.std_conv.StdConv2d": lambda c: _conv(c.module, padding="tf_same" if getattr(c.module, "same_pad", False)
                                                      else None),
    "timm.layers.pool2d_same.MaxPool2dSame": lambda c: _maxpool(c.module.kernel_size, c.module.stride, "tf_same",
                                                                c.module.dilation, c.module.ceil_mode),
    "timm.layers.pool2d_same.AvgPool2dSame": lambda c: _avgpool(c.module.kernel_size, c.module.stride, "tf_same",
                                                                c.module.ceil_mode, c.module.count_include_pad),
    **{f"torch.nn.{name}": _pad_module(mode) for name, mode in _PAD_MODES.items()},
}


# -- functions and Tensor methods ------------------------------------------------------------------

def _elementwise(type_name: str, **fixed):
    def rule(call: OpCall):
        _tensor_count(call, 1, type_name)
        return _one(type_name, **fixed)
    return rule


def _join(type_name: str, neutral: int):
    """A sum or product of tensors; plus 0 or times 1 (a sum started at 0) passes the tensor on; a
    tensor times or plus another number is no layer archcalc has."""
    def rule(call: OpCall):
        tensors = call.tensors
        others = [a for a in call.args[:2] if not isinstance(a, TensorArg)]
        if len(tensors) == 1 and len(others) == 1 and not isinstance(others[0], bool) and others[0] == neutral:
            return Alias(tensors[0].index)
        if len(tensors) < 2 or others:
            raise Unsupported(f"{type_name} of a tensor and a number")
        if call.kwargs.get("alpha", 1) != 1:
            raise Unsupported("add with alpha")
        return [Emit(type_name)]
    return rule


def _cat(call: OpCall):
    tensors = [t for t in call.arg(0, "tensors", ()) if isinstance(t, TensorArg)]
    if len(tensors) == 1:
        return Alias(tensors[0].index)
    dim = call.arg(1, "dim", 0)
    if _map_dim(call, dim) != 0:
        raise Unsupported(f"concatenation along dimension {dim} (archcalc joins the channels, dimension 1)")
    return [Emit("concat")]


def _mean(call: OpCall):
    """x.mean((2, 3)) of a map: the global average; without keepdim the 1x1 positions go as well."""
    dims = call.arg(1, "dim")
    keepdim = call.arg(2, "keepdim", False)
    _map_only(call, "mean")
    dims = sorted(_map_dim(call, d) for d in (dims if isinstance(dims, (list, tuple)) else [dims]))
    if dims != [1, 2]:
        raise Unsupported(f"a mean over dimensions {[d + 1 for d in dims]} (archcalc averages H and W)")
    return [Emit("global_avgpool2d")] if keepdim else [Emit("global_avgpool2d"), Emit("flatten", suffix="flatten")]


def _chunk(call: OpCall):
    chunks, dim = call.arg(1, "chunks"), call.arg(2, "dim", 0)
    if _map_dim(call, dim) != 0:
        raise Unsupported(f"a chunk along dimension {dim} (archcalc slices the channels, dimension 1)")
    return _one("slice", chunks=chunks, index=call.part)


def _split(call: OpCall):
    size, dim = call.arg(1, "split_size_or_sections"), call.arg(2, "dim", 0)
    if _map_dim(call, dim) != 0:
        raise Unsupported(f"a split along dimension {dim} (archcalc slices the channels, dimension 1)")
    sizes = list(size) if isinstance(size, (list, tuple)) else None
    start = sum(sizes[:call.part]) if sizes else call.part * size
    return _one("slice", start=start, end=start + call.out[0])


def _getitem(call: OpCall):
    """x[:, a:b] (a channel slice) or x[:, :] (the whole tensor)."""
    index = call.arg(1, "index")
    index = index if isinstance(index, tuple) else (index,)
    full = slice(None, None, None)
    if not index or index[0] != full or any(i != full for i in index[2:]) or \
            (len(index) > 1 and not isinstance(index[1], slice)):
        raise Unsupported(f"indexing with {index!r} (archcalc slices the channels: x[:, a:b])")
    if len(index) == 1 or index[1] == full:
        return Alias()
    piece = index[1]
    if piece.step not in (None, 1):
        raise Unsupported("a strided slice")
    size = call.in_shape[0]
    start, end, _ = piece.indices(size)
    return _one("slice", start=start or None, end=end if end != size else None)


def _f_dropout(call: OpCall):
    return _one("dropout", p=call.arg(1, "p", 0.5))


def _f_adaptive(kind: str):
    return lambda c: _adaptive(kind)(c, c.arg(1, "output_size"))


def _f_softmax(call: OpCall):
    return _softmax(call, call.arg(1, "dim"))


FUNCTIONS: dict[str, Rule] = {
    "torch.nn.functional.relu": _elementwise("relu"),
    "torch.relu": _elementwise("relu"),
    "torch.nn.functional.relu6": _elementwise("relu6"),
    "torch.nn.functional.silu": _elementwise("silu"),
    "torch.nn.functional.gelu": lambda c: _one("gelu", approximate=c.arg(1, "approximate", "none")),
    "torch.nn.functional.hardswish": _elementwise("hardswish"),
    "torch.nn.functional.hardsigmoid": _elementwise("hardsigmoid"),
    "torch.nn.functional.sigmoid": _elementwise("sigmoid"),
    "torch.sigmoid": _elementwise("sigmoid"),
    "torch.tanh": _elementwise("tanh"),
    "torch.nn.functional.tanh": _elementwise("tanh"),
    "torch.nn.functional.leaky_relu": lambda c: _one("leaky_relu", negative_slope=c.arg(1, "negative_slope", 0.01)),
    "torch.nn.functional.elu": lambda c: _one("elu", alpha=c.arg(1, "alpha", 1.0)),
    "torch.nn.functional.softmax": _f_softmax,
    "torch.softmax": _f_softmax,
    "torch.nn.functional.dropout": _f_dropout,
    "torch.nn.functional.max_pool2d": lambda c: _maxpool(c.arg(1, "kernel_size"), c.arg(2, "stride"), c.arg(3, "padding", 0),
                                                         c.arg(4, "dilation", 1), c.arg(5, "ceil_mode", False),
                                                         c.arg(6, "return_indices", False)),
    "torch.nn.functional.avg_pool2d": lambda c: _avgpool(c.arg(1, "kernel_size"), c.arg(2, "stride"), c.arg(3, "padding", 0),
                                                         c.arg(4, "ceil_mode", False), c.arg(5, "count_include_pad", True)),
    "torch.nn.functional.adaptive_avg_pool2d": _f_adaptive("avg"),
    "torch.nn.functional.adaptive_max_pool2d": _f_adaptive("max"),
    "torch.nn.functional.interpolate": lambda c: _upsample(c, c.arg(1, "size"), c.arg(2, "scale_factor"),
                                                           c.arg(3, "mode", "nearest"), c.arg(4, "align_corners")),
    "torch.nn.functional.pad": lambda c: _pad(c, c.arg(1, "pad"), c.arg(2, "mode", "constant"), c.arg(3, "value", 0.0)),
    "torch.flatten": lambda c: _flatten(c, c.arg(1, "start_dim", 0), c.arg(2, "end_dim", -1)),
    "torch.cat": _cat,
    "torch.concat": _cat,
    "torch.chunk": _chunk,
    "torch.split": _split,
    "torch.add": _join("add", 0),
    "torch.mul": _join("mul", 1),
    "operator.add": _join("add", 0),
    "operator.iadd": _join("add", 0),
    "operator.mul": _join("mul", 1),
    "operator.imul": _join("mul", 1),
    "operator.getitem": _getitem,
    "torchvision.models.shufflenetv2.channel_shuffle": lambda c: _channel_shuffle(c, c.arg(1, "groups")),
}

# Tensor methods: the tensor is the first argument, as in the function form (x.chunk(2, 1) reads
# as torch.chunk(x, 2, 1))
METHODS: dict[str, Rule] = {
    "relu": _elementwise("relu"), "relu_": _elementwise("relu"), "sigmoid": _elementwise("sigmoid"),
    "sigmoid_": _elementwise("sigmoid"), "tanh": _elementwise("tanh"),
    "softmax": _f_softmax,
    "add": _join("add", 0), "add_": _join("add", 0), "mul": _join("mul", 1), "mul_": _join("mul", 1),
    "mean": _mean,
    "flatten": lambda c: _flatten(c, c.arg(1, "start_dim", 0), c.arg(2, "end_dim", -1)),
    "view": _reshape, "reshape": _reshape,
    "contiguous": lambda c: Alias(),
    "chunk": _chunk,
    "split": _split,
}

# functions that fx should record as one call instead of tracing into (the tables above read them)
WRAPPED_FUNCTIONS = ("torchvision.models.shufflenetv2.channel_shuffle",)

# calls that return several tensors: each element used (``getitem``) is read with ``part``, and the
# call itself is no layer
MULTI_OUTPUT = ("function:torch.chunk", "function:torch.split", "method:chunk", "method:split")
