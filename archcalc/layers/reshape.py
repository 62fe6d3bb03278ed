"""Layers that move data without learning: flatten, reshape, permute, upsample, slices, channel
shuffle and space-to-depth."""

from __future__ import annotations

from ..errors import ShapeError, SpecError
from .windows import bilinear_upsample_window, conv_window, nearest_upsample_window
from .args import Arg, boolean, choice, nonneg_int, optional, pair, positive_int
from .base import LayerResult, LayerType, ModuleCall, elements, keep_axis, register, shape_text, spatial
from .fieldrules import IDENTITY, WHOLE, Unknown, Windows
from .layout import ELEMENTWISE
from .memrules import PASS_THROUGH, MemoryRule


@register
class Flatten(LayerType):
    name = "flatten"
    family = "structure"
    summary = "Flattens a CxHxW map into a C*H*W vector (torch.nn.Flatten)."
    flat_output = True
    shape_rule = "C x H x W -> C*H*W"
    rf_rule = "unchanged; the next linear layer sees the whole input"
    # a view of the (contiguous) input; backward reshapes the gradient, again a view
    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: PASS_THROUGH)

    @classmethod
    def infer(cls, args, inputs):
        shape = inputs[0]
        # A flat vector has no spatial axes left: every later field is the whole input.
        return LayerResult(output=(elements(shape),), rf=WHOLE)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("Flatten")

    @classmethod
    def probe_shape(cls, args, out_shape, probe_in):
        return (elements(probe_in[0]),)


def target_shape(value):
    # [C, H, W], [C, L], [C, T, H, W] or [features] (or one integer), each at most 2^20, one of
    # them -1 at most (inferred, as torch does); expressions allowed per item
    items = value if isinstance(value, (list, tuple)) else [value]
    if len(items) not in (1, 2, 3, 4):
        raise SpecError(f"must be [C, H, W], [C, L], [C, T, H, W] or [features], got {len(items):,} values")
    sizes = tuple(-1 if item == -1 else positive_int(item) for item in items)
    if sizes.count(-1) > 1:
        raise SpecError("may infer one size (-1) at most")
    return sizes


def _resolved(target, count: int, what: str):
    """The target sizes with a -1 inferred from ``count`` elements."""
    known = elements([d for d in target if d != -1])
    if -1 in target:
        if count % known:
            raise ShapeError(f"cannot reshape {what} to {shape_text(target)}: {count:,} is not a multiple of {known:,}")
        return tuple(count // known if d == -1 else d for d in target)
    if known != count:
        raise ShapeError(f"cannot reshape {what} to {shape_text(target)} ({known:,} elements)")
    return tuple(target)


@register
class Reshape(LayerType):
    name = "reshape"
    aliases = ("unflatten",)
    family = "structure"
    summary = ("Reads a flat vector as a CxHxW map (or a vector) of the same element count, in torch's row-major "
               "order: channel by channel, row by row (torch.nn.Unflatten(1, shape)); with `dim`, views axes dim "
               "to end_dim of any tensor as `shape` instead (torch's view of a range of axes: ResNeSt's radix "
               "groups split off the channels, a map's positions read as one sequence axis).")
    args = (Arg("shape", target_shape, help="[C, H, W], [C, L], [C, T, H, W] or [features]; one size may be -1 "
                                            "(inferred); expressions allowed, e.g. [B * 5 + C, S, S]"),
            Arg("dim", optional(nonneg_int), None, (), "the first axis viewed as shape (0: channels); none: the "
                                                        "input is flat"),
            Arg("end_dim", optional(nonneg_int), None, (), "the last axis viewed as shape (default: dim)"))
    shape_rule = ("N -> shape, with C x H x W = N (the input must be flat: flatten a map first); with dim: axes "
                  "dim..end_dim -> shape, the other axes kept")
    rf_rule = ("whole input: a flat vector's elements have no spatial field (flatten's convention), so every position "
               "of the map sees the whole input, and a view of a map's axes follows the same convention; the probe "
               "twin spreads the input over the output")

    @classmethod
    def check(cls, args):
        if args["dim"] is None and args["end_dim"] is not None:
            raise SpecError("end_dim needs dim")
        if args["dim"] is not None and args["end_dim"] is not None and args["end_dim"] < args["dim"]:
            raise SpecError(f"end_dim {args['end_dim']} comes before dim {args['dim']}")

    @classmethod
    def _axes(cls, args):
        return args["dim"], args["dim"] if args["end_dim"] is None else args["end_dim"]

    @classmethod
    def infer(cls, args, inputs):
        shape, target = inputs[0], args["shape"]
        if args["dim"] is None:
            if len(shape) != 1:
                raise ShapeError(f"reshape needs a flat vector, got a {shape_text(shape)} map (flatten it first, "
                                 "or view a range of its axes with dim)")
            return LayerResult(output=_resolved(target, shape[0], f"{shape[0]:,} features"), rf=WHOLE)
        first, last = cls._axes(args)
        if last >= len(shape):
            raise ShapeError(f"axis {last} does not exist in a {shape_text(shape)} tensor (axes count from 0)")
        viewed = shape[first:last + 1]
        output = (*shape[:first], *_resolved(target, elements(viewed), f"axes {first}..{last} ({shape_text(viewed)})"),
                  *shape[last + 1:])
        if len(output) > 4:
            raise ShapeError(f"a {shape_text(output)} tensor has more than 3 spatial axes")
        return LayerResult(output=output, rf=WHOLE)

    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: PASS_THROUGH)  # a view

    @classmethod
    def torch_module(cls, args, in_shapes):
        shape = tuple(args["shape"])
        # a [C, L] target as a list: export writes an equal pair as one number (a kernel's (3, 3) as 3)
        sizes = list(shape) if len(shape) == 2 else shape
        if args["dim"] is None:
            return ModuleCall("Unflatten", (1, sizes))
        first, last = cls._axes(args)
        return ModuleCall("archcalc.ViewAxes", (first + 1, last + 1, list(shape)))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        if len(out_shape) == 1:
            return ModuleCall("Identity")
        return ModuleCall("archcalc.SpreadTo", (), dict(shape=(1, *out_shape[1:])))


def permutation(value):
    """torch's dims of a permute, the batch dimension 0 included and kept first: [0, 2, 3, 1]."""
    if not isinstance(value, (list, tuple)) or not 2 <= len(value) <= 5:
        raise SpecError("must be a list of 2 to 5 dimensions with the batch first, e.g. [0, 2, 3, 1]")
    dims = tuple(nonneg_int(item) for item in value)
    if sorted(dims) != list(range(len(dims))):
        raise SpecError(f"must be a permutation of 0..{len(dims) - 1}, got {list(dims)}")
    if dims[0] != 0:
        raise SpecError(f"must keep the batch dimension first (0), got {list(dims)}")
    return dims


@register
class Permute(LayerType):
    name = "permute"
    family = "structure"
    summary = ("Reorders the dimensions of a tensor: a view (torchvision.ops.Permute, torch.permute). dims are "
               "torch's, batch included: ConvNeXt's [0, 2, 3, 1] makes a CxHxW map channels last (HxWxC), [0, 3, 1, 2] "
               "makes it channels first again. Only layers that act on each position on their own (element-wise, or "
               "on the last dimension when that is the channels: linear, layernorm over: last) accept a permuted tensor.")
    args = (Arg("dims", permutation, help="torch's dims with the batch first, e.g. [0, 2, 3, 1]"),)
    shape_rule = "dimension i of the output is dimension dims[i+1] - 1 of the input (batch left out)"
    rf_rule = ("unchanged: a field is kept per axis of the net input whatever the dimension order, and the layers a "
               "permuted tensor meets act on each position on their own")
    on_permuted = ELEMENTWISE  # only reorders: it accepts any layout
    # a view; its backward permutes the gradient back, again a view
    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: PASS_THROUGH)

    @classmethod
    def infer(cls, args, inputs):
        shape, dims = inputs[0], args["dims"]
        if len(dims) != len(shape) + 1:
            raise ShapeError(f"dims {list(dims)} has {len(dims)} dimensions but the input {shape_text(shape)} has "
                             f"{len(shape) + 1} with the batch")
        return LayerResult(output=tuple(shape[d - 1] for d in dims[1:]), rf=IDENTITY)

    @classmethod
    def output_layout(cls, args, in_layouts, out_rank):
        return tuple(in_layouts[0][d - 1] for d in args["dims"][1:])

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("archcalc.Permute", (list(args["dims"]),))


@register
class Upsample(LayerType):
    name = "upsample"
    family = "structure"
    summary = "Nearest or bilinear upsampling by an integer scale factor or to a size (torch.nn.Upsample)."
    args = (
        Arg("scale_factor", optional(pair(1)), None, ("scale",), "integer factor (or [h, w])"),
        Arg("size", optional(pair(1)), None, (), "output size (int or [h, w]); instead of scale_factor"),
        Arg("mode", choice("nearest", "bilinear"), "nearest"),
        Arg("align_corners", optional(boolean), None, (), "bilinear only"),
    )
    shape_rule = "H x scale_factor (or size)"
    ops_rule = "nearest: 0; bilinear: 4 per output element (two lerps)"
    rf_rule = "fractional: stride_out = stride_in / factor; nearest reads floor(o/factor); bilinear the one or two neighbours with non-zero weight. Receptive field unknown for non-integer ratios and align_corners=true"

    @classmethod
    def check(cls, args):
        if (args["scale_factor"] is None) == (args["size"] is None):
            raise SpecError("give exactly one of scale_factor and size")
        if args["align_corners"] is not None and args["mode"] == "nearest":
            raise SpecError("align_corners only applies to mode 'bilinear'")

    @classmethod
    def infer(cls, args, inputs):
        channels, height, width = spatial(inputs[0], cls.name)
        if args["size"] is not None:
            sizes = list(args["size"])
        else:
            sizes = [height * args["scale_factor"][0], width * args["scale_factor"][1]]
        ops = 0 if args["mode"] == "nearest" else 4 * channels * sizes[0] * sizes[1]
        return LayerResult(output=(channels, sizes[0], sizes[1]), ops=ops, rf=cls._field_rule(args, (height, width), sizes))

    @classmethod
    def _field_rule(cls, args, sizes_in, sizes_out):
        windows = []
        for size, out in zip(sizes_in, sizes_out):
            if out % size or args["align_corners"]:
                return Unknown("non-integer scale or align_corners")
            factor = out // size
            windows.append(nearest_upsample_window(factor) if args["mode"] == "nearest" else bilinear_upsample_window(factor))
        return Windows(tuple(windows))

    @classmethod
    def torch_module(cls, args, in_shapes):
        kwargs = {"mode": args["mode"]}
        if args["size"] is not None:
            kwargs["size"] = tuple(args["size"])
        else:
            kwargs["scale_factor"] = tuple(float(f) for f in args["scale_factor"])
        if args["align_corners"] is not None:
            kwargs["align_corners"] = args["align_corners"]
        return ModuleCall("Upsample", (), kwargs)

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        if args["mode"] == "bilinear":  # torch's own weights, float noise snapped to zero
            return ModuleCall("archcalc.SnappedBilinear", (), dict(
                in_size=tuple(in_shapes[0][1:]), out_size=tuple(out_shape[1:]), align_corners=bool(args["align_corners"])))
        return cls.torch_module(args, in_shapes)

    @classmethod
    def axis_args(cls, args, axis):
        key = "size" if args["size"] is not None else "scale_factor"
        return {**args, key: keep_axis(args[key], axis, 1)}

    @classmethod
    def field_grows_with_input(cls, args):
        return args["size"] is not None


@register
class Slice(LayerType):
    name = "slice"
    aliases = ("chunk", "narrow")
    family = "structure"
    summary = ("Channels [start, end) of a map, or features [start, end) of a flat vector: a view (x[:, start:end]). "
               "chunks + index pick one part of torch.chunk, e.g. ShuffleNetV2's x.chunk(2, dim=1) is two slices "
               "with chunks: 2 and index 0 and 1.")
    args = (
        Arg("start", optional(nonneg_int), None, (), "first channel (default 0)"),
        Arg("end", optional(positive_int), None, ("stop",), "one past the last channel (default: all)"),
        Arg("chunks", optional(positive_int), None, (), "instead of start/end: the number of parts, as torch.chunk"),
        Arg("index", optional(nonneg_int), None, (), "which part (0-based), with chunks"),
    )
    shape_rule = ("C -> end - start; with chunks, every part has ceil(C / chunks) channels but the last, which keeps "
                  "the rest (torch.chunk)")
    rf_rule = "unchanged (a view of some channels)"
    probe_passthrough = True  # the one-channel probe reads every channel's field at once
    # a view; its backward (slice_backward) makes a new gradient of the whole input
    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: MemoryRule(view=True))

    @classmethod
    def check(cls, args):
        if args["chunks"] is not None or args["index"] is not None:
            if args["chunks"] is None or args["index"] is None:
                raise SpecError("chunks and index go together")
            if args["start"] is not None or args["end"] is not None:
                raise SpecError("give either start/end or chunks/index, not both")
        elif args["start"] is not None and args["end"] is not None and args["start"] >= args["end"]:
            raise SpecError(f"start {args['start']:,} must be below end {args['end']:,}")

    @classmethod
    def bounds(cls, args, channels: int) -> tuple[int, int]:
        """[start, end) within ``channels``, checked."""
        if args["chunks"] is not None:
            size = -(-channels // args["chunks"])
            start = args["index"] * size
            if start >= channels:
                raise ShapeError(f"chunk index {args['index']:,} is out of range: {channels:,} channels in chunks of "
                                 f"{size:,} give {-(-channels // size):,} parts")
            return start, min(start + size, channels)
        start = args["start"] or 0
        end = channels if args["end"] is None else args["end"]
        if end > channels or start >= end:
            raise ShapeError(f"slice [{start:,}, {end:,}) does not fit in {channels:,} channels")
        return start, end

    @classmethod
    def infer(cls, args, inputs):
        shape = inputs[0]
        start, end = cls.bounds(args, shape[0])
        return LayerResult(output=(end - start, *shape[1:]), rf=IDENTITY)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("archcalc.Slice", cls.bounds(args, in_shapes[0][0]))


@register
class ChannelShuffle(LayerType):
    name = "channel_shuffle"
    aliases = ("shuffle",)
    family = "structure"
    summary = ("Interleaves the channels of groups groups (ShuffleNet): C = groups x n is read as groups x n and "
               "transposed to n x groups (torch.nn.ChannelShuffle).")
    args = (Arg("groups", positive_int, help="C must be divisible by it"),)
    rf_rule = "unchanged (a permutation of the channels)"
    ops_rule = "0 (a copy)"
    probe_passthrough = True

    @classmethod
    def infer(cls, args, inputs):
        channels, _, _ = spatial(inputs[0], cls.name)
        if channels % args["groups"]:
            raise ShapeError(f"{channels:,} channels cannot be shuffled in {args['groups']:,} groups (not divisible)")
        return LayerResult(output=inputs[0], rf=IDENTITY)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("ChannelShuffle", (args["groups"],))


@register
class SpaceToDepth(LayerType):
    name = "space_to_depth"
    aliases = ("spacetodepth",)
    family = "structure"
    summary = ("Moves each block_h x block_w block of the map into channels (timm's SpaceToDepth, TResNet's stem): "
               "C x H x W -> (block_h x block_w x C) x H/block_h x W/block_w, channel index (row, column, channel).")
    args = (Arg("block_size", pair(1), 4, ("block", "bs"), "H and W must be divisible by it"),)
    shape_rule = "C_out = C x block_h x block_w; H_out = H / block_h, W_out = W / block_w"
    ops_rule = "0 (a copy)"
    rf_rule = "as a convolution with kernel = stride = block_size, no padding: a block per output position"
    torch_defaults = dict(block_size=4)

    @classmethod
    def infer(cls, args, inputs):
        channels, *sides = spatial(inputs[0], cls.name)
        block = args["block_size"]
        if any(size % b for size, b in zip(sides, block)):
            raise ShapeError(f"a {shape_text(tuple(sides))} map cannot be cut into {shape_text(block)} blocks (not divisible)")
        return LayerResult(output=(channels * block[0] * block[1], *(size // b for size, b in zip(sides, block))),
                           rf=Windows(tuple(conv_window(b, b, 0) for b in block)))

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("archcalc.SpaceToDepth", (args["block_size"],))

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        # one channel: each output position reads exactly its block, as an average does
        return ModuleCall("AvgPool2d", (args["block_size"],))

    @classmethod
    def axis_args(cls, args, axis):
        return {**args, "block_size": keep_axis(args["block_size"], axis, 1)}
