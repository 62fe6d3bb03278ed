"""The rules of archcalc.layers.imports.aten_ops: how one ATen op of a torch.export program reads
as archcalc layers. A rule sees the op's arguments by their schema names (every argument, defaults
filled in), its activations as ``TensorArg`` (shapes without the batch) and the parameters and
buffers it reads as ``Weight`` (state_dict name and full shape), so layer arguments come from the
weights' shapes: a convolution's output channels and kernel from its weight. No torch."""

from __future__ import annotations

from dataclasses import dataclass

from .calls import Alias, Emit, OpCall, TensorArg, Unsupported
from .torch_rules import _map_dim, _plain, avgpool, maxpool, one
from .torch_rules import pad as torch_pad


@dataclass(frozen=True)
class Weight:
    """A parameter, buffer or constant of the program as an op reads it: its state_dict name, the
    shape read (after ``t``/``permute``: ``shape``), the shape stored, and its kind."""

    name: str
    shape: tuple[int, ...]
    stored: tuple[int, ...]
    kind: str  # "parameter", "buffer" or "constant"


def arg(call: OpCall, name: str, default=None):
    return call.kwargs.get(name, default)


def _weight(call: OpCall, name: str, kind: str = "parameter", what: str = "weight",
            viewed: bool = False) -> Weight | None:
    """The Weight argument ``name`` (None when absent), refused unless it is a ``kind`` read in the
    shape stored (``viewed``: in any shape; the caller checks which)."""
    value = arg(call, name)
    if value is None:
        return None
    if not isinstance(value, Weight):
        raise Unsupported(f"its {what} is computed in forward, not a {kind} (archcalc reads a layer's own tensors)")
    if value.kind != kind:
        raise Unsupported(f"its {what} '{value.name}' is a {value.kind}, not a {kind}")
    if not viewed and value.shape != value.stored:
        raise Unsupported(f"its {what} '{value.name}' is read as {list(value.shape)}, not as stored "
                          f"({list(value.stored)})")
    return value


def _per_axis(value, dims: int) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    return values * dims if len(values) == 1 else values


def _rank_dims(call: OpCall, what: str) -> int:
    dims = len(call.in_shape) - 1
    if dims not in (1, 2, 3):
        raise Unsupported(f"{what} of a {len(call.in_shape) + 1}-D tensor")
    return dims


# -- weighted layers -------------------------------------------------------------------------------

def convolution(call: OpCall, transposed: bool | None = None):
    """aten.convolution and aten.conv1d/2d/3d, conv_transpose1d/2d/3d: the layer from the weight's
    shape (out x in/groups x kernel; transposed: in x out/groups x kernel)."""
    weight = _weight(call, "weight")
    bias = _weight(call, "bias", what="bias")
    transposed = bool(arg(call, "transposed", False)) if transposed is None else transposed
    dims = len(weight.stored) - 2
    if dims not in (1, 2, 3) or len(call.in_shape) != dims + 1:
        raise Unsupported(f"a {dims}-D convolution of a {len(call.in_shape) + 1}-D tensor")
    groups = arg(call, "groups", 1)
    padding = arg(call, "padding", 0)
    args = dict(out_channels=weight.stored[1] * groups if transposed else weight.stored[0],
                kernel_size=list(weight.stored[2:]), stride=_per_axis(arg(call, "stride", 1), dims),
                padding=padding if isinstance(padding, str) else _per_axis(padding, dims),
                dilation=_per_axis(arg(call, "dilation", 1), dims), groups=groups, bias=bias is not None)
    if transposed:
        args["output_padding"] = _per_axis(arg(call, "output_padding", 0), dims)
        return one(f"conv_transpose{dims}d", **args)
    return one(f"conv{dims}d", **args)


def linear(call: OpCall):
    """aten.linear(input, weight, bias): weight out x in."""
    weight = _weight(call, "weight")
    bias = _weight(call, "bias", what="bias")
    return _linear(call, weight.stored[0], bias is not None)


def _linear(call: OpCall, out_features: int, bias: bool):
    # on the last dimension: a vector's features, or a channels-last map's (the analysis checks which)
    return one("linear", out_features=out_features, bias=bias)


def _transposed_weight(call: OpCall, name: str) -> Weight:
    """mm/addmm's second matrix: a linear layer's weight (out x in) read transposed (in x out)."""
    weight = _weight(call, name, viewed=True)
    if len(weight.stored) != 2 or weight.shape != weight.stored[::-1]:
        raise Unsupported(f"a matrix product with '{weight.name}' as stored (a linear layer reads its weight transposed)")
    return weight


def mm(call: OpCall):
    """aten.mm(self, mat2): x @ weight.t(), a linear layer without bias."""
    return _linear(call, _transposed_weight(call, "mat2").stored[0], False)


def addmm(call: OpCall):
    """aten.addmm(self=bias, mat1=x, mat2=weight.t(), beta, alpha): a linear layer with bias."""
    weight = _transposed_weight(call, "mat2")
    bias = _weight(call, "self", what="bias")
    if arg(call, "beta", 1) != 1 or arg(call, "alpha", 1) != 1:
        raise Unsupported("addmm with beta or alpha other than 1")
    if bias.stored != (weight.stored[0],):
        raise Unsupported(f"addmm whose bias '{bias.name}' is not one per output feature")
    return _linear(call, weight.stored[0], True)


def batch_norm(call: OpCall):
    """The batch-norm ops (batch_norm, _native_batch_norm_legit[_no_training|_functional],
    native_batch_norm): the output (part 0) is the layer; its type by the input's rank."""
    if call.part not in (None, 0):
        raise Unsupported("the saved statistics of a batch norm (archcalc reads its output)")
    weight = _weight(call, "weight")
    _weight(call, "bias", what="bias")
    running = _weight(call, "running_mean", "buffer", "running mean")
    _weight(call, "running_var", "buffer", "running variance")
    dims = len(call.in_shape) - 1
    type_name = {0: "batchnorm1d", 1: "batchnorm1d", 2: "batchnorm2d", 3: "batchnorm3d"}.get(dims)
    if type_name is None:
        raise Unsupported(f"batch norm of a {dims + 2}-D tensor")
    momentum = arg(call, "momentum", 0.1)
    return one(type_name, eps=arg(call, "eps", 1e-5), momentum=0.1 if momentum is None else momentum,
               affine=weight is not None, track_running_stats=running is not None)


def group_norm(call: OpCall):
    """group_norm(num_groups), and native_group_norm(group) read for its output (part 0)."""
    if call.part not in (None, 0):
        raise Unsupported("the saved statistics of a group norm (archcalc reads its output)")
    weight = _weight(call, "weight")
    _weight(call, "bias", what="bias")
    groups = arg(call, "num_groups", arg(call, "group"))
    return one("groupnorm", num_groups=groups, eps=arg(call, "eps", 1e-5), affine=weight is not None)


# -- activations, joins ----------------------------------------------------------------------------

def elementwise(type_name: str, **fixed):
    def rule(call: OpCall):
        return one(type_name, **fixed)
    return rule


def hardtanh(call: OpCall):
    """ReLU6 exports as hardtanh(0, 6); any other range is no layer type archcalc has."""
    if (arg(call, "min_val", -1.0), arg(call, "max_val", 1.0)) != (0.0, 6.0):
        raise Unsupported(f"hardtanh between {arg(call, 'min_val', -1.0)} and {arg(call, 'max_val', 1.0)} "
                          "(archcalc has relu6: 0 to 6)")
    return one("relu6")


def gelu(call: OpCall):
    return one("gelu", approximate=arg(call, "approximate", "none"))


def leaky_relu(call: OpCall):
    return one("leaky_relu", negative_slope=arg(call, "negative_slope", 0.01))


def elu(call: OpCall):
    if arg(call, "scale", 1) != 1 or arg(call, "input_scale", 1) != 1:
        raise Unsupported("elu with a scale (SELU/CELU)")
    return one("elu", alpha=arg(call, "alpha", 1.0))


def softmax(call: OpCall):
    return one("softmax", dim=_map_dim(call, arg(call, "dim")))


def join(type_name: str, neutral: int):
    """add/mul of tensors (Tensor overloads) or of a tensor and a number (Scalar overloads, or a
    number given as ``other``): plus 0 or times 1 passes the tensor on; any other number is no
    layer archcalc has."""
    def rule(call: OpCall):
        other = arg(call, "other")
        if not isinstance(other, TensorArg):
            if not isinstance(other, bool) and other == neutral and arg(call, "alpha", 1) == 1:
                return Alias(0)
            raise Unsupported(f"{type_name} of a tensor and the number {other!r} (archcalc has no constant-scale "
                              "or bias layer type)")
        if arg(call, "alpha", 1) != 1:
            raise Unsupported("add with alpha")
        return [Emit(type_name)]
    return rule


def cat(call: OpCall):
    tensors = [t for t in arg(call, "tensors", ()) if isinstance(t, TensorArg)]
    if len(tensors) != len(arg(call, "tensors", ())):
        raise Unsupported("a concatenation with a parameter or constant")
    if len(tensors) == 1:
        return Alias(tensors[0].index)
    dim = arg(call, "dim", 0)
    if _map_dim(call, dim) != 0:
        raise Unsupported(f"concatenation along dimension {dim} (archcalc joins the channels, dimension 1)")
    return [Emit("concat")]


def dropout(call: OpCall):
    if call.part not in (None, 0):
        raise Unsupported("dropout's mask")
    return one("dropout", p=arg(call, "p", 0.5))


# -- pools -----------------------------------------------------------------------------------------

def max_pool(call: OpCall):
    """max_pool1d/2d/3d, and their _with_indices forms read for the output (part 0)."""
    if call.part not in (None, 0):
        raise Unsupported("max pooling's indices")
    dims = _rank_dims(call, "max pooling")
    return maxpool(_plain(arg(call, "kernel_size")), _plain(arg(call, "stride") or None), _plain(arg(call, "padding", 0)),
                   _plain(arg(call, "dilation", 1)), arg(call, "ceil_mode", False), dims=dims)


def avg_pool(call: OpCall):
    if arg(call, "divisor_override") is not None:
        raise Unsupported("average pooling with divisor_override")
    dims = _rank_dims(call, "average pooling")
    return avgpool(_plain(arg(call, "kernel_size")), _plain(arg(call, "stride") or None), _plain(arg(call, "padding", 0)),
                   arg(call, "ceil_mode", False), arg(call, "count_include_pad", True), dims=dims)


def adaptive_pool(kind: str):
    def rule(call: OpCall):
        if call.part not in (None, 0):
            raise Unsupported(f"adaptive {kind} pooling's indices")
        dims = _rank_dims(call, f"adaptive {kind} pooling")
        size = _plain(arg(call, "output_size"))
        if dims == 2 and (size == 1 or size == [1, 1]):
            return one(f"global_{kind}pool2d")
        return one(f"adaptive_{kind}pool{dims}d", output_size=size)
    return rule


def mean(call: OpCall):
    """mean.dim over H and W: the global average (then a flatten without keepdim)."""
    dims = arg(call, "dim")
    dims = sorted(_map_dim(call, d) for d in (dims if isinstance(dims, (list, tuple)) else [dims]))
    if len(call.in_shape) != 3 or dims != [1, 2]:
        raise Unsupported(f"a mean over dimensions {[d + 1 for d in dims]} (archcalc averages H and W of a map)")
    if arg(call, "keepdim", False):
        return [Emit("global_avgpool2d")]
    return [Emit("global_avgpool2d"), Emit("flatten", suffix="flatten")]


# -- shapes ----------------------------------------------------------------------------------------

def upsample(mode: str):
    """upsample_nearest2d / upsample_bilinear2d (.vec: output_size or scale_factors; .default:
    output_size and scales_h/scales_w): the size asked for, else the integer scale."""
    def rule(call: OpCall):
        if len(call.in_shape) != 3:
            raise Unsupported(f"upsampling of a {len(call.in_shape) + 1}-D tensor")
        scales = arg(call, "scale_factors") or [s for s in (arg(call, "scales_h"), arg(call, "scales_w")) if s is not None]
        size = arg(call, "output_size")
        args: dict = {"mode": mode}
        if scales and len(scales) == 2 and all(float(s) == int(s) for s in scales) and \
                [int(s) * n for s, n in zip(scales, call.in_shape[1:])] == list(call.out[1:]):
            args["scale_factor"] = [int(s) for s in scales]
        elif size is not None:
            args["size"] = list(size)
        else:
            raise Unsupported(f"a fractional scale factor {scales}")
        if mode == "bilinear":
            args["align_corners"] = bool(arg(call, "align_corners", False))
        return one("upsample", **{k: _plain(v) for k, v in args.items()})
    return rule


def channel_slice(call: OpCall, start: int, end: int):
    size = call.in_shape[0]
    return one("slice", start=start or None, end=end if end != size else None)


def split(call: OpCall):
    """split.Tensor(split_size) / split_with_sizes(split_sizes) along the channels: part k is a slice."""
    if _map_dim(call, arg(call, "dim", 0)) != 0:
        raise Unsupported(f"a split along dimension {arg(call, 'dim', 0)} (archcalc slices the channels, dimension 1)")
    sizes = arg(call, "split_sizes")
    start = sum(sizes[:call.part]) if sizes is not None else call.part * arg(call, "split_size")
    return channel_slice(call, start, start + call.out[0])


def chunk(call: OpCall):
    if _map_dim(call, arg(call, "dim", 0)) != 0:
        raise Unsupported(f"a chunk along dimension {arg(call, 'dim', 0)} (archcalc slices the channels, dimension 1)")
    return one("slice", chunks=arg(call, "chunks"), index=call.part)


def tensor_slice(call: OpCall):
    """slice.Tensor(dim, start, end, step): all of a dimension passes the tensor on; a range of
    the channels is a slice."""
    dim = _map_dim(call, arg(call, "dim", 0))
    if arg(call, "step", 1) != 1:
        raise Unsupported("a strided slice")
    if call.out == call.in_shape:
        return Alias()
    if dim != 0:
        raise Unsupported(f"a slice along dimension {dim + 1} (archcalc slices the channels, dimension 1)")
    start, end, _ = slice(arg(call, "start"), arg(call, "end")).indices(call.in_shape[0])
    return channel_slice(call, start, end)


def narrow(call: OpCall):
    if _map_dim(call, arg(call, "dim", 0)) != 0:
        raise Unsupported(f"a narrow along dimension {arg(call, 'dim', 0)} (archcalc slices the channels, dimension 1)")
    start = arg(call, "start") % call.in_shape[0]
    return channel_slice(call, start, start + arg(call, "length"))


def constant_pad(call: OpCall):
    """constant_pad_nd(pad=(left, right, top, bottom), value) of a map."""
    return _pad(call, arg(call, "pad"), "constant", arg(call, "value", 0.0))


def any_pad(call: OpCall):
    """aten.pad(pad, mode, value): F.pad as exported."""
    return _pad(call, arg(call, "pad"), arg(call, "mode", "constant"), arg(call, "value") or 0.0)


def mode_pad(mode: str):
    return lambda c: _pad(c, arg(c, "padding"), mode, 0.0)


def _pad(call: OpCall, padding, mode: str, value):
    return torch_pad(call, list(padding), mode, value)


def channel_shuffle(call: OpCall):
    return one("channel_shuffle", groups=arg(call, "groups"))
