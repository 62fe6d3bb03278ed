"""What an ONNX op handler returns (``Emit``: one layer; ``Mapped``: a node's layers, alias or
covered nodes) and the small readers every handler shares (the mapped input's shape, axes,
float attributes as written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Emit:
    """One archcalc layer made from a node: its type and arguments, the ONNX tensors it reads
    (activations) and the one it produces, and how many of the node's constant elements it holds
    as parameters and as (floating-point) buffers, which the importer checks against the layer."""

    type: str
    args: dict = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    produces: str = ""
    params: int = 0
    buffers: int = 0
    suffix: str = ""  # the layer's name is the node's plus this, when a node makes several layers


@dataclass
class Mapped:
    """What a node becomes: layers, or an alias (its output is its input: Identity, a Reshape
    that changes nothing); ``covers`` are later nodes the pattern includes (the Mul of x *
    Sigmoid(x)), which the importer then skips."""

    layers: list[Emit] = field(default_factory=list)
    alias: tuple[str, str] | None = None  # (output tensor, the tensor it is)
    covers: list[Any] = field(default_factory=list)


def _one(type_name: str, op, args: dict | None = None, *, x: int = 0, params: int = 0, buffers: int = 0,
         produces: str | None = None, covers: list | None = None) -> Mapped:
    return Mapped([Emit(type_name, args or {}, [op.input(x)], produces or op.output(0), params, buffers)],
                  covers=covers or [])


def _real(value) -> float:
    """An ONNX float attribute (float32) as the decimal it was written as: 0.2, not 0.2000000029."""
    return float(f"{float(value):.7g}")


def _pair(values: list[int]) -> int | list[int]:
    return values[0] if len(set(values)) == 1 else list(values)


# the ranks of the tensors archcalc represents, batch first: N x C x L, N x C x H x W and
# N x C x T x H x W maps; and N x F vectors
MAPS = (3, 4, 5)
ANY_RANK = (2, 3, 4, 5)
_RANK_TEXT = {2: "N x F", 3: "N x C x L", 4: "N x C x H x W", 5: "N x C x T x H x W"}


def _map_input(op, rank: int | tuple[int, ...] = MAPS, x: int = 0) -> tuple[int, ...]:
    """The activation input's ONNX shape, which must have the rank(s) archcalc represents here."""
    if not op.is_activation(x):
        op.fail(f"input {x + 1} must be computed by the net, not a constant")
    shape = op.shape(x)
    ranks = rank if isinstance(rank, tuple) else (rank,)
    if len(shape) not in ranks:
        op.fail(f"needs a {' or '.join(f'{r}-d' for r in ranks)} input "
                f"({' or '.join(_RANK_TEXT.get(r, '?') for r in ranks)}), got {len(shape)}-d {shape}")
    return shape


def _by_rank(shape: tuple[int, ...], types: tuple[str, str, str]) -> str:
    """The layer type for a map of this rank: ``types`` for 1-D, 2-D and 3-D maps."""
    return types[len(shape) - 3]


def _axis(op, value: int, rank: int) -> int:
    axis = value + rank if value < 0 else value
    if not 0 <= axis < rank:
        op.fail(f"axis {value} is out of range for a {rank}-d tensor")
    return axis


def _ints(op, index: int, attribute: str) -> list[int] | None:
    if op.has_input(index):
        return [int(v) for v in op.value(index).reshape(-1)]
    value = op.attr(attribute, None)
    return None if value is None else list(value)


def _text_attr(op, name: str, default: str) -> str:
    value = op.attr(name, default)
    return value.decode() if isinstance(value, bytes) else value


def _activations(op) -> list[int]:
    return [i for i in range(op.input_count()) if op.is_activation(i)]


def _single_output(op) -> None:
    if op.output_used(1):
        op.fail("its second output (indices or mask) is used; archcalc models only the first")
