"""Receptive-field rules: what a layer states about how its output's field follows from its
inputs' fields. A typed value per layer application (archcalc.analysis.walk composes them):

- Windows: one Window per spatial axis (H, W): how each output position reads the input;
- IDENTITY: the field is the input's (element-wise layers);
- WHOLE: every output sees the whole input (global pooling, a flat vector);
- Merge: the union of the inputs' fields (joins); ``broadcast`` marks inputs repeated along a
  spatial axis (a Cx1x1 gate times a CxHxW map), whose field is the same at every position;
- Unknown: not expressible as a uniform field, with the reason shown to the user.
"""

from __future__ import annotations

from dataclasses import dataclass

from .windows import Window


class FieldRule:
    """Base of the receptive-field rules."""


@dataclass(frozen=True)
class Windows(FieldRule):
    axes: tuple[Window, ...]


@dataclass(frozen=True)
class Identity(FieldRule):
    pass


@dataclass(frozen=True)
class Whole(FieldRule):
    pass


@dataclass(frozen=True)
class Merge(FieldRule):
    broadcast: tuple[bool, ...] = ()  # per input: repeated along a spatial axis


@dataclass(frozen=True)
class Unknown(FieldRule):
    reason: str


IDENTITY = Identity()
WHOLE = Whole()
MERGE = Merge()
