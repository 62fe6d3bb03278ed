"""Net arguments chosen from outside the layers: a named variant of the spec (``variants:``, so a
family such as ResNet-18 ... 152 is one file) and ``--set NAME=VALUE`` from the command line (or
``args=`` in the Python API). Both only replace the values of arguments the spec declares in its
``args``; the values are evaluated later, in the graph's expansion, by the bounded evaluator."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import SpecError, UsageError, brief, clip, near_miss
from .loader import PosDict, parse_yaml_value

VARIANT_KEYS = ("args", "description", "input", "comment")
# a variant's name is used like a bundled net's: letters, digits, _ and - (not first)
VARIANT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
MAX_SETTING_CHARS = 1_000


@dataclass(frozen=True)
class Override:
    """One net argument's replacement value: raw (an expression, evaluated in the net's
    arguments), where it was written (a PosDict and its key), and how messages name it."""

    raw: Any
    where: Any
    label: str


def check_variants(data: PosDict, file: str) -> dict:
    """The validated ``variants:`` mapping (name -> its mapping), empty when there is none."""
    variants = data.get("variants")
    if variants is None:
        return {}
    line = data.position_of("variants")[0]
    if not isinstance(variants, dict) or not variants:
        raise SpecError("'variants' must map variant names to their args, e.g. {small: {args: {width: 32}}}",
                        file=file, line=line)
    declared = data.get("args") or {}
    for name, variant in variants.items():
        where = variants.position_of(name) if isinstance(variants, PosDict) else (line, None)
        if not isinstance(name, str) or not VARIANT_NAME.fullmatch(name) or len(name) > 200:
            raise SpecError(f"variant name '{clip(str(name))}' may only hold letters, digits, _ and - (not first)",
                            file=file, line=where[0], column=where[1])
        if not isinstance(variant, dict):
            raise SpecError(f"variant '{clip(name)}' must be a mapping with 'args' (and 'description', 'input')",
                            file=file, line=where[0], column=where[1])
        for key in variant:
            if key not in VARIANT_KEYS:
                near = near_miss(key, VARIANT_KEYS)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                line_k, column_k = variant.position_of(key)
                raise SpecError(f"unknown key '{clip(str(key))}' in variant '{clip(name)}'{hint} "
                                f"(keys: {', '.join(VARIANT_KEYS)})", file=file, line=line_k, column=column_k)
        args = variant.get("args") or {}
        if not isinstance(args, dict):
            raise SpecError(f"'args' of variant '{clip(name)}' must be a mapping of names to values",
                            file=file, line=variant.position_of("args")[0])
        for key in args:
            if key not in declared:
                raise _unknown(key, declared, file, args.position_of(key), f"variant '{clip(name)}'")
    return variants


def variant_overrides(variants: Mapping, variant: str, file: str) -> tuple[PosDict, dict[str, Override]]:
    """The chosen variant's mapping and its argument overrides; an unknown variant names them."""
    if variant not in variants:
        known = ", ".join(clip(str(name), 40) for name in list(variants)[:20]) or "none: the spec declares no 'variants'"
        near = near_miss(variant, variants)
        hint = f"; did you mean '{clip(near[0])}'?" if near else ""
        raise SpecError(f"no variant named '{clip(variant)}'{hint} (variants: {known})", file=file)
    chosen = variants[variant]
    args = chosen.get("args") or {}
    return chosen, {key: Override(value, args, key) for key, value in args.items()}


def setting_overrides(settings: Mapping[str, Any], declared: Mapping, file: str) -> dict[str, Override]:
    """``--set``/``args=`` values, each for an argument the spec declares."""
    result = {}
    for key, value in settings.items():
        if key not in declared:
            raise _unknown(key, declared, file, (None, None), "--set")
        result[key] = Override(value, None, f"--set {key}")
    return result


def _unknown(key: Any, declared: Mapping, file: str, where: tuple, origin: str) -> SpecError:
    near = near_miss(str(key), declared)
    hint = f"; did you mean '{clip(near[0])}'?" if near else ""
    listed = clip(", ".join(str(name) for name in list(declared)[:30]), 300) or "none: the spec has no 'args'"
    return SpecError(f"{origin}: '{clip(str(key))}' is not an argument of the net{hint} (arguments: {listed})",
                     file=file, line=where[0], column=where[1])


def parse_setting(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` from the command line: VALUE is a YAML scalar or list (``10``, ``true``,
    ``[2, 2]``, ``width * 2`` stays text, an expression evaluated with the net's arguments)."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"--set takes NAME=VALUE (e.g. --set num_classes=10), got '{clip(text)}'")
    if len(value) > MAX_SETTING_CHARS:
        raise UsageError(f"--set {clip(name)}: the value is longer than {MAX_SETTING_CHARS:,} characters")
    if not value.strip():
        raise UsageError(f"--set {clip(name)}: no value after '='")
    try:
        parsed = parse_yaml_value(value, "--set")
    except SpecError as exc:
        raise UsageError(f"--set {clip(name)}: {exc.message}") from None
    if parsed is None:
        raise UsageError(f"--set {clip(name)}: null is not a valid argument value")
    if isinstance(parsed, dict):
        raise UsageError(f"--set {clip(name)}: a mapping is not a valid argument value, got {brief(parsed)}")
    return name, parsed.strip() if isinstance(parsed, str) else parsed


def parse_settings(texts: list[str] | None) -> dict[str, Any]:
    """Every ``--set`` in order; a name given twice takes the last value."""
    return dict(parse_setting(text) for text in texts or ())
