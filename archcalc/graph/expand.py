"""Spec -> layer graph: expands blocks, repeats and conditions into nodes with hierarchical
names, resolves references between siblings, orders the nodes topologically.

Scoping: each list of layers is a scope. An entry reads the previous entry's output unless it
names its ``inputs``: sibling names, or ``input`` for the scope's own input. A block body sees
only its own arguments (and repeat variables), never the caller's names.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from ..errors import SpecError
from ..layers import ALIASES, REGISTRY, lookup
from ..spec.expr import evaluate
from ..spec.loader import PosDict
from .model import Endpoint, Group, Node

MAX_NODES = 100_000
MAX_NESTING = 64
RESERVED = {"type", "name", "inputs", "repeat", "repeat_var", "when", "layers", "output", "trainable", "comment"}
_TEMPLATE = re.compile(r"\{([^{}]+)\}")


class Scope:
    def __init__(self, input_endpoint: Endpoint, prefix: str):
        self.input = input_endpoint
        self.prefix = prefix
        self.names: dict[str, Endpoint] = {}
        self.pending: list[Endpoint] = []


class Expander:
    def __init__(self, file: str, blocks: dict[str, PosDict]):
        self.file = file
        self.blocks = blocks
        self.nodes: list[Node] = []
        self.groups: dict[str, Group] = {}
        self.stack: list[str] = []
        self.work = 0

    # -- errors --------------------------------------------------------------------------
    def error(self, message: str, where: Any = None, layer: str | None = None, key: str | None = None) -> SpecError:
        line = column = None
        if isinstance(where, PosDict) and key is not None:
            line, column = where.position_of(key)
        elif where is not None:
            line, column = getattr(where, "line", None), getattr(where, "column", None)
        return SpecError(message, file=self.file, line=line, column=column, layer=layer)

    def _count(self, where, layer):
        self.work += 1
        if self.work > MAX_NODES:
            raise self.error(
                f"the spec expands past {MAX_NODES:,} layers (check repeat counts and YAML aliases)", where, layer
            )

    # -- values ----------------------------------------------------------------------------
    def value(self, raw: Any, env: dict, options: tuple = (), where=None, layer=None, key=None) -> Any:
        """Evaluate an argument: strings are expressions unless they are one of the options."""
        try:
            if isinstance(raw, str):
                if raw in options:
                    return raw
                return evaluate(raw, env)
            if isinstance(raw, list):
                result = []
                for item in raw:
                    if isinstance(item, (list, dict)):
                        raise SpecError("nested lists are not allowed in arguments")
                    result.append(self.value(item, env, options, where, layer, key))
                return result
            if isinstance(raw, dict):
                raise SpecError("a mapping is not a valid argument value")
            return raw
        except SpecError as exc:
            if key and not exc.message.startswith("argument"):
                exc.message = f"argument '{key}': {exc.message}"
            raise exc.located(file=self.file, line=where.position_of(key)[0] if isinstance(where, PosDict) and key else None,
                              column=where.position_of(key)[1] if isinstance(where, PosDict) and key else None,
                              layer=layer)

    def template(self, text: Any, env: dict, where, layer, key) -> str:
        if not isinstance(text, (str, int)) or isinstance(text, bool):
            raise self.error(f"'{key}' must be a name, got {text!r}", where, layer, key)
        text = str(text)

        def substitute(match):
            return str(self.value(match.group(1), env, where=where, layer=layer, key=key))

        result = _TEMPLATE.sub(substitute, text)
        if not result or not re.fullmatch(r"[A-Za-z0-9_]+", result):
            raise self.error(f"layer name '{result}' may only hold letters, digits and _", where, layer, key)
        return result

    # -- expansion -------------------------------------------------------------------------
    def expand(self, entries: Any, scope: Scope, env: dict, where_list: Any) -> Endpoint:
        if not isinstance(entries, list):
            raise self.error("'layers' must be a list of layers", where_list, scope.prefix or None)
        if len(self.stack) > MAX_NESTING:
            raise self.error(f"blocks nest more than {MAX_NESTING} deep", where_list, scope.prefix or None)
        previous = scope.input
        index = 0
        for entry in entries:
            if isinstance(entry, str):
                entry_dict = PosDict(type=entry)
                entry_dict.line = getattr(entries, "line", None)
                entry_dict.column = None
                entry_dict.key_positions = {}
                entry = entry_dict
            if not isinstance(entry, dict):
                raise self.error(f"a layer must be a mapping or a type name, got {entry!r}", entries, scope.prefix or None)
            instances = [env]
            if "repeat" in entry:
                count = self.value(entry["repeat"], env, where=entry, layer=scope.prefix or None, key="repeat")
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise self.error(f"repeat must be a whole number >= 0, got {count!r}", entry, scope.prefix or None, "repeat")
                if count > MAX_NODES:
                    raise self.error(f"repeat {count:,} exceeds the limit of {MAX_NODES:,} layers", entry, scope.prefix or None, "repeat")
                var = entry.get("repeat_var", "i")
                if not isinstance(var, str) or not var.isidentifier():
                    raise self.error("repeat_var must be a plain name", entry, scope.prefix or None, "repeat_var")
                instances = [{**env, var: k} for k in range(count)]
                if "name" in entry and "{" not in str(entry["name"]) and count > 1:
                    raise self.error(
                        f"a repeated layer needs a name template like '{entry['name']}{{i}}', or no name",
                        entry, scope.prefix or None, "name",
                    )
            for local_env in instances:
                self._count(entry, scope.prefix or None)
                endpoint, name = self.entry(entry, scope, local_env, previous, index)
                if name is None:
                    continue
                previous = endpoint
                index += 1
        # forward references are resolved once the scope knows all its names
        for pending in scope.pending:
            ref_name, where, layer, key = pending.lazy
            if ref_name == "input":
                pending.target = scope.input
            elif ref_name in scope.names:
                pending.target = scope.names[ref_name]
            else:
                near = difflib.get_close_matches(ref_name, list(scope.names) + ["input"], n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                known = ", ".join(list(scope.names)[:12])
                raise self.error(f"unknown layer '{ref_name}' in inputs{hint} (layers here: input, {known})", where, layer, key)
            pending.lazy = None
        return previous

    def entry(self, entry: PosDict, scope: Scope, env: dict, previous: Endpoint, index: int):
        """Expand one entry; returns (endpoint, name) or (None, None) when dropped by 'when'."""
        if "name" in entry:
            local = self.template(entry["name"], env, entry, scope.prefix or None, "name")
        else:
            local = str(index)
        full = f"{scope.prefix}.{local}" if scope.prefix else local
        # inputs
        if "inputs" in entry:
            refs = entry["inputs"]
            if isinstance(refs, (str, int)):
                refs = [refs]
            if not isinstance(refs, list) or not refs:
                raise self.error("'inputs' must be a layer name or a list of names", entry, full, "inputs")
            sources = []
            for ref in refs:
                ref_name = self.template(ref, env, entry, full, "inputs")
                pending = Endpoint(lazy=(ref_name, entry, full, "inputs"))
                scope.pending.append(pending)
                sources.append(pending)
        else:
            sources = [previous]
        if "when" in entry:
            keep = self.value(entry["when"], env, where=entry, layer=full, key="when")
            if not isinstance(keep, bool):
                raise self.error(f"'when' must be true or false, got {keep!r}", entry, full, "when")
            if not keep:
                if "name" in entry and len(sources) == 1:
                    # a dropped layer passes its input through, so references to it still work
                    scope.names.setdefault(local, Endpoint(target=sources[0]))
                return None, None
        if local in scope.names:
            raise self.error(f"two layers are named '{local}' here", entry, full, "name")
        type_name = entry.get("type")
        if type_name is None and "layers" not in entry:
            raise self.error("layer has no 'type'", entry, full)
        if type_name is not None and not isinstance(type_name, str):
            raise self.error(f"'type' must be a name, got {type_name!r}", entry, full, "type")
        trainable = entry.get("trainable", True)
        if not isinstance(trainable, bool):
            raise self.error("'trainable' must be true or false", entry, full, "trainable")

        if type_name in (None, "sequential") or type_name in self.blocks:
            if len(sources) != 1:
                raise self.error("a group of layers takes exactly one input", entry, full, "inputs")
            group_input = Endpoint(target=sources[0])
            inner = Scope(group_input, full)
            if type_name in (None, "sequential"):
                extra = set(entry) - RESERVED
                if extra:
                    raise self.error(f"unknown key '{sorted(extra)[0]}' on a sequential group", entry, full, sorted(extra)[0])
                if "layers" not in entry:
                    raise self.error("a sequential group needs 'layers'", entry, full)
                self.groups[full] = Group(full, "sequential", entry.line)
                output = self.expand(entry["layers"], inner, env, entry)
                output_name = entry.get("output")
            else:
                if "layers" in entry:
                    raise self.error(f"'{type_name}' is a block; it takes arguments, not 'layers'", entry, full, "layers")
                output, output_name = self.block(type_name, entry, inner, env, full)
            if output_name is not None:
                if output_name not in inner.names:
                    raise self.error(f"output '{output_name}' is not a layer of '{full}'", entry, full, "output")
                output = inner.names[output_name]
            endpoint = Endpoint(target=output)
        else:
            layer = lookup(type_name)
            if layer is None:
                choices = list(REGISTRY) + list(self.blocks)
                near = difflib.get_close_matches(type_name, choices + list(ALIASES), n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                raise self.error(f"unknown layer type '{type_name}'{hint}", entry, full, "type")
            for key in ("layers", "output"):
                if key in entry:
                    raise self.error(f"'{key}' belongs to groups, not to a {layer.name} layer", entry, full, key)
            raw = {}
            known = layer.arg_names()
            for key, value in entry.items():
                if key in RESERVED:
                    continue
                options = known[key].string_options if key in known else ()
                raw[key] = self.value(value, env, options, entry, full, key)
            try:
                args = layer.validate(raw)
            except SpecError as exc:
                bad = next((k for k in raw if f"'{k}'" in exc.message), None)
                line, column = entry.position_of(bad) if bad else (entry.line, entry.column)
                raise exc.located(file=self.file, line=line, column=column, layer=full)
            if layer.arity == 1 and len(sources) != 1:
                raise self.error(f"{layer.name} takes one input, got {len(sources)}", entry, full, "inputs")
            if layer.arity == "many" and len(sources) < 2:
                raise self.error(f"{layer.name} joins two or more inputs: list them with inputs: [a, b]", entry, full)
            node = Node(full, layer, args, entry.line, entry.column, trainable, sources)
            if len(self.nodes) >= MAX_NODES:
                raise self.error(f"the spec expands past {MAX_NODES:,} layers", entry, full)
            self.nodes.append(node)
            endpoint = Endpoint(node=node)
        scope.names[local] = endpoint
        return endpoint, local

    def block(self, type_name: str, entry: PosDict, inner: Scope, env: dict, full: str):
        definition = self.blocks[type_name]
        if type_name in self.stack:
            chain = " -> ".join(self.stack[self.stack.index(type_name):] + [type_name])
            raise self.error(f"block '{type_name}' uses itself ({chain})", entry, full, "type")
        declared = definition.get("args") or {}
        if isinstance(declared, list):
            declared = {name: None for name in declared}
        block_env = {}
        for key, value in entry.items():
            if key in RESERVED:
                continue
            if key not in declared:
                near = difflib.get_close_matches(key, list(declared), n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                listed = ", ".join(declared) or "none"
                raise self.error(f"unknown argument '{key}' for block '{type_name}'{hint} (arguments: {listed})", entry, full, key)
            block_env[key] = self.value(value, env, where=entry, layer=full, key=key)
        for name, default in declared.items():
            if name not in block_env:
                if default is None:
                    raise self.error(f"block '{type_name}' needs argument '{name}'", entry, full)
                block_env[name] = self.value(default, block_env, where=definition, layer=full, key="args")
        self.groups[full] = Group(full, type_name, entry.line)
        self.stack.append(type_name)
        try:
            output = self.expand(definition["layers"], inner, block_env, definition)
        finally:
            self.stack.pop()
        return output, definition.get("output")
