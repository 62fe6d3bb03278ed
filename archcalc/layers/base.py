"""The layer registry: each layer type states, in one place, its arguments, output shape,
parameters, buffers, MACs/FLOPs/ops and receptive-field rule (after torch's flop_counter
registry: one small function per op)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, NamedTuple, Sequence

from ..errors import ShapeError, SpecError, clip, near_miss
from .args import Arg
from .fieldrules import IDENTITY, FieldRule
from .layout import REFUSES, Layout, standard
from .memrules import NEW_OUTPUT, MemoryRule

Shape = tuple[int, ...]


def fmt_int(value: int) -> str:
    return f"{value:,}"


@dataclass(frozen=True)
class Tensor:
    """One parameter or buffer tensor: its name as PyTorch has it, element count and formula."""

    name: str
    count: int
    formula: str


@dataclass
class LayerResult:
    """Everything the analysis needs to know about one layer applied to its input(s).

    Counts are per sample (batch 1); the analysis scales by batch.
    """

    output: Shape
    params: list[Tensor] = field(default_factory=list)
    buffers: list[Tensor] = field(default_factory=list)
    macs: int = 0
    # FLOPs exactly as torch.utils.flop_counter.FlopCounterMode reports them.
    flops: int = 0
    # Every arithmetic op, including bias adds, normalisation, activations, pooling, adds.
    ops: int = 0
    # how the output's receptive field follows from the inputs' (archcalc.layers.fieldrules)
    rf: FieldRule = IDENTITY
    # The backward pass as FlopCounterMode counts it under loss.backward(), in two parts: the
    # gradient with respect to the input, counted only when the input needs one (it depends on a
    # trainable parameter), and with respect to the weights, counted only for a trainable layer.
    backward_input_flops: int = 0
    backward_weight_flops: int = 0
    # a layer of several inputs whose input gradient is one op per input (matmul): each input's
    # part, counted only where that input needs a gradient (summing to backward_input_flops)
    backward_input_flops_each: tuple[int, ...] = ()

    @property
    def param_count(self) -> int:
        return sum(t.count for t in self.params)

    @property
    def buffer_count(self) -> int:
        return sum(t.count for t in self.buffers)


class ModuleCall(NamedTuple):
    """A PyTorch module's constructor as plain data (layers/ never imports torch): a torch.nn
    class name, or 'archcalc.NAME' for one of the twin's own modules (archcalc.pytorch.modules),
    with positional and keyword arguments. archcalc.pytorch builds it and export prints it."""

    name: str
    args: tuple = ()
    kwargs: dict = {}


JOIN = "archcalc.Join"  # a join module: kwargs name (its class name) and combine (see LayerType.combine)


def sum_inputs(torch, inputs):
    """The probe twin's join: a sum (every probe weight is positive, so a sum reaches exactly
    the positions any input reaches)."""
    out = inputs[0]
    for other in inputs[1:]:
        out = out + other
    return out


def keep_axis(value: Any, axis: int, trivial: Any) -> Any:
    """A per-axis value ((h, w), or one per spatial axis) kept along ``axis`` and made ``trivial``
    along the others."""
    return tuple(v if i == axis else trivial for i, v in enumerate(value))


# --------------------------------------------------------------------------- layer types
class LayerType:
    """Base class. Subclasses set the class attributes and implement ``infer``."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    args: ClassVar[tuple[Arg, ...]] = ()
    # how many inputs: 1, or "many" for add/concat
    arity: ClassVar[int | str] = 1
    # documentation of the rules, rendered into docs/spec.md
    shape_rule: ClassVar[str] = "output = input"
    params_rule: ClassVar[str] = "0"
    macs_rule: ClassVar[str] = "0 (FLOPs 0)"
    ops_rule: ClassVar[str] = "0"
    rf_rule: ClassVar[str] = "unchanged"
    # the backward FLOPs (LayerResult.backward_input_flops / backward_weight_flops) and why
    backward_rule: ClassVar[str] = "0: FlopCounterMode counts no op of its backward (no mm, no convolution)"
    # The homework vocabulary (archcalc.homework), so that no code outside layers/ names a type.
    # Words a chain step may use for this type besides its name and aliases ("pool" 2).
    shorthand: ClassVar[tuple[str, ...]] = ()
    # A chain step's row is named short_name + step number ("conv3"); empty: the type's name.
    short_name: ClassVar[str] = ""
    # How a chain step's bare sizes fill arguments: "" (key=value only), "kernel_out"
    # ("KxK OUT", "KxKxOUT", "KxKxINxOUT"), "kernel_stride" ("K [STRIDE]") or "features" ("N").
    chain_positional: ClassVar[str] = ""
    # What the one-line explanations call it ("max pooling"); empty: the type's name.
    title: ClassVar[str] = ""
    # On a feature map a student means "flatten, then this layer" (a dense layer).
    flattens_map_first: ClassVar[bool] = False
    # The output is a flat vector whatever the input's shape (flatten).
    flat_output: ClassVar[bool] = False

    @classmethod
    def arg_names(cls) -> dict[str, Arg]:
        """Each argument by its name and its aliases (built once per type and ``args`` tuple:
        every layer of a spec is validated through it). Read it, do not change it."""
        cached = cls.__dict__.get("_arg_names_cache")
        if cached is not None and cached[0] is cls.args:
            return cached[1]
        names = {}
        for arg in cls.args:
            names[arg.name] = arg
            for alias in arg.aliases:
                names[alias] = arg
        cls._arg_names_cache = (cls.args, names)
        return names

    @classmethod
    def validate(cls, raw: dict[str, Any]) -> dict[str, Any]:
        """Check and convert the arguments; errors name the argument."""
        known = cls.arg_names()
        values: dict[str, Any] = {}
        for key, value in raw.items():
            arg = known.get(key)
            try:
                if arg is None:
                    near = near_miss(key, known)
                    hint = f"; did you mean '{near[0]}'?" if near else ""
                    listed = ", ".join(a.name for a in cls.args) or "none"
                    raise SpecError(f"unknown argument '{clip(key)}' for {cls.name}{hint} (arguments: {listed})")
                if arg.name in values:
                    raise SpecError(f"argument '{arg.name}' is given twice (as '{key}' and an alias)")
                try:
                    values[arg.name] = arg.convert(value)
                except SpecError as exc:
                    exc.message = f"argument '{key}' of {cls.name} {exc.message}"
                    raise
            except SpecError as exc:
                exc.argument = key
                raise
        for arg in cls.args:
            if arg.name not in values:
                if arg.required:
                    raise SpecError(f"{cls.name} needs argument '{arg.name}'")
                values[arg.name] = arg.convert(arg.default) if arg.default is not None else None
        cls.check(values)
        return values

    @classmethod
    def check(cls, args: dict[str, Any]) -> None:
        """Cross-argument checks that need no input shape."""

    @classmethod
    def infer(cls, args: dict[str, Any], inputs: Sequence[Shape]) -> LayerResult:
        raise NotImplementedError

    # ------------------------------------------------------------------ layouts (layers/layout.py)
    # how the layer treats a permuted tensor (channels not first, as ConvNeXt's HxWxC): REFUSES,
    # ELEMENTWISE or LAST_AXIS; a layer that accepts one acts on each spatial position on its own
    on_permuted: ClassVar[str] = REFUSES

    @classmethod
    def permuted_use(cls, args: dict[str, Any]) -> str:
        return cls.on_permuted

    @classmethod
    def output_layout(cls, args: dict[str, Any], in_layouts: Sequence[Layout], out_rank: int) -> Layout:
        """The output's layout: the input's where the layer keeps its rank, else the standard one."""
        if in_layouts and len(in_layouts[0]) == out_rank:
            return in_layouts[0]
        return standard(out_rank)

    # ------------------------------------------------------------------ the PyTorch side
    # Plain data read by archcalc.pytorch (twin, verify, probe, export); torch is never imported here.

    # keyword values equal to torch's defaults: export leaves them out of the source
    torch_defaults: ClassVar[dict[str, Any]] = {}
    # in the receptive-field probe twin the layer passes its input on unchanged (element-wise)
    probe_passthrough: ClassVar[bool] = False
    # joins: combine(torch, inputs) -> the output tensor, written over tensor operators with torch
    # passed in; the twin runs it and export writes its body as the join module's forward
    combine: ClassVar[Callable[[Any, list], Any] | None] = None
    join_class: ClassVar[str] = ""  # the join module's class name in the twin and the export

    @classmethod
    def torch_module(cls, args: dict[str, Any], in_shapes: Sequence[Shape]) -> ModuleCall:
        """The torch.nn module the twin builds for this layer (named as the spec names it)."""
        if cls.combine is not None:
            return ModuleCall(JOIN, (), {"name": cls.join_class, "combine": cls.combine})
        raise NotImplementedError(f"layer type '{cls.name}' states no PyTorch module")

    @classmethod
    def passes_through_in_probe(cls, args: dict[str, Any]) -> bool:
        return cls.probe_passthrough

    @classmethod
    def probe_module(cls, args: dict[str, Any], in_shapes: Sequence[Shape], out_shape: Shape,
                     probe_in: Sequence[Shape]) -> ModuleCall:
        """The module of the receptive-field probe twin (archcalc.pytorch.twin): one channel,
        positive weights, no bias; ``probe_in`` are the probe's input shapes."""
        if cls.passes_through_in_probe(args):
            return ModuleCall("Identity")
        if cls.combine is not None:
            return ModuleCall(JOIN, (), {"name": "Sum", "combine": sum_inputs})
        return cls.torch_module(args, in_shapes)

    @classmethod
    def probe_shape(cls, args: dict[str, Any], out_shape: Shape, probe_in: Sequence[Shape]) -> Shape:
        """The probe twin's output shape (one channel)."""
        return (1, *out_shape[1:]) if is_map(out_shape) else tuple(probe_in[0])

    @classmethod
    def axis_args(cls, args: dict[str, Any], axis: int) -> dict[str, Any]:
        """Arguments for the one-axis probe twin: the geometry along ``axis`` (0 rows, 1 columns;
        of a CxTxHxW net 0 time, 1 rows, 2 columns) kept, the others made trivial, sizes left to
        the input."""
        return dict(args)

    @classmethod
    def field_grows_with_input(cls, args: dict[str, Any]) -> bool:
        """Whether the layer's field depends on the input size (adaptive pooling, a resize to a
        fixed size): a larger probe input cannot make such a field fit."""
        return False

    # ------------------------------------------------------------------ memory (figures/memory.py)
    # buffers torch keeps as int64 whatever the dtype (batch norm's num_batches_tracked)
    integer_buffers: ClassVar[tuple[str, ...]] = ()
    # the torch module accepts inplace=True (archcalc memory --inplace, the twin's ReLU(inplace=True))
    runs_inplace: ClassVar[bool] = False
    # under torch.autocast: "half" (the output is float16/bfloat16: conv, linear), "float32"
    # (autocast runs it in float32: softmax) or "input" (the input's dtype: element-wise, pooling)
    autocast_output: ClassVar[str] = "input"

    @classmethod
    def memory_rule(cls, args: dict[str, Any], in_shapes: Sequence[Shape], out_shape: Shape,
                    training: bool) -> MemoryRule:
        """What the layer keeps for backward and allocates (archcalc.layers.memrules); ``training``:
        the module is in train mode (dropout drops, batch norm uses batch statistics)."""
        return NEW_OUTPUT


REGISTRY: dict[str, type[LayerType]] = {}
ALIASES: dict[str, str] = {}



class NoChainNotation:
    """Mixed in before a chain-notation type (conv2d: `conv3x3`, `c3`) by its subclasses that the
    chain notation does not write (the 1-D and 3-D forms): no shorthand, short name or positional."""

    shorthand: ClassVar[tuple[str, ...]] = ()
    short_name: ClassVar[str] = ""
    chain_positional: ClassVar[str] = ""

def register(layer: type[LayerType]) -> type[LayerType]:
    for key in (layer.name, *layer.aliases):
        if key in REGISTRY or key in ALIASES:
            raise RuntimeError(f"layer type '{key}' registered twice")
    REGISTRY[layer.name] = layer
    for alias in layer.aliases:
        ALIASES[alias] = layer.name
    return layer


def lookup(type_name: str) -> type[LayerType] | None:
    return REGISTRY.get(ALIASES.get(type_name, type_name))


def all_type_names() -> list[str]:
    return sorted(REGISTRY) + sorted(ALIASES)


# --------------------------------------------------------------------------- shape helpers
# What a tensor of each rank is (archcalc.spec.shapes): a flat vector, or channels and 1 to 3
# spatial axes. Receptive fields have one axis per spatial axis.
MAP_FORMS = {1: "CxL sequence", 2: "CxHxW feature map", 3: "CxTxHxW volume"}


def is_map(shape: Shape) -> bool:
    """A tensor with spatial axes (CxL, CxHxW, CxTxHxW), not a flat vector of features."""
    return len(shape) >= 2


def spatial(shape: Shape, layer: str, axes: int = 2) -> tuple[int, ...]:
    """Unpack an input with ``axes`` spatial axes (CxHxW by default), with a clear message when
    the input is flat or has another number of axes."""
    if len(shape) != axes + 1:
        got = (f"a flat vector of {shape[0]:,} features" if len(shape) == 1
               else f"a {MAP_FORMS.get(len(shape) - 1, 'tensor')} {shape_text(shape)}")
        raise ShapeError(f"{layer} needs a {MAP_FORMS[axes]}, got {got}")
    return shape


def elements(shape: Shape) -> int:
    total = 1
    for dim in shape:
        total *= dim
    return total


def shape_text(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)


def conv_output_size(size: int, kernel: int, stride: int, pad_left: int, pad_right: int, dilation: int = 1, ceil_mode: bool = False) -> int:
    """PyTorch's rounding (aten pooling_output_shape): floor((in + pads - dilation*(k-1) - 1
    [+ stride-1 in ceil_mode]) / stride) + 1; in ceil_mode the last window must start inside the
    input or the left padding. May return <= 0, which callers report as an empty output."""
    numerator = size + pad_left + pad_right - dilation * (kernel - 1) - 1
    if ceil_mode:
        numerator += stride - 1
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad_left:
        out -= 1
    return out


def check_channels(layer: str, given: int | None, actual: int, what: str = "in_channels") -> None:
    if given is not None and given != actual:
        raise ShapeError(f"{what} is {given:,} but the input has {actual:,} channels")
