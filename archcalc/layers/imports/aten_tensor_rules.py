"""ATen rules for the layer types of channels-last nets and attention tensor algebra (ConvNeXt's
permute, layer norm over the last axis, layer scale; NF-Nets' constant and learnable scale;
stacking, summing dimension 1, matrix products of activations), read as the fx tables read the
same calls (archcalc.layers.imports.torch_rules). No torch."""

from __future__ import annotations

import math

from .aten_rules import Weight, _weight, arg, join, mm
from .calls import Alias, Emit, OpCall, TensorArg, Unsupported
from .torch_rules import matmul, one, permute, reshape


def tensor_permute(call: OpCall):
    """aten.permute(self, dims) of an activation (a parameter read permuted is a weight view); one
    that moves only axes of size 1 keeps the elements' order: a reshape, as the fx import reads
    such a transpose (core ATen writes timm's radix softmax transpose(1, 2) as a permute)."""
    dims = [d % (len(call.in_shape) + 1) for d in arg(call, "dims")]
    moved = [d - 1 for d in dims[1:] if d > 0 and call.in_shape[d - 1] != 1]
    if dims[:1] == [0] and dims != sorted(dims) and moved == sorted(moved):
        return reshape(call)
    return permute(call, dims)


def _norm_args(call: OpCall) -> dict:
    weight, bias = _weight(call, "weight"), _weight(call, "bias", what="bias")
    return dict(eps=arg(call, "eps", 1e-5), elementwise_affine=weight is not None, bias=bias is not None)


def layer_norm(call: OpCall):
    """aten.layer_norm / native_layer_norm (its output, part 0): over a vector's features or over
    the last axis of a map (a channels-last map: ``over: last``)."""
    if call.part not in (None, 0):
        raise Unsupported("the saved statistics of a layer norm (archcalc reads its output)")
    shape = tuple(arg(call, "normalized_shape"))
    if len(call.in_shape) == 1 and shape == call.in_shape:
        return one("layernorm", **_norm_args(call))
    if len(shape) == 1 and shape == call.in_shape[-1:]:
        return one("layernorm", over="last", **_norm_args(call))
    raise Unsupported(f"layer norm over {list(shape)} of a {len(call.in_shape) + 1}-D tensor (archcalc normalises "
                      "one dimension: a flat vector's features, a map's channels or its last dimension)")


def channels_layer_norm(call: OpCall):
    """The layer_norm inside a LayerNorm2d call (its permutes are read as nothing): a layer norm
    over the channels of the NCHW map, as the fx import reads the module whole."""
    if call.part not in (None, 0):
        raise Unsupported("the saved statistics of a layer norm (archcalc reads its output)")
    if tuple(arg(call, "normalized_shape")) != call.in_shape[-1:]:
        raise Unsupported(f"LayerNorm2d over {list(arg(call, 'normalized_shape'))} of a channels-last map")
    return one("layernorm", **_norm_args(call))


def product(call: OpCall):
    """aten.mul: of two activations (a gate); of an activation and a number (a constant scale,
    times 1 passes it on); of an activation and a parameter: a scalar one is a learnable scale, a
    C x 1 x 1 one ConvNeXt's layer scale, named after the parameter."""
    first, other = arg(call, "self"), arg(call, "other")
    if not isinstance(first, TensorArg):
        first, other = other, first
    if isinstance(other, TensorArg):
        return join("mul", 1)(call)
    if isinstance(other, Weight):
        if other.kind != "parameter":
            raise Unsupported(f"a product with the {other.kind} '{other.name}'")
        if other.shape in ((), (1,)):
            return [Emit("scale", {"learnable": True})]
        shape = call.in_shape  # a C x 1 x 1 parameter, or a C-vector viewed as 1 x C x 1 x 1 (timm's gamma)
        if len(shape) != 3 or other.shape not in ((shape[0], 1, 1), (1, shape[0], 1, 1)) or \
                len([s for s in other.stored if s != 1]) > 1:
            raise Unsupported(f"a product with the parameter '{other.name}' of shape {list(other.shape)} (archcalc's "
                              "layer_scale is C x 1 x 1 times a CxHxW map)")
        return [Emit("layer_scale", name=other.name.rsplit(".", 1)[-1])]
    if isinstance(other, (int, float)) and not isinstance(other, bool):
        return Alias(0) if other == 1 else one("scale", factor=float(other))
    raise Unsupported(f"a product with {other!r}")


def tensor_mm(call: OpCall):
    """aten.mm / bmm / matmul: of two activations a matrix product; mm of an activation and a
    linear layer's weight read transposed, a linear layer."""
    if len(call.tensors) == 2:
        return matmul(call)
    if arg(call, "mat2") is not None and isinstance(arg(call, "mat2"), Weight):
        return mm(call)
    raise Unsupported("a matrix product with a parameter or constant (archcalc multiplies two activations)")


def as_strided(call: OpCall):
    """as_strided to the input's own shape with the contiguous strides (run_decompositions()
    restriding a mean's 1x1 result): the tensor as it is. Any other view of the storage is refused."""
    size, stride = list(arg(call, "size")), list(arg(call, "stride"))
    contiguous = all(n == 1 or s == math.prod(size[d + 1:]) for d, (n, s) in enumerate(zip(size, stride)))
    if tuple(size[1:]) == call.in_shape and contiguous and not arg(call, "storage_offset"):
        return Alias()
    raise Unsupported(f"as_strided to size {size} with strides {stride} (archcalc reads it only as the tensor itself)")


def expand(call: OpCall):
    """expand to the tensor's own shape (run_decompositions()'s matmul broadcasting operands that
    already agree), or of a gate's axes of size 1 (core ATen's ``expand_as``: timm's ECA): the
    tensor as it is, as the fx import reads expand_as; the product after it broadcasts, and the
    importer's shape check stops a consumer that would not."""
    size = list(arg(call, "size"))
    if len(size) == len(call.in_shape) + 1 and all(s in (-1, n) or n == 1 for s, n in zip(size[1:], call.in_shape)):
        return Alias()
    raise Unsupported(f"expanding {list(call.in_shape)} to {size[1:]}")
