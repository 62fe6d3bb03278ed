"""``blocks_from``: the blocks of other spec files, so a family reuses another's blocks instead of
copying them (segmentation.yaml's backbones are resnet.yaml's stages and mobilenet_v3.yaml's
inverted residuals).

A name is a spec file's stem, never a path: ``resnet`` is ``resnet.yaml`` beside the spec when
the spec is a file there, else the bundled ``architectures/resnet.yaml``. Only the other file's
``blocks`` (and, in turn, its own ``blocks_from``) are read; its layers, args and variants are not.
A block name defined twice (in two imported files, or imported and local) is an error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import SpecError, brief, clip
from .nodes import PosDict

_STEM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
MAX_IMPORT_DEPTH = 8


def spec_file_for(stem: str, importer: str) -> Path | None:
    """The file a ``blocks_from`` name stands for: beside the importer, else bundled."""
    from .bundled import architectures_dir

    here = Path(importer)
    if here.is_file():
        beside = here.parent / f"{stem}.yaml"
        if beside.is_file():
            return beside
    bundled = architectures_dir() / f"{stem}.yaml"
    return bundled if bundled.is_file() else None


def imported_blocks(data: PosDict, file: str, check_blocks, chain: tuple[str, ...] = ()) -> tuple[dict, dict[str, str]]:
    """(block name -> definition, block name -> the file defining it) for every block the spec
    imports through ``blocks_from``; ``check_blocks(blocks, data, file)`` validates each file's."""
    from .loader import parse_yaml, read_text

    if "blocks_from" not in data:
        return {}, {}
    line = data.position_of("blocks_from")[0]
    stems = data["blocks_from"]
    stems = [stems] if isinstance(stems, str) else stems
    if not isinstance(stems, list) or not all(isinstance(s, str) and _STEM.fullmatch(s) for s in stems):
        raise SpecError(f"'blocks_from' must be spec file names without '.yaml' or a path (e.g. [resnet]), "
                        f"got {brief(data['blocks_from'])}", file=file, line=line)
    if len(chain) >= MAX_IMPORT_DEPTH:
        raise SpecError(f"'blocks_from' nests more than {MAX_IMPORT_DEPTH} files deep", file=file, line=line)
    blocks: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for stem in stems:
        path = spec_file_for(stem, file)
        if path is None:
            raise SpecError(f"blocks_from: no spec file '{clip(stem)}.yaml' beside this one or bundled", file=file, line=line)
        key = str(path.resolve())
        if key in chain:
            raise SpecError(f"blocks_from: '{clip(stem)}' imports this file back (a cycle)", file=file, line=line)
        other = parse_yaml(read_text(path), str(path))
        own = other.get("blocks") or {}
        check_blocks(own, other, str(path))
        inner, inner_origins = imported_blocks(other, str(path), check_blocks, (*chain, str(Path(file).resolve()), key))
        for name, definition in [*inner.items(), *own.items()]:
            where = inner_origins.get(name, str(path)) if name in inner else str(path)
            if name in blocks and origins[name] != where:
                raise SpecError(f"blocks_from: block '{clip(name)}' is defined in both {clip(origins[name])} and "
                                f"{clip(where)}", file=file, line=line)
            blocks[name], origins[name] = definition, where
    return blocks, origins
