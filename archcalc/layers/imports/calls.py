"""What an op table sees of one traced call (no torch): ``OpCall`` with its tensors as
``TensorArg`` (shapes without the batch), and what a table's rule answers: ``Emit`` (a layer),
``Alias`` (no layer: a tensor passed on) or ``Unsupported``."""

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


@dataclass(frozen=True)
class ParameterArg:
    """A parameter the call reads directly (ConvNeXt's ``self.layer_scale * x``, NF-Nets'
    ``out.mul_(self.skipinit_gain)``): its path in the model (``target``) and its full shape (a
    parameter has no batch). A layer that holds it names it in ``Emit.parameters``; a parameter
    no emitted layer holds is refused ("reads the parameter directly")."""

    target: str
    shape: tuple[int, ...]

    @property
    def local(self) -> str:
        return self.target.rsplit(".", 1)[-1]


@dataclass
class Emit:
    """One layer the call becomes: its type, arguments, and which of the call's tensors it reads
    (None: all of them for the first layer, the previous layer for the others). ``suffix`` names a
    second or later layer of one call (``flatten`` after the global average of ``x.mean((2, 3))``).
    ``name`` names the first layer instead of the call's fx node (a layer holding a parameter of
    the calling module is named after that parameter, as ``named_parameters()`` has it).
    ``parameters``: the parameters read directly by the call (ParameterArg) that this layer holds."""

    type: str
    args: dict = field(default_factory=dict)
    inputs: tuple[int, ...] | None = None
    suffix: str | None = None
    name: str | None = None
    parameters: tuple[str, ...] = ()  # the ParameterArg targets this layer holds


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


def table_key(cls: type, table) -> str:
    """The key a module class is read by: its own, or that of the nearest base class in ``table``
    when no class in between defines ``forward`` (torchvision's Conv3DSimple is an nn.Conv3d that
    only chooses its arguments, so it computes exactly what its base computes)."""
    for klass in cls.__mro__:
        key = class_key(klass)
        if key in table:
            return key
        if "forward" in vars(klass):
            break
    return class_key(cls)
