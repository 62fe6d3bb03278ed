"""The fast path of the spec loader: libyaml's C parser's events turned straight into
PosDict/PosList, without PyYAML's Python composer and constructor in between.

On a written-out 10,000-layer spec (520 kB) the composer and constructor took 0.6 s of a 0.7 s
load; the events alone take 0.07 s. The fast path takes the common shape of a spec (plain and
quoted scalars, mappings, sequences, anchors and aliases) and bounds depth and expanded size as
the composing loader does. Anything else (an explicit tag, a merge key, a collection as a key)
and every error are left to the composing loader (archcalc.spec.loader), which then reads the
file again: its messages and the corner cases of YAML stay in one place.
"""

from __future__ import annotations

from typing import Any

import yaml

from .nodes import MAX_DEPTH, MAX_EXPANDED_NODES, PosDict, PosList

_STR = "tag:yaml.org,2002:str"
# Scalar tags whose constructed values are plain immutable data (memoised per distinct text).
_PLAIN_TAGS = {_STR, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
               "tag:yaml.org,2002:null"}
_KEY_TYPES = (str, int, float, bool)


class Unsupported(Exception):
    """The fast path stops here; the composing loader reads the text instead."""


class _Builder:
    """Builds the document from the event stream, one event at a time."""

    def __init__(self, loader) -> None:
        self.loader = loader  # a libyaml-backed loader with the spec's constructors
        self.tags: dict = {}
        self.values: dict = {}
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, expanded size)
        self.depth = 0

    def scalar(self, event) -> tuple[Any, int]:
        if event.tag is not None:
            raise Unsupported("an explicit tag")
        if not event.implicit[0]:  # quoted
            return event.value, 1
        tag = self.tags.get(event.value)
        if tag is None:
            tag = self.tags[event.value] = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag not in _PLAIN_TAGS:
            raise Unsupported(f"the tag {tag}")
        if tag == _STR:
            return event.value, 1
        value_key = (tag, event.value)
        if value_key not in self.values:
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
            self.values[value_key] = self.loader.construct_object(node)  # the spec's bounds apply
        return self.values[value_key], 1

    def node(self, event) -> tuple[Any, int]:
        """The value (and its expanded size) that starts with ``event``."""
        kind = type(event)
        if kind is yaml.ScalarEvent:
            value = self.scalar(event)
        elif kind is yaml.AliasEvent:
            if event.anchor not in self.anchors:
                raise Unsupported("an undefined or recursive alias")
            return self.anchors[event.anchor]
        elif kind is yaml.MappingStartEvent:
            value = self.collection(event, self.mapping)
        elif kind is yaml.SequenceStartEvent:
            value = self.collection(event, self.sequence)
        else:
            raise Unsupported(f"the event {kind.__name__}")
        if event.anchor is not None:
            self.anchors[event.anchor] = value
        return value

    def collection(self, event, body) -> tuple[Any, int]:
        if event.tag is not None:
            raise Unsupported("an explicit tag")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Unsupported("nested too deeply")
        value, size = body(event)
        self.depth -= 1
        if size > MAX_EXPANDED_NODES:
            raise Unsupported("expands too far")
        value.line = event.start_mark.line + 1
        value.column = event.start_mark.column + 1
        return value, size

    def mapping(self, start) -> tuple[PosDict, int]:
        result = PosDict()
        result.key_positions = positions = {}
        size = 1
        get_event = self.loader.get_event
        while True:
            event = get_event()
            if type(event) is yaml.MappingEndEvent:
                return result, size
            if type(event) is not yaml.ScalarEvent or event.anchor is not None:
                raise Unsupported("a key that is not a plain scalar")
            key, _ = self.scalar(event)
            if not isinstance(key, _KEY_TYPES) or key == "<<":
                raise Unsupported("a key that is not a plain word")
            key = str(key)
            if key in result:
                raise Unsupported("a repeated key")
            result[key], child = self.node(get_event())
            positions[key] = (event.start_mark.line + 1, event.start_mark.column + 1)
            size += 1 + child

    def sequence(self, start) -> tuple[PosList, int]:
        result = PosList()
        size = 1
        get_event = self.loader.get_event
        while True:
            event = get_event()
            if type(event) is yaml.SequenceEndEvent:
                return result, size
            value, child = self.node(event)
            result.append(value)
            size += child


def fast_load(text: str, loader_class) -> Any:
    """The document of ``text`` via the event stream of ``loader_class`` (a libyaml-backed
    loader); raises Unsupported (or any YAML error) where the composing loader must decide."""
    loader = loader_class(text)
    try:
        builder = _Builder(loader)
        loader.get_event()  # stream start
        if type(loader.peek_event()) is yaml.StreamEndEvent:
            return None
        loader.get_event()  # document start
        value, _ = builder.node(loader.get_event())
        loader.get_event()  # document end
        if type(loader.get_event()) is not yaml.StreamEndEvent:
            raise Unsupported("more than one document")
        return value
    finally:
        loader.dispose()
