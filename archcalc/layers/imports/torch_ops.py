"""PyTorch operations -> archcalc layer types, as tables keyed by the foreign name: a torch.nn (or
torchvision) module class, a function (``torch.nn.functional.relu``, ``operator.add``,
``torch.cat``) or a Tensor method (``Tensor.mean``). Each entry reads the call's arguments and
says which layer type(s) it is, so the importer (archcalc.pytorch.fx_import) never names a layer
type. Nothing here imports torch: a module is read through its attributes, a call through plain
values and the shapes of its tensor arguments (``TensorArg``, sizes without the batch)."""

from __future__ import annotations

from .calls import Alias, Emit, OpCall, ParameterArg, Rule, TensorArg, Unsupported, class_key, table_key  # noqa: F401  (the importer's names)
from .torch_rules import (PAD_MODES, activation, adaptive, avgpool, batchnorm, blur_pool, cat, channel_shuffle,
                          channel_sum, chunk, conv, dropout_module, elementwise, expand_as, f_adaptive, f_dropout,
                          f_softmax, flatten, flatten_module, getitem, join, layernorm, layernorm2d, linear, matmul,
                          maxpool, mean, method_permute, one, pad, pad_module, permute, product, reshape,
                          scaled_std_conv, softmax_module, space_to_depth, split, stack, stochastic_depth, transpose,
                          upsample, upsample_module)


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
            child_rule = MODULES.get(table_key(type(child), MODULES))
            if child_rule is None:
                raise Unsupported(f"its {name} is a {class_key(type(child))}, which archcalc has no layer type for")
            for emit in child_rule(OpCall(child, call.args, call.kwargs, call.out)):
                emits.append(Emit(emit.type, emit.args, None, name))
        return emits
    return rule



def pooling_modules(dims: int) -> dict:
    """torch.nn's max, average and adaptive pools over ``dims`` spatial axes, read alike."""
    def adaptive_max(c):
        if c.module.return_indices:
            return maxpool(0, 0, 0, 0, 0, True)
        return adaptive("max", dims)(c, c.module.output_size)

    return {
        f"torch.nn.MaxPool{dims}d": lambda c: maxpool(c.module.kernel_size, c.module.stride, c.module.padding,
                                                      c.module.dilation, c.module.ceil_mode, c.module.return_indices,
                                                      dims=dims),
        f"torch.nn.AvgPool{dims}d": lambda c: avgpool(c.module.kernel_size, c.module.stride, c.module.padding,
                                                      c.module.ceil_mode, c.module.count_include_pad, dims=dims),
        f"torch.nn.AdaptiveAvgPool{dims}d": lambda c: adaptive("avg", dims)(c, c.module.output_size),
        f"torch.nn.AdaptiveMaxPool{dims}d": adaptive_max,
    }


MODULES: dict[str, Rule] = {
    "torch.nn.Conv2d": lambda c: conv(c.module),
    "torch.nn.ConvTranspose2d": lambda c: conv(c.module, transposed=True),
    "torch.nn.Linear": linear,
    "torch.nn.BatchNorm2d": batchnorm("batchnorm2d"),
    "torch.nn.BatchNorm1d": batchnorm("batchnorm1d"),
    "torch.nn.BatchNorm3d": batchnorm("batchnorm3d"),
    "torch.nn.Conv1d": lambda c: conv(c.module),
    "torch.nn.Conv3d": lambda c: conv(c.module),
    "torch.nn.ConvTranspose1d": lambda c: conv(c.module, transposed=True),
    "torch.nn.ConvTranspose3d": lambda c: conv(c.module, transposed=True),
    "torch.nn.InstanceNorm2d": batchnorm("instancenorm2d"),
    "torch.nn.GroupNorm": lambda c: one("groupnorm", num_groups=c.module.num_groups,
                                         eps=c.module.eps, affine=c.module.affine),
    "torch.nn.LayerNorm": layernorm,
    "torch.nn.LocalResponseNorm": lambda c: one("local_response_norm", size=c.module.size, alpha=c.module.alpha,
                                                 beta=c.module.beta, k=c.module.k),
    **{key: rule for dims in (1, 2, 3) for key, rule in pooling_modules(dims).items()},
    "torch.nn.ReLU": activation("relu", "inplace"),
    "torch.nn.ReLU6": activation("relu6", "inplace"),
    "torch.nn.LeakyReLU": activation("leaky_relu", "negative_slope", "inplace"),
    "torch.nn.ELU": activation("elu", "alpha", "inplace"),
    "torch.nn.Sigmoid": activation("sigmoid"),
    "torch.nn.Tanh": activation("tanh"),
    "torch.nn.GELU": activation("gelu", "approximate"),
    "torch.nn.SiLU": activation("silu", "inplace"),
    "torch.nn.Hardswish": activation("hardswish", "inplace"),
    "torch.nn.Hardsigmoid": activation("hardsigmoid", "inplace"),
    "torch.nn.Softmax": softmax_module,
    "torch.nn.Dropout": dropout_module,
    "torch.nn.Dropout2d": dropout_module,
    "torch.nn.Identity": lambda c: one("identity"),
    "torch.nn.Flatten": flatten_module,
    "torch.nn.Unflatten": reshape,
    "torch.nn.Upsample": upsample_module,
    "torch.nn.ChannelShuffle": lambda c: channel_shuffle(c, c.module.groups),
    "torchvision.ops.stochastic_depth.StochasticDepth": stochastic_depth,
    # ConvNeXt (torchvision's): its channels-last blocks' Permute, its LayerNorm2d read whole
    "torchvision.ops.misc.Permute": lambda c: permute(c, list(c.module.dims)),
    "torchvision.models.convnext.LayerNorm2d": layernorm2d,
    # timm's layers that are torch.nn's with a fixed extra: a following activation, TensorFlow's
    # SAME padding, weight standardisation (same parameters, and FlopCounterMode counts only the
    # convolution of the standardised weight)
    "timm.layers.norm_act.BatchNormAct2d": _with_children(batchnorm("batchnorm2d"), "drop", "act"),
    "timm.layers.norm_act.GroupNormAct": _with_children(
        lambda c: one("groupnorm", num_groups=c.module.num_groups, eps=c.module.eps, affine=c.module.affine),
        "drop", "act"),
    "timm.layers.linear.Linear": linear,
    "timm.layers.norm.LayerNorm": layernorm,
    "timm.layers.norm.LayerNorm2d": layernorm2d,  # also global context's MLP
    "timm.layers.conv2d_same.Conv2dSame": lambda c: conv(c.module, padding="tf_same"),
    "timm.layers.std_conv.StdConv2d": lambda c: conv(c.module, padding="tf_same" if getattr(c.module, "same_pad", False)
                                                      else None),
    "timm.layers.pool2d_same.MaxPool2dSame": lambda c: maxpool(c.module.kernel_size, c.module.stride, "tf_same",
                                                                c.module.dilation, c.module.ceil_mode),
    "timm.layers.pool2d_same.AvgPool2dSame": lambda c: avgpool(c.module.kernel_size, c.module.stride, "tf_same",
                                                                c.module.ceil_mode, c.module.count_include_pad),
    **{f"torch.nn.{name}": pad_module(mode) for name, mode in PAD_MODES.items()},
    # timm's NF-Net convolution (weight standardised in forward, a learnable gain) and anti-aliased
    # downsampling (a fixed binomial filter, a buffer); TResNet's space-to-depth stem
    "timm.layers.std_conv.ScaledStdConv2d": scaled_std_conv,
    "timm.layers.std_conv.ScaledStdConv2dSame": scaled_std_conv,
    "timm.layers.blur_pool.BlurPool2d": blur_pool,
    "timm.layers.space_to_depth.SpaceToDepth": space_to_depth,
}



# -- functions and Tensor methods ------------------------------------------------------------------

FUNCTIONS: dict[str, Rule] = {
    "torch.nn.functional.relu": elementwise("relu"),
    "torch.relu": elementwise("relu"),
    "torch.nn.functional.relu6": elementwise("relu6"),
    "torch.nn.functional.silu": elementwise("silu"),
    "torch.nn.functional.gelu": lambda c: one("gelu", approximate=c.arg(1, "approximate", "none")),
    "torch.nn.functional.hardswish": elementwise("hardswish"),
    "torch.nn.functional.hardsigmoid": elementwise("hardsigmoid"),
    "torch.nn.functional.sigmoid": elementwise("sigmoid"),
    "torch.sigmoid": elementwise("sigmoid"),
    "torch.tanh": elementwise("tanh"),
    "torch.nn.functional.tanh": elementwise("tanh"),
    "torch.nn.functional.leaky_relu": lambda c: one("leaky_relu", negative_slope=c.arg(1, "negative_slope", 0.01)),
    "torch.nn.functional.elu": lambda c: one("elu", alpha=c.arg(1, "alpha", 1.0)),
    "torch.nn.functional.softmax": f_softmax,
    "torch.softmax": f_softmax,
    "torch.nn.functional.dropout": f_dropout,
    "torch.nn.functional.max_pool2d": lambda c: maxpool(c.arg(1, "kernel_size"), c.arg(2, "stride"), c.arg(3, "padding", 0),
                                                         c.arg(4, "dilation", 1), c.arg(5, "ceil_mode", False),
                                                         c.arg(6, "return_indices", False)),
    "torch.nn.functional.avg_pool2d": lambda c: avgpool(c.arg(1, "kernel_size"), c.arg(2, "stride"), c.arg(3, "padding", 0),
                                                         c.arg(4, "ceil_mode", False), c.arg(5, "count_include_pad", True)),
    "torch.nn.functional.adaptive_avg_pool2d": f_adaptive("avg"),
    "torch.nn.functional.adaptive_max_pool2d": f_adaptive("max"),
    "torch.nn.functional.interpolate": lambda c: upsample(c, c.arg(1, "size"), c.arg(2, "scale_factor"),
                                                           c.arg(3, "mode", "nearest"), c.arg(4, "align_corners")),
    "torch.nn.functional.pad": lambda c: pad(c, c.arg(1, "pad"), c.arg(2, "mode", "constant"), c.arg(3, "value", 0.0)),
    "torch.flatten": lambda c: flatten(c, c.arg(1, "start_dim", 0), c.arg(2, "end_dim", -1)),
    "torch.cat": cat,
    "torch.concat": cat,
    "torch.chunk": chunk,
    "torch.split": split,
    "torch.add": join("add", 0),
    "torch.mul": product,
    "operator.add": join("add", 0),
    "operator.iadd": join("add", 0),
    "operator.mul": product,
    "operator.imul": product,
    "operator.getitem": getitem,
    "torch.permute": lambda c: permute(c, list(c.arg(1, "dims"))),
    "torchvision.models.shufflenetv2.channel_shuffle": lambda c: channel_shuffle(c, c.arg(1, "groups")),
    # the tensor algebra of timm's attention units (selective kernel, split attention, global context)
    "torch.stack": stack,
    "torch.sum": channel_sum,
    "torch.matmul": matmul,
    "operator.matmul": matmul,
}

# Tensor methods: the tensor is the first argument, as in the function form (x.chunk(2, 1) reads
# as torch.chunk(x, 2, 1))
METHODS: dict[str, Rule] = {
    "relu": elementwise("relu"), "relu_": elementwise("relu"), "sigmoid": elementwise("sigmoid"),
    "sigmoid_": elementwise("sigmoid"), "tanh": elementwise("tanh"),
    "softmax": f_softmax,
    "add": join("add", 0), "add_": join("add", 0), "mul": product, "mul_": product,
    "mean": mean,
    "flatten": lambda c: flatten(c, c.arg(1, "start_dim", 0), c.arg(2, "end_dim", -1)),
    "view": reshape, "reshape": reshape,
    "contiguous": lambda c: Alias(),
    "chunk": chunk,
    "split": split,
    "permute": method_permute,
    "expand_as": expand_as,
    "sum": channel_sum, "matmul": matmul,
    "unsqueeze": reshape, "transpose": transpose,
}

# functions that fx should record as one call instead of tracing into (the tables above read them)
WRAPPED_FUNCTIONS = ("torchvision.models.shufflenetv2.channel_shuffle",)

# a parameter passed through these is still that parameter in a new shape (timm's gamma.reshape(1, -1, 1, 1))
PARAMETER_VIEWS = ("method:reshape", "method:view")

# calls that return several tensors: each element used (``getitem``) is read with ``part``, and the
# call itself is no layer
MULTI_OUTPUT = ("function:torch.chunk", "function:torch.split", "method:chunk", "method:split")
