"""Shapes as a spec or the command line writes them: CxHxW, [C, H, W], {channels, height, width}.

The number of sizes says what the tensor is: 1 a flat vector of features, 2 a CxL sequence (one
spatial axis: conv1d), 3 a CxHxW map, 4 a CxTxHxW volume or clip (conv3d). A 2-number input is
always CxL: archcalc has no channel-less HxW tensor (an image has a channel axis, even of size 1)."""

from __future__ import annotations

import re
from typing import Any

from ..errors import SpecError, UsageError, brief, clip, near_miss

MAX_DIM = 1 << 20  # a side or channel count beyond a million is a typo, not a net


# the keys of a shape written as a mapping, and the sizes each form needs, in order
_KEYS = {"channels": "c", "c": "c", "height": "h", "h": "h", "width": "w", "w": "w", "features": "f",
         "length": "l", "l": "l", "depth": "t", "time": "t", "t": "t"}
_FORMS = (("c", "l"), ("c", "t", "h", "w"), ("c", "h", "w"))


def parse_shape(value: Any, what: str = "input") -> tuple[int, ...]:
    """CxHxW as '3x224x224', [3, 224, 224], {channels, height, width}, or a flat [features];
    CxL ('64x1000', {channels, length}) and CxTxHxW ('3x16x112x112', {channels, time, height, width})."""
    if isinstance(value, dict):
        keys = _KEYS
        got = {}
        for key, v in value.items():
            if key not in keys:
                near = near_miss(key, keys)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                raise SpecError(f"unknown {what} key '{clip(key)}'{hint} (use channels, height, width)")
            got[keys[key]] = v
        if "f" in got:
            dims = [got["f"]]
        elif "l" in got or "t" in got:
            form = _FORMS[0] if "l" in got else _FORMS[1]
            extra = sorted(set(got) - set(form))
            if extra or len(got) != len(form):
                raise SpecError(f"{what} needs channels and length (CxL) or channels, time, height and width (CxTxHxW)")
            dims = [got[k] for k in form]
        else:
            missing = [k for k, full in (("c", "channels"), ("h", "height"), ("w", "width")) if k not in got]
            if missing:
                raise SpecError(f"{what} needs channels, height and width")
            dims = [got["c"], got["h"], got["w"]]
    elif isinstance(value, str):
        parts = re.split(r"\s*[x×,*]\s*", value.strip().lower())
        try:
            dims = [int(p) for p in parts]
        except ValueError:
            raise SpecError(f"{what} '{clip(value)}' is not of the form CxHxW, e.g. 3x224x224") from None
    elif isinstance(value, list):
        dims = value
    elif isinstance(value, int) and not isinstance(value, bool):
        dims = [value]
    else:
        raise SpecError(f"{what} must be CxHxW, e.g. 3x224x224 or [3, 224, 224]")
    if len(dims) not in (1, 2, 3, 4):
        raise SpecError(f"{what} must have 3 dimensions (CxHxW), 2 (CxL), 4 (CxTxHxW) or 1 (features), "
                        f"got {len(dims):,}")
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise SpecError(f"{what} sizes must be positive integers, got {brief(d)}")
        if d > MAX_DIM:
            raise SpecError(f"{what} size {d:,} exceeds the limit of {MAX_DIM:,}")
    return tuple(dims)


def parse_cli_shape(text: str) -> tuple[int, ...]:
    try:
        return parse_shape(text, "--input")
    except SpecError as exc:
        raise UsageError(exc.message) from None
