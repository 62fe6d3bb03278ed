"""Read a spec file safely and parse it with PyYAML's safe loader (archcalc.spec.yamlparse,
imported only when a text is parsed), keeping the source position of every mapping; a bundled
spec comes from the parsed-spec cache (archcalc.spec.speccache) when it holds that text.

Positions let every later error name the file, line and column it came from.
"""

from __future__ import annotations

from typing import Any

from ..errors import SpecError
from .files import MAX_FILE_BYTES, read_text  # noqa: F401  (re-exported)
from .nodes import MAX_DEPTH, MAX_EXPANDED_NODES, MAX_LITERAL_INT, PosDict, PosList  # noqa: F401  (re-exported)

def parse_yaml(text: str, file: str = "<spec>") -> Any:
    """Parse YAML text safely (no Python objects, no tags), with positions (a bundled spec's
    from the parsed-spec cache when it holds this text)."""
    from .speccache import cached_parse

    data = cached_parse(text, file, parse_yaml_value)
    if data is None:
        raise SpecError("spec is empty", file=file)
    if not isinstance(data, dict):
        raise SpecError(
            f"a spec must be a mapping with 'input' and 'layers', not a {type(data).__name__}",
            file=file,
            line=getattr(data, "line", 1),
        )
    return data


def parse_yaml_value(text: str, file: str = "<spec>") -> Any:
    """Any YAML value (a scalar, a list, a mapping, or None), parsed as safely and within the
    same bounds as a spec (a --set value)."""
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"spec text is longer than {MAX_FILE_BYTES:,} characters", file=file)
    from .yamlparse import load_value

    try:
        return load_value(text)
    except SpecError as exc:
        raise exc.located(file=file)
