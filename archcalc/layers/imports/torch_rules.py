"""The rules of archcalc.layers.imports.torch_ops: how one PyTorch module or call reads as
archcalc layers (its layer types and arguments), from the module's attributes and the call's
plain arguments and tensor shapes. No torch."""

from __future__ import annotations

from typing import Any

from .calls import Alias, Emit, OpCall, ParameterArg, TensorArg, Unsupported

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


def one(type_name: str, **args: Any) -> list[Emit]:
    return [Emit(type_name, {k: _plain(v) for k, v in args.items()})]


# -- modules ---------------------------------------------------------------------------------------

def conv(module, transposed: bool = False, padding=None) -> list[Emit]:
    if getattr(module, "padding_mode", "zeros") != "zeros":
        raise Unsupported(f"padding_mode '{module.padding_mode}' (archcalc's convolution pads with zeros)")
    dims = len(module.kernel_size)
    if dims not in (1, 2, 3):
        raise Unsupported(f"a {dims}-D convolution")
    args = dict(out_channels=module.out_channels, kernel_size=module.kernel_size,
                stride=module.stride, padding=module.padding if padding is None else padding, dilation=module.dilation, groups=module.groups,
                bias=module.bias is not None)
    if transposed:
        args["output_padding"] = module.output_padding
        return one(f"conv_transpose{dims}d", **args)
    return one(f"conv{dims}d", **args)


def scaled_std_conv(call: OpCall) -> list[Emit]:
    """timm's ScaledStdConv2d (and ScaledStdConv2dSame: ``same_pad`` is TensorFlow's SAME, done in
    forward): a conv2d whose weight is standardised in forward, with a learnable gain. The module
    keeps gamma only inside ``scale`` = gamma / sqrt(fan-in)."""
    m = call.module
    emit = conv(m, padding="tf_same" if getattr(m, "same_pad", False) else None)[0]
    fan_in = m.weight[0].numel()
    gamma = round(m.scale * fan_in ** 0.5, 12)
    return one("scaled_std_conv2d", **emit.args, gamma=gamma, eps=m.eps, gain_init=m.gain_init)


def blur_pool(call: OpCall) -> list[Emit]:
    """timm's BlurPool2d: its filter a buffer of one binomial filter per channel (or one shared
    filter, expanded in forward, when built without ``channels``, which archcalc does not write)."""
    m = call.module
    _map_only(call, "blur pooling")
    if m.channels is None:
        raise Unsupported("a BlurPool2d built without channels (one filter expanded in forward)")
    return one("blurpool2d", filter_size=m.filt_size, stride=m.stride, pad_mode=m.pad_mode)


def space_to_depth(call: OpCall) -> list[Emit]:
    _map_only(call, "space-to-depth")
    return one("space_to_depth", block_size=call.module.bs)


def batchnorm(type_name: str):
    def rule(call: OpCall):
        m = call.module
        return one(type_name, eps=m.eps, momentum=m.momentum, affine=m.affine,
                    track_running_stats=m.track_running_stats)
    return rule


def maxpool(kernel, stride, padding, dilation, ceil_mode, return_indices=False, dims: int = 2) -> list[Emit]:
    if return_indices:
        raise Unsupported("max pooling that returns indices")
    return one(f"maxpool{dims}d", kernel_size=kernel, stride=kernel if stride in (None, []) else stride, padding=padding,
                dilation=dilation, ceil_mode=bool(ceil_mode))


def avgpool(kernel, stride, padding, ceil_mode, count_include_pad, dims: int = 2) -> list[Emit]:
    return one(f"avgpool{dims}d", kernel_size=kernel, stride=kernel if stride in (None, []) else stride, padding=padding,
                ceil_mode=bool(ceil_mode), count_include_pad=bool(count_include_pad))


def _is_one(size) -> bool:
    return size == 1 or (isinstance(size, (tuple, list)) and all(s == 1 for s in size))


def adaptive(kind: str, dims: int = 2):
    """Adaptive pooling: to 1x1 it is the global pool (the zoo's own spelling of it); 1-D and 3-D
    adaptive pools keep their own type (the zoo writes r3d_18's as adaptive_avgpool3d)."""
    def read(call: OpCall, size):
        if dims != 2:
            if len(call.in_shape) != dims + 1:
                raise Unsupported(f"{dims}-D adaptive {kind} pooling on a tensor of {len(call.in_shape) + 1} dimensions")
            return one(f"adaptive_{kind}pool{dims}d", output_size=size)
        _map_only(call, f"adaptive {kind} pooling")
        if _is_one(size):
            return one(f"global_{kind}pool2d")
        return one(f"adaptive_{kind}pool2d", output_size=size)
    return read


def linear(call: OpCall):
    """On the last dimension: a vector's features, or a map's last axis (the channels of a
    channels-last map after a permute; the analysis checks which)."""
    m = call.module
    return one("linear", out_features=m.out_features, bias=m.bias is not None)


def layernorm(call: OpCall):
    """nn.LayerNorm over a vector's features, or over the last dimension of a map (ConvNeXt's
    channels-last map): ``over: last``."""
    m = call.module
    shape = tuple(m.normalized_shape)
    args = dict(eps=m.eps, elementwise_affine=m.elementwise_affine, bias=getattr(m, "bias", None) is not None)
    if len(call.in_shape) == 1 and shape == call.in_shape:
        return one("layernorm", **args)
    if len(shape) == 1 and shape == call.in_shape[-1:]:
        return one("layernorm", over="last", **args)
    raise Unsupported(f"layer norm over {list(shape)} of a {len(call.in_shape) + 1}-D tensor (archcalc normalises "
                      "one dimension: a flat vector's features, a map's channels or its last dimension)")


def layernorm2d(call: OpCall):
    """A LayerNorm2d (torchvision's ConvNeXt, timm's): nn.LayerNorm over the channels of an NCHW
    map, permuting to channels last and back inside its forward."""
    m = call.module
    _map_only(call, "LayerNorm2d")
    if tuple(m.normalized_shape) != call.in_shape[:1]:
        raise Unsupported(f"LayerNorm2d over {list(m.normalized_shape)} of a map of {call.in_shape[0]} channels")
    return one("layernorm", eps=m.eps, elementwise_affine=m.elementwise_affine,
                bias=getattr(m, "bias", None) is not None)


def permute(call: OpCall, dims):
    """torch.permute / Tensor.permute / torchvision's Permute: dims with the batch kept first."""
    dims = [d % (len(call.in_shape) + 1) for d in dims]
    if not dims or dims[0] != 0:
        raise Unsupported(f"a permute that moves the batch dimension ({dims})")
    return Alias() if dims == sorted(dims) else one("permute", dims=dims)


def method_permute(call: OpCall):
    """x.permute(0, 2, 3, 1) or x.permute((0, 2, 3, 1)) / dims=..."""
    dims = call.args[1:] or call.kwargs.get("dims", ())
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    return permute(call, list(dims))


def scale_by_parameter(call: OpCall, param: ParameterArg):
    """``gamma * x`` with a C x 1 x 1 parameter of the calling module (or timm's C-vector viewed as
    1 x C x 1 x 1): ConvNeXt's layer scale, named after the parameter."""
    _tensor_count(call, 1, "a product with a parameter")
    shape = call.in_shape
    if len(shape) != 3 or param.shape not in ((shape[0], 1, 1), (1, shape[0], 1, 1)):
        raise Unsupported(f"a product with the parameter '{param.target}' of shape {list(param.shape)} (archcalc's "
                          f"layer_scale is C x 1 x 1 times a CxHxW map)")
    return [Emit("layer_scale", name=param.local, parameters=(param.target,))]


def flatten_module(call: OpCall):
    m = call.module
    return flatten(call, m.start_dim, m.end_dim)


def flatten(call: OpCall, start: int = 0, end: int = -1):
    rank = len(call.in_shape) + 1
    if start % rank != 1 or end % rank != rank - 1:
        raise Unsupported(f"flatten of dimensions {start}..{end} (archcalc flattens all but the batch)")
    return one("flatten") if rank > 2 else Alias()


def reshape(call: OpCall):
    """view / reshape / unflatten: flattening a map, reading a vector as a map (CxL, CxHxW,
    CxTxHxW), a map as another (a range of its axes viewed: ECA's pooled Cx1x1 map read as a 1xC
    sequence and back, ResNeSt's radix groups split off the channels), or nothing."""
    before, after = call.in_shape, call.out
    if before == after:
        return Alias()
    if len(after) == 1:
        return one("flatten")
    if len(after) in (2, 3, 4):
        if len(before) == 1:
            return one("reshape", shape=list(after))
        return one("reshape", **_axes_viewed(before, after))
    raise Unsupported(f"a reshape of {list(before)} to {list(after)} (archcalc reads maps of 1 to 3 spatial axes "
                      "and flat vectors)")


def _axes_viewed(before, after) -> dict:
    """A view of a map as another as reshape's range form: the axes the two do not share at
    either end (dim..end_dim) viewed as the sizes in between, the largest written -1 so that the
    written spec holds at other input sizes ((R*C)xHxW -> R x C x H x W: axis 0 as [2, -1];
    1xHxW -> 1x(H*W): axes 1..2 as [-1])."""
    start = 0
    while start < min(len(before), len(after)) - 1 and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start - 1 and before[-1 - end] == after[-1 - end]:
        end += 1
    sizes = list(after[start:len(after) - end])
    sizes[sizes.index(max(sizes))] = -1
    return {"shape": sizes, "dim": start, "end_dim": len(before) - end - 1}


def expand_as(call: OpCall):
    """y.expand_as(x) of a Cx1x1 gate (timm's ECA: x * y.expand_as(x)): the gate itself, as the
    product broadcasts it; the importer's shape check stops a consumer that would not."""
    _tensor_count(call, 2, "expand_as")
    gate, target = call.tensors
    if len(gate.shape) != len(target.shape) or any(g not in (1, t) for g, t in zip(gate.shape, target.shape)):
        raise Unsupported(f"expanding {list(gate.shape)} to {list(target.shape)}")
    return Alias(gate.index)


def upsample_module(call: OpCall):
    m = call.module
    return upsample(call, m.size, m.scale_factor, m.mode, m.align_corners)


def upsample(call: OpCall, size, scale, mode, align_corners):
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
    return one("upsample", **args)


PAD_MODES = {"ZeroPad2d": "constant", "ConstantPad2d": "constant", "ReflectionPad2d": "reflect",
              "ReplicationPad2d": "replicate", "CircularPad2d": "circular"}


def pad_module(mode: str):
    def rule(call: OpCall):
        m = call.module
        return pad(call, m.padding, mode, getattr(m, "value", 0.0))
    return rule


def pad(call: OpCall, padding, mode="constant", value=0.0):
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


def activation(type_name: str, *names: str):
    """An element-wise module: its arguments read by name (``inplace`` changes no count)."""
    def rule(call: OpCall):
        return one(type_name, **{name: getattr(call.module, name) for name in names})
    return rule


def softmax_module(call: OpCall):
    return softmax(call, call.module.dim)


def softmax(call: OpCall, dim):
    if dim is None:
        raise Unsupported("softmax without a dimension")
    return one("softmax", dim=_map_dim(call, dim))


def dropout_module(call: OpCall):
    return one("dropout", p=call.module.p)


def stochastic_depth(call: OpCall):
    return one("stochastic_depth", p=call.module.p, mode=call.module.mode)


def channel_shuffle(call: OpCall, groups):
    _map_only(call, "channel shuffle")
    return one("channel_shuffle", groups=groups)


# -- functions and Tensor methods ------------------------------------------------------------------

def elementwise(type_name: str, **fixed):
    def rule(call: OpCall):
        _tensor_count(call, 1, type_name)
        return one(type_name, **fixed)
    return rule


def join(type_name: str, neutral: int):
    """A sum or product of tensors; plus 0 or times 1 (a sum started at 0) passes the tensor on; a
    tensor times or plus another number is no layer archcalc has."""
    def rule(call: OpCall):
        tensors = call.tensors
        others = [a for a in call.args[:2] if not isinstance(a, TensorArg)]
        params = [a for a in others if isinstance(a, ParameterArg)]
        if params:
            raise Unsupported(f"reads the parameter '{params[0].target}' directly")
        if len(tensors) == 1 and len(others) == 1 and not isinstance(others[0], bool) and others[0] == neutral:
            return Alias(tensors[0].index)
        if len(tensors) < 2 or others:
            raise Unsupported(f"{type_name} of a tensor and a number")
        if call.kwargs.get("alpha", 1) != 1:
            raise Unsupported("add with alpha")
        return [Emit(type_name)]
    return rule


def product(call: OpCall):
    """x * y of two tensors (a gate); x * c or c * x of one number (a constant scale: timm's
    Inception-ResNet's ``x * 0.17``, NF-Nets' ``x * beta``); x * p of one scalar parameter (NF-Nets'
    skipinit gain, a learnable scale) or of a C x 1 x 1 parameter (ConvNeXt's layer scale); x * 1
    passes x on."""
    tensors = call.tensors
    others = [a for a in call.args[:2] if not isinstance(a, TensorArg)]
    if len(tensors) == 1 and len(others) == 1:
        other = others[0]
        if isinstance(other, ParameterArg):
            if other.shape not in ((), (1,)):  # a per-channel parameter: ConvNeXt's layer scale
                return scale_by_parameter(call, other)
            return [Emit("scale", {"learnable": True}, parameters=(other.target,))]
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Alias(tensors[0].index) if other == 1 else one("scale", factor=float(other))
        if other is None:  # a tensor the trace holds no value for: a buffer or a constant
            raise Unsupported("a product with a buffer or constant tensor")
    return join("mul", 1)(call)


def cat(call: OpCall):
    tensors = [t for t in call.arg(0, "tensors", ()) if isinstance(t, TensorArg)]
    if len(tensors) == 1:
        return Alias(tensors[0].index)
    dim = call.arg(1, "dim", 0)
    if _map_dim(call, dim) != 0:
        raise Unsupported(f"concatenation along dimension {dim} (archcalc joins the channels, dimension 1)")
    return [Emit("concat")]


def mean(call: OpCall):
    """x.mean((2, 3)) of a map: the global average; without keepdim the 1x1 positions go as well."""
    dims = call.arg(1, "dim")
    keepdim = call.arg(2, "keepdim", False)
    _map_only(call, "mean")
    dims = sorted(_map_dim(call, d) for d in (dims if isinstance(dims, (list, tuple)) else [dims]))
    if dims != [1, 2]:
        raise Unsupported(f"a mean over dimensions {[d + 1 for d in dims]} (archcalc averages H and W)")
    return [Emit("global_avgpool2d")] if keepdim else [Emit("global_avgpool2d"), Emit("flatten", suffix="flatten")]


def chunk(call: OpCall):
    chunks, dim = call.arg(1, "chunks"), call.arg(2, "dim", 0)
    if _map_dim(call, dim) != 0:
        raise Unsupported(f"a chunk along dimension {dim} (archcalc slices the channels, dimension 1)")
    return one("slice", chunks=chunks, index=call.part)


def split(call: OpCall):
    size, dim = call.arg(1, "split_size_or_sections"), call.arg(2, "dim", 0)
    if _map_dim(call, dim) != 0:
        raise Unsupported(f"a split along dimension {dim} (archcalc slices the channels, dimension 1)")
    sizes = list(size) if isinstance(size, (list, tuple)) else None
    start = sum(sizes[:call.part]) if sizes else call.part * size
    return one("slice", start=start, end=start + call.out[0])


def getitem(call: OpCall):
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
    return one("slice", start=start or None, end=end if end != size else None)


def transpose(call: OpCall):
    """x.transpose(a, b) that moves only axes of size 1 (timm's radix softmax with one group:
    1 x R x C to R x 1 x C) keeps the elements' order: a reshape. One that moves data is no layer
    archcalc has."""
    first, second = (_map_dim(call, call.arg(i, name)) for i, name in ((1, "dim0"), (2, "dim1")))
    order = list(range(len(call.in_shape)))
    order[first], order[second] = order[second], order[first]
    if [axis for axis in order if call.in_shape[axis] != 1] != [a for a in range(len(order)) if call.in_shape[a] != 1]:
        raise Unsupported(f"a transpose of dimensions {first + 1} and {second + 1} that moves the elements")
    return reshape(call)


def stack(call: OpCall):
    """torch.stack(maps, dim=1): the maps along a new first axis (a volume)."""
    tensors = [t for t in call.arg(0, "tensors", ()) if isinstance(t, TensorArg)]
    dim = call.arg(1, "dim", 0)
    if dim % (len(tensors[0].shape) + 2) != 1:
        raise Unsupported(f"stacking along dimension {dim} (archcalc stacks along a new dimension 1)")
    return [Emit("stack_maps")]


def channel_sum(call: OpCall):
    """x.sum(dim=1) (or torch.sum): the sum over the first axis of each sample."""
    _tensor_count(call, 1, "sum")
    dims = call.arg(1, "dim")
    if dims is None:
        raise Unsupported("a sum of every element (archcalc sums dimension 1)")
    dims = dims if isinstance(dims, (list, tuple)) else [dims]
    if [_map_dim(call, d) for d in dims] != [0] or call.kwargs.get("dtype") is not None:
        raise Unsupported(f"a sum over dimensions {list(dims)} (archcalc sums dimension 1)")
    return one("channel_sum", keepdim=bool(call.arg(2, "keepdim", False)))


def matmul(call: OpCall):
    _tensor_count(call, 2, "matmul")
    return [Emit("matmul")]


def f_dropout(call: OpCall):
    return one("dropout", p=call.arg(1, "p", 0.5))


def f_adaptive(kind: str):
    return lambda c: adaptive(kind)(c, c.arg(1, "output_size"))


def f_softmax(call: OpCall):
    return softmax(call, call.arg(1, "dim"))
