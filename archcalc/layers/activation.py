"""Element-wise activations, dropout and identity: shape kept, no parameters."""

from __future__ import annotations

from ..errors import ShapeError
from .args import Arg, choice, nonneg_int, number, number_in
from .base import LayerResult, LayerType, ModuleCall, elements, register
from .fieldrules import IDENTITY, Windows
from .layout import ELEMENTWISE
from .memrules import MASK, PASS_THROUGH, Kept, MemoryRule
from .windows import IDENTITY_WINDOW, whole_axis_window

# type name: (ops per element for the documented "all ops" count, torch.nn class, extra arguments);
# each extra argument's default is torch's, so export leaves it out when unchanged
_ACTIVATIONS = {
    "relu": (1, "ReLU", ()),
    "relu6": (2, "ReLU6", ()),
    "leaky_relu": (2, "LeakyReLU", (Arg("negative_slope", number, 0.01),)),
    "elu": (3, "ELU", (Arg("alpha", number, 1.0),)),
    "sigmoid": (4, "Sigmoid", ()),
    "tanh": (4, "Tanh", ()),
    "gelu": (8, "GELU", (Arg("approximate", choice("none", "tanh"), "none"),)),
    "silu": (5, "SiLU", ()),
    "hardswish": (4, "Hardswish", ()),
    # relu6(x + 3) / 6: an add, two comparisons, a scale
    "hardsigmoid": (4, "Hardsigmoid", ()),
}
_INPLACE = Arg("inplace", lambda v: bool(v), False, (), "accepted, changes nothing")
# What autograd keeps (torch's derivatives.yaml): these keep their output, the others their input
_KEEP_OUTPUT = {"relu", "sigmoid", "tanh"}
# torch.nn modules that really run in place with inplace=True: relu_, leaky_relu_ and elu_ keep
# their result. ReLU6 (hardtanh_) keeps its input as well, so in place it saves nothing; SiLU and
# Hardswish keep their input too, and dropout after a ReLU would overwrite what ReLU keeps.
_RUN_INPLACE = {"relu", "leaky_relu", "elu"}


class Activation(LayerType):
    """An element-wise activation: the field is unchanged; in the probe twin an identity."""

    family = "activation"
    ops_per_element: int = 1
    torch_class: str = ""
    probe_passthrough = True
    on_permuted = ELEMENTWISE

    @classmethod
    def infer(cls, args, inputs):
        return LayerResult(output=inputs[0], ops=cls.ops_per_element * elements(inputs[0]), rf=IDENTITY)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall(cls.torch_class, (), {k: v for k, v in args.items() if k != "inplace"})

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        return MemoryRule(saves_output=cls.name in _KEEP_OUTPUT, saves_input=cls.name not in _KEEP_OUTPUT)


def _make_activation(type_name: str, ops: int, torch_name: str, extra_args: tuple) -> type[LayerType]:
    return type(
        type_name.title().replace("_", ""),
        (Activation,),
        {
            "name": type_name,
            "summary": f"Element-wise {torch_name} (torch.nn.{torch_name}).",
            "args": extra_args + (_INPLACE,),
            "ops_rule": f"{ops} per element",
            "ops_per_element": ops,
            "torch_class": torch_name,
            "torch_defaults": {arg.name: arg.default for arg in extra_args},
            "runs_inplace": type_name in _RUN_INPLACE,
        },
    )


for _name, (_ops, _torch, _args) in _ACTIVATIONS.items():
    register(_make_activation(_name, _ops, _torch, _args))


@register
class Softmax(Activation):
    name = "softmax"
    summary = "Element-wise Softmax (torch.nn.Softmax)."
    args = (Arg("dim", nonneg_int, 0, (), "0 = channels (dims exclude the batch)"), _INPLACE)
    ops_rule = "3 per element"
    ops_per_element = 3
    autocast_output = "float32"  # on autocast's float32 list

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        return MemoryRule(saves_output=True)

    @classmethod
    def infer(cls, args, inputs):
        shape = inputs[0]
        if args["dim"] >= len(shape):
            raise ShapeError(f"softmax dim {args['dim']} does not exist in a {len(shape)}-d input")
        rf = IDENTITY
        if args["dim"] > 0 and len(shape) >= 2:
            # softmax along a spatial axis: every output reads that whole axis
            axis = args["dim"] - 1
            rf = Windows(tuple(whole_axis_window(shape[1 + a]) if a == axis else IDENTITY_WINDOW
                               for a in range(len(shape) - 1)))
        return LayerResult(output=shape, ops=cls.ops_per_element * elements(shape), rf=rf)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("Softmax", (), {"dim": args["dim"] + 1})  # dims in a spec exclude the batch

    @classmethod
    def passes_through_in_probe(cls, args):
        return args["dim"] == 0  # across channels: each position reads only itself

    @classmethod
    def probe_module(cls, args, in_shapes, out_shape, probe_in):
        if cls.passes_through_in_probe(args):
            return ModuleCall("Identity")
        return ModuleCall("archcalc.Spread", (), {"dim": args["dim"] + 1})


@register
class Dropout(LayerType):
    name = "dropout"
    aliases = ("dropout2d",)
    family = "regularisation"
    summary = "Dropout (torch.nn.Dropout); an identity at inference, no parameters."
    args = (Arg("p", number_in(0, 1), 0.5, (), "drop probability, 0 to 1"), Arg("inplace", lambda v: bool(v), False))
    torch_defaults = dict(p=0.5)
    probe_passthrough = True
    on_permuted = ELEMENTWISE

    @classmethod
    def memory_rule(cls, args, in_shapes, out_shape, training):
        if not training or args["p"] == 0:
            return PASS_THROUGH  # the input itself
        if args["p"] == 1:
            return MemoryRule()  # the input times a zero scalar
        return MemoryRule(kept=(Kept(elements(out_shape), MASK),))  # backward multiplies by the kept mask

    @classmethod
    def infer(cls, args, inputs):
        return LayerResult(output=inputs[0], rf=IDENTITY)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("Dropout", (), dict(p=args["p"]))


@register
class Identity(LayerType):
    name = "identity"
    family = "structure"
    summary = "Passes its input through (torch.nn.Identity)."
    probe_passthrough = True
    on_permuted = ELEMENTWISE
    memory_rule = classmethod(lambda cls, args, in_shapes, out_shape, training: PASS_THROUGH)

    @classmethod
    def infer(cls, args, inputs):
        return LayerResult(output=inputs[0], rf=IDENTITY)

    @classmethod
    def torch_module(cls, args, in_shapes):
        return ModuleCall("Identity")
