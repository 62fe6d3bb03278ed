"""Spec data -> readable YAML: the top level and groups in block style, each layer on one line in
flow style (``- {name: conv1, type: conv2d, out_channels: 64, kernel_size: 7}``), as the bundled
specs are written. Every scalar goes through PyYAML's safe dumper, so a name that YAML would read
as something else (``yes``, ``1e3``, ``'a: b'``) is quoted; the written text loads back to the
same data through archcalc's safe loader."""

from __future__ import annotations

from typing import Any

import yaml

_INDENT = "  "


def scalar(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return yaml.safe_dump(value, default_flow_style=True).splitlines()[0]
    if isinstance(value, float):
        text = repr(value)
        return text if ("." in text or "e" in text or "inf" in text or "nan" in text) else text + ".0"
    text = yaml.safe_dump(str(value), default_flow_style=True, width=1 << 16, allow_unicode=False)
    return text.rstrip("\n").removesuffix("\n...").removesuffix("...").rstrip()


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def _layers(items: list, depth: int, out: list[str]) -> None:
    pad = _INDENT * depth
    for item in items:
        if "layers" in item:
            head = {k: v for k, v in item.items() if k != "layers"}
            keys = list(head.items())
            first, rest = keys[0], keys[1:]
            out.append(f"{pad}- {scalar(first[0])}: {flow(first[1])}")
            for key, value in rest:
                out.append(f"{pad}  {scalar(key)}: {flow(value)}")
            out.append(f"{pad}  layers:")
            _layers(item["layers"], depth + 2, out)
        else:
            out.append(f"{pad}- {flow(item)}")


def write_yaml(data: dict, header: str = "") -> str:
    """The spec data as YAML text; ``header`` becomes comment lines at the top."""
    out = [f"# {line}".rstrip() for line in header.splitlines()]
    for key, value in data.items():
        if key == "layers":
            out.append("layers:")
            _layers(value, 1, out)
        elif key == "blocks":
            out.append("blocks:")
            for name, block in value.items():
                out.append(f"{_INDENT}{scalar(name)}:")
                if block.get("args"):
                    out.append(f"{_INDENT * 2}args: {flow(block['args'])}")
                if block.get("output") is not None:
                    out.append(f"{_INDENT * 2}output: {scalar(block['output'])}")
                out.append(f"{_INDENT * 2}layers:")
                _layers(block["layers"], 3, out)
        else:
            out.append(f"{scalar(key)}: {flow(value)}")
    return "\n".join(out) + "\n"
