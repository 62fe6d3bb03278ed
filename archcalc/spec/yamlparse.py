"""PyYAML's side of the spec loader: the safe loader that keeps every mapping's source position,
and PyYAML's errors turned into SpecErrors. archcalc.spec.loader imports it only when a text has
to be parsed, so a bundled spec read from the parsed-spec cache (archcalc.spec.speccache) never
imports PyYAML (~10 ms of `archcalc params resnet152`).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer

from ..errors import SpecError, clip
from .fastload import fast_load
from .nodes import MAX_DEPTH, MAX_EXPANDED_NODES, MAX_LITERAL_INT, PosDict, PosList

_MAX_INT_CHARS = 64


class _PositionLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml's C parser where PyYAML has it: 7x faster on a ResNet spec; the
    same safe constructors either way) returning PosDict/PosList with 1-based line and column.

    Composition is PyYAML's Python composer rather than libyaml's C one (0.2 ms more on a ResNet
    spec) so that it can count depth and expanded size as it goes and stop early."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.anchors: dict = {}
        self.depth = 0
        self.expanded: dict[int, int] = {}  # id(node) -> nodes it stands for, aliases written out
        self.scalar_tags: dict = {}

    def resolve(self, kind, value, implicit):
        """The implicit tag of a plain scalar, memoised: a spec repeats the same few words
        ('conv2d', '3', 'true') thousands of times, and PyYAML's regex resolution was half the
        load time of a 10,000-layer spec."""
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self.scalar_tags.get(key)
        if tag is None:
            tag = self.scalar_tags[key] = super().resolve(kind, value, implicit)
        return tag

    get_single_node = Composer.get_single_node
    compose_document = Composer.compose_document
    check_node = Composer.check_node
    get_node = Composer.get_node
    compose_scalar_node = Composer.compose_scalar_node

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = Composer.compose_node(self, parent, index)
            if id(node) not in self.expanded:
                raise SpecError("a YAML alias refers to a collection it is part of (a recursive structure)",
                                line=event.start_mark.line + 1, column=event.start_mark.column + 1)
            return node
        node = Composer.compose_node(self, parent, index)
        if isinstance(node, yaml.ScalarNode):
            self.expanded[id(node)] = 1
        return node

    def compose_sequence_node(self, anchor):
        return self._collection(Composer.compose_sequence_node, anchor, lambda node: node.value)

    def compose_mapping_node(self, anchor):
        return self._collection(Composer.compose_mapping_node, anchor,
                                lambda node: [part for pair in node.value for part in pair])

    def _collection(self, compose, anchor, children):
        mark = self.peek_event().start_mark
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SpecError(f"the YAML nests more than {MAX_DEPTH} levels deep",
                            line=mark.line + 1, column=mark.column + 1)
        node = compose(self, anchor)
        self.depth -= 1
        size = 1 + sum(self.expanded[id(child)] for child in children(node))
        if size > MAX_EXPANDED_NODES:
            raise SpecError(f"the YAML expands past {MAX_EXPANDED_NODES:,} values through its aliases "
                            "(anchors used many times over)", line=mark.line + 1, column=mark.column + 1)
        self.expanded[id(node)] = size
        return node


def _construct_mapping(loader: _PositionLoader, node: yaml.MappingNode) -> PosDict:
    loader.flatten_mapping(node)
    result = PosDict()
    result.line = node.start_mark.line + 1
    result.column = node.start_mark.column + 1
    result.key_positions = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise SpecError(
                "mapping keys must be plain words",
                line=key_node.start_mark.line + 1,
                column=key_node.start_mark.column + 1,
            )
        key = str(key)
        if key in result:
            raise SpecError(
                f"key '{clip(key)}' appears twice",
                line=key_node.start_mark.line + 1,
                column=key_node.start_mark.column + 1,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_positions[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
    return result


def _construct_sequence(loader: _PositionLoader, node: yaml.SequenceNode) -> PosList:
    result = PosList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.column = node.start_mark.column + 1
    return result


def _construct_int(loader: _PositionLoader, node: yaml.ScalarNode) -> int:
    text = node.value
    if len(text) > _MAX_INT_CHARS or abs(value := loader.construct_yaml_int(node)) > MAX_LITERAL_INT:
        raise SpecError(f"the integer {clip(text)} is too large (the limit is 2^62)",
                        line=node.start_mark.line + 1, column=node.start_mark.column + 1)
    return value


_PositionLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_PositionLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_PositionLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _load(text: str) -> Any:
    try:
        return fast_load(text, _PositionLoader)
    except Exception:  # noqa: BLE001  the composing loader decides every case the fast path leaves
        return compose_load(text)


def compose_load(text: str) -> Any:
    """The document through PyYAML's composer (the reference the fast path is tested against)."""
    loader = _PositionLoader(text)  # a SafeLoader subclass: no tags that build Python objects
    try:
        node = loader.get_single_node()
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def load_value(text: str) -> Any:
    """The YAML value of ``text``; every YAML error a SpecError with its line (no file yet)."""
    try:
        return _load(text)
    except SpecError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(
            f"invalid YAML: {problem}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply") from None
