"""ATen ops (the graph of a ``torch.export`` program, saved as ``.pt2`` or exported where torch.fx
cannot trace) -> archcalc layer types: one entry per op, keyed by the op's name without its
overload (``aten.conv2d``, ``aten.add``), like torch.utils.flop_counter's table. Both forms a
program comes in are read: the one ``torch.export.export`` gives (conv2d, linear, batch_norm) and
the core ATen set after ``run_decompositions()`` (convolution, addmm + permute,
_native_batch_norm_legit_no_training). The importer (archcalc.pytorch.aten_import) never names a
layer type. No torch."""

from __future__ import annotations

from .aten_rules import (Weight, adaptive_pool, addmm, any_pad, avg_pool, batch_norm, cat, channel_shuffle, chunk,  # noqa: F401
                         constant_pad, convolution, dropout, elementwise, elu, gelu, group_norm, hardtanh, join,
                         leaky_relu, linear, max_pool, mean, mode_pad, narrow, softmax, split, tensor_slice,
                         upsample)
from .aten_tensor_rules import as_strided, channels_layer_norm, expand, layer_norm, product, tensor_mm, tensor_permute
from .calls import Alias, Emit, Rule
from .torch_rules import channel_sum, expand_as, reshape, stack, transpose  # read as the fx import reads the same calls


def _inplace(table: dict[str, Rule], flag: bool = True) -> dict[str, Rule]:
    """Each element-wise op with its in-place form (aten.relu_ computes what aten.relu does, in
    place: ``flag`` says the layer type has an ``inplace`` argument to say so)."""
    def in_place(rule: Rule) -> Rule:
        def read(call):
            result = rule(call)
            if not flag or isinstance(result, Alias):
                return result
            return [Emit(e.type, {**e.args, "inplace": True}, e.inputs, e.suffix) for e in result]
        return read
    return {**table, **{f"{key}_": in_place(rule) for key, rule in table.items()}}


def _alias(call):
    return Alias()


ATEN_OPS: dict[str, Rule] = {
    # convolutions and linear layers: their arguments from the weight's shape
    "aten.convolution": convolution,
    **{f"aten.conv{d}d": lambda c: convolution(c, transposed=False) for d in (1, 2, 3)},
    **{f"aten.conv_transpose{d}d": lambda c: convolution(c, transposed=True) for d in (1, 2, 3)},
    "aten.linear": linear,
    "aten.addmm": addmm,
    "aten.mm": tensor_mm,
    "aten.bmm": tensor_mm,
    "aten.matmul": tensor_mm,
    # normalisation
    "aten.batch_norm": batch_norm,
    "aten._native_batch_norm_legit_no_training": batch_norm,
    "aten._native_batch_norm_legit": batch_norm,
    "aten._native_batch_norm_legit_functional": batch_norm,
    "aten.native_batch_norm": batch_norm,
    "aten.group_norm": group_norm,
    "aten.native_group_norm": group_norm,
    "aten.layer_norm": layer_norm,
    "aten.native_layer_norm": layer_norm,
    # activations
    **_inplace({
        "aten.relu": elementwise("relu"), "aten.hardtanh": hardtanh, "aten.hardswish": elementwise("hardswish"),
        "aten.hardsigmoid": elementwise("hardsigmoid"), "aten.silu": elementwise("silu"), "aten.gelu": gelu,
        "aten.sigmoid": elementwise("sigmoid"), "aten.tanh": elementwise("tanh"), "aten.leaky_relu": leaky_relu,
        "aten.elu": elu,
    }),
    **_inplace({"aten.add": join("add", 0), "aten.mul": product}, flag=False),
    "aten.softmax": softmax,
    "aten._softmax": softmax,
    # pools
    **{f"aten.max_pool{d}d": max_pool for d in (1, 2, 3)},
    **{f"aten.max_pool{d}d_with_indices": max_pool for d in (2, 3)},
    **{f"aten.avg_pool{d}d": avg_pool for d in (1, 2, 3)},
    **{f"aten.adaptive_avg_pool{d}d": adaptive_pool("avg") for d in (1, 2, 3)},
    "aten._adaptive_avg_pool2d": adaptive_pool("avg"),
    "aten._adaptive_avg_pool3d": adaptive_pool("avg"),
    **{f"aten.adaptive_max_pool{d}d": adaptive_pool("max") for d in (1, 2, 3)},
    "aten.mean": mean,
    # joins, splits, shapes
    "aten.cat": cat,
    "aten.stack": stack,
    "aten.sum": channel_sum,
    "aten.permute": tensor_permute,
    "aten.concat": cat,
    "aten.split": split,
    "aten.split_with_sizes": split,
    "aten.chunk": chunk,
    "aten.slice": tensor_slice,
    "aten.narrow": narrow,
    "aten.view": reshape,
    "aten.reshape": reshape,
    "aten._unsafe_view": reshape,
    "aten.flatten": reshape,
    "aten.unflatten": reshape,
    "aten.unsqueeze": reshape,
    "aten.transpose": transpose,
    "aten.expand_as": expand_as,
    "aten.expand": expand,
    "aten.upsample_nearest2d": upsample("nearest"),
    "aten.upsample_bilinear2d": upsample("bilinear"),
    "aten.constant_pad_nd": constant_pad,
    "aten.pad": any_pad,
    "aten.reflection_pad2d": mode_pad("reflect"),
    "aten.replication_pad2d": mode_pad("replicate"),
    "aten.channel_shuffle": channel_shuffle,
    "aten.native_channel_shuffle": channel_shuffle,
    # inference no-ops: dropout is a layer (as nn.Dropout imports); copies and aliases pass the tensor on
    "aten.dropout": dropout,
    "aten.dropout_": dropout,
    "aten.native_dropout": dropout,
    "aten.as_strided": as_strided,
    "aten.clone": _alias,
    "aten.alias": _alias,
    "aten.contiguous": _alias,
    "aten.detach": _alias,
    "aten.detach_": _alias,
    "aten.lift_fresh_copy": _alias,
}

# ops whose rules read parameters and buffers (``Weight`` arguments); any other op that reads one
# (x * self.gamma, a weight standardised in forward) is refused naming it
READS_WEIGHTS = frozenset({
    "aten.convolution", *(f"aten.conv{d}d" for d in (1, 2, 3)), *(f"aten.conv_transpose{d}d" for d in (1, 2, 3)),
    "aten.linear", "aten.addmm", "aten.mm", "aten.batch_norm", "aten._native_batch_norm_legit_no_training",
    "aten._native_batch_norm_legit", "aten._native_batch_norm_legit_functional", "aten.native_batch_norm",
    "aten.group_norm", "aten.native_group_norm", "aten.layer_norm", "aten.native_layer_norm", "aten.mul", "aten.mul_",
})

# ops that only re-read a parameter (a linear layer's weight transposed for mm/addmm): the result
# is the same Weight with the shape the op gives, no layer; a view of a parameter (timm's ConvNeXt
# gamma.reshape(1, -1, 1, 1)) likewise
WEIGHT_VIEWS = frozenset({"aten.t", "aten.numpy_T", "aten.permute", "aten.transpose", "aten.view", "aten.reshape",
                          "aten._unsafe_view"})


# views that may fold a channels-last map's batch and spatial axes into one (run_decompositions()'s
# linear layer on a map: view, addmm, view back), read as the map itself
FOLDING_VIEWS = frozenset({"aten.view", "aten._unsafe_view", "aten.reshape"})


# ops that return several tensors: each element used (``getitem``) is read with ``part``
MULTI_OUTPUT = frozenset({
    "aten.split", "aten.split_with_sizes", "aten.chunk", "aten._native_batch_norm_legit_no_training",
    "aten._native_batch_norm_legit", "aten._native_batch_norm_legit_functional", "aten.native_batch_norm",
    "aten.max_pool2d_with_indices", "aten.max_pool3d_with_indices", "aten.adaptive_max_pool1d",
    "aten.adaptive_max_pool2d", "aten.adaptive_max_pool3d", "aten.native_dropout", "aten.native_group_norm",
    "aten.native_layer_norm",
})

# a module class -> the rules of the ops inside its call that replace ATEN_OPS's (as the fx import
# reads the module whole): a LayerNorm2d permutes to channels last, normalises and permutes back,
# one layer norm over the channels. Its layers' traced shapes (channels last) are not checked.
MODULE_OPS: dict[str, dict[str, Rule]] = {
    cls: {"aten.permute": _alias, "aten.layer_norm": channels_layer_norm, "aten.native_layer_norm": channels_layer_norm}
    for cls in ("torchvision.models.convnext.LayerNorm2d", "timm.layers.norm.LayerNorm2d")
}

# an op's node name -> the name torch.fx gives the call it comes from (F.interpolate exports as
# upsample_bilinear2d, x[:, a:b] as slice), so an op not in a module is named as the fx import names it
FX_NODE_NAMES = {
    "split_with_sizes": "split", "upsample_nearest2d": "interpolate", "upsample_bilinear2d": "interpolate",
    "constant_pad_nd": "pad", "hardtanh": "relu6", "_softmax": "softmax", "slice": "getitem",
    "_adaptive_avg_pool2d": "adaptive_avg_pool2d", "_unsafe_view": "view",
}
