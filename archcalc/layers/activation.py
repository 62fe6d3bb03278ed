"""Element-wise activations, dropout and identity: shape kept, no parameters."""

from __future__ import annotations

from .base import IDENTITY, Arg, LayerResult, LayerType, choice, elements, nonneg_int, number, register

# ops per element, for the documented "all ops" count
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
    "softmax": (3, "Softmax", (Arg("dim", nonneg_int, 0, (), "0 = channels (dims exclude the batch)"),)),
}


def _make_activation(type_name: str, ops: int, torch_name: str, extra_args: tuple) -> type[LayerType]:
    def infer(cls, args, inputs):
        shape = inputs[0]
        if type_name == "softmax" and args["dim"] >= len(shape):
            from ..errors import ShapeError

            raise ShapeError(f"softmax dim {args['dim']} does not exist in a {len(shape)}-d input")
        rf = IDENTITY
        if type_name == "softmax" and args["dim"] > 0 and len(shape) == 3:
            from .windows import IDENTITY_WINDOW, whole_axis_window

            # softmax along a spatial axis: every output reads that whole axis
            rf = [whole_axis_window(shape[1]), IDENTITY_WINDOW] if args["dim"] == 1 else [IDENTITY_WINDOW, whole_axis_window(shape[2])]
        return LayerResult(output=shape, ops=ops * elements(shape), rf=rf)

    return type(
        type_name.title().replace("_", ""),
        (LayerType,),
        {
            "name": type_name,
            "family": "activation",
            "summary": f"Element-wise {torch_name} (torch.nn.{torch_name}).",
            "args": extra_args + (Arg("inplace", lambda v: bool(v), False, (), "accepted, changes nothing"),),
            "ops_rule": f"{ops} per element",
            "infer": classmethod(infer),
        },
    )


for _name, (_ops, _torch, _args) in _ACTIVATIONS.items():
    register(_make_activation(_name, _ops, _torch, _args))

ACTIVATION_TORCH_NAMES = {name: torch for name, (_, torch, _) in _ACTIVATIONS.items()}


@register
class Dropout(LayerType):
    name = "dropout"
    aliases = ("dropout2d",)
    family = "regularisation"
    summary = "Dropout (torch.nn.Dropout); an identity at inference, no parameters."
    args = (Arg("p", number, 0.5, (), "drop probability"), Arg("inplace", lambda v: bool(v), False))

    @classmethod
    def infer(cls, args, inputs):
        return LayerResult(output=inputs[0], rf=IDENTITY)


@register
class Identity(LayerType):
    name = "identity"
    family = "structure"
    summary = "Passes its input through (torch.nn.Identity)."

    @classmethod
    def infer(cls, args, inputs):
        return LayerResult(output=inputs[0], rf=IDENTITY)
