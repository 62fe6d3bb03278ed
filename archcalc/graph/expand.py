"""Spec -> layer graph: expands blocks, repeats and conditions into nodes with hierarchical
names, resolves references between siblings, orders the nodes topologically.

Scoping: each list of layers is a scope. An entry reads the previous entry's output unless it
names its ``inputs``: sibling names, or ``input`` for the scope's own input. A block body sees
only its own arguments (and repeat variables), never the caller's names.
"""

from __future__ import annotations

from collections import ChainMap
from itertools import chain, islice
from typing import Any, Iterator, Mapping

from ..errors import LOCATION_LIMIT, SpecError, brief, clip, near_miss
from ..layers import ALIASES, REGISTRY, lookup
from ..layers.base import LayerType
from ..spec.loader import PosDict
from .model import Endpoint, Group, Node
from .values import Values, locate

MAX_NODES = 100_000
MAX_NESTING = 64
RESERVED = {"type", "name", "inputs", "repeat", "repeat_var", "when", "layers", "output", "trainable", "functional", "comment",
            "shares"}


class Scope:
    def __init__(self, input_endpoint: Endpoint, prefix: str, trainable: bool = True, parent: "Scope | None" = None):
        self.input = input_endpoint
        self.prefix = prefix
        self.trainable = trainable  # the group's 'trainable': its entries' default
        self.names: dict[str, Endpoint] = {}
        self.pending: list[Endpoint] = []
        self.dropped: set[str] = set()  # names that stand for an entry 'when' left out (its input)
        self.children: dict[str, Scope] = {}  # a group's or block instance's own scope, by its name
        # the enclosing list, for a sequential group's references to names outside it (a block
        # body has none: it sees only its arguments)
        self.parent = parent


class Expander(Values):
    def __init__(self, file: str, blocks: dict[str, PosDict], block_files: dict[str, str] | None = None):
        super().__init__(file)
        self.blocks = blocks
        self.block_files = block_files or {}  # a block imported by blocks_from -> its file
        # while a block of another file expands: the call in this spec that it stands at, so
        # its nodes' lines (which analysis errors quote with this spec's file) are this file's
        self.call_site: PosDict | None = None
        self.optional: set[int] = set()  # the references of entries 'when' left out
        self.nodes: list[Node] = []
        self.groups: dict[str, Group] = {}
        self.stack: list[str] = []
        self.entries = 0

    # -- errors and limits -------------------------------------------------------------------
    def error(self, message: str, where: Any = None, layer: str | None = None, key: str | None = None) -> SpecError:
        return locate(SpecError(message), self.file, where, key, layer)

    def _count(self, where, layer):
        self.entries += 1
        if self.entries > MAX_NODES:
            raise self.error(
                f"the spec expands past {MAX_NODES:,} layers (check repeat counts and YAML aliases)", where, layer
            )

    # -- lists of entries ----------------------------------------------------------------------
    def expand(self, entries: Any, scope: Scope, env: Mapping, where_list: Any) -> Endpoint:
        if not isinstance(entries, list):
            raise self.error("'layers' must be a list of layers", where_list, scope.prefix or None)
        # each group or block instance adds one part to the path (names hold no dots); the bound
        # keeps the recursion of blocks of nested groups within Python's stack
        if scope.prefix.count(".") + 1 > MAX_NESTING:
            raise self.error(f"groups and blocks nest more than {MAX_NESTING} deep", where_list, scope.prefix or None)
        previous = scope.input
        index = 0
        for raw_entry in entries:
            entry = self._as_mapping(raw_entry, entries, scope)
            for local_env in self._instances(entry, env, scope):
                self._count(entry, scope.prefix or None)
                endpoint, name = self.entry(entry, scope, local_env, previous, index)
                if name is not None:
                    previous = endpoint
                    index += 1
        self._resolve_forward_references(scope)
        return previous

    def _as_mapping(self, entry: Any, entries: Any, scope: Scope) -> PosDict:
        """A bare type name (``- relu``) as the mapping it stands for."""
        if isinstance(entry, str):
            mapping = PosDict(type=entry)
            mapping.line = getattr(entries, "line", None)
            mapping.column = None
            mapping.key_positions = {}
            return mapping
        if not isinstance(entry, dict):
            raise self.error(f"a layer must be a mapping or a type name, got {brief(entry)}", entries, scope.prefix or None)
        return entry

    def _instances(self, entry: PosDict, env: Mapping, scope: Scope) -> Iterator[Mapping]:
        """The scopes the entry is expanded in: one, or one per repeat with its variable bound
        (a layer over ``env``, not a copy of it: copying thousands of names per copy is work
        the layer count does not see)."""
        if "repeat" not in entry:
            yield env
            return
        layer = scope.prefix or None
        count = self.value(entry["repeat"], env, where=entry, layer=layer, key="repeat")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise self.error(f"repeat must be a whole number >= 0, got {brief(count)}", entry, layer, "repeat")
        if count > MAX_NODES:
            raise self.error(f"repeat {count:,} exceeds the limit of {MAX_NODES:,} layers", entry, layer, "repeat")
        var = entry.get("repeat_var", "i")
        if not isinstance(var, str) or not var.isidentifier():
            raise self.error("repeat_var must be a plain name", entry, layer, "repeat_var")
        if "name" in entry and "{" not in str(entry["name"]) and count > 1:
            raise self.error(f"a repeated layer needs a name template like '{clip(str(entry['name']))}{{i}}', or no name",
                             entry, layer, "name")
        for copy in range(count):
            yield ChainMap({var: copy}, env)

    def _resolve_forward_references(self, scope: Scope) -> None:
        """Forward references are resolved once the scope knows all its names."""
        for pending in scope.pending:
            ref_name, where, layer, key = pending.lazy
            head = ref_name.split(".", 1)[0]
            if head not in scope.names and ref_name != "input" and scope.parent is not None:
                scope.parent.pending.append(pending)  # a sequential group's reference to a name outside it
                continue
            try:
                pending.target = self._reference_target(scope, ref_name, where, layer, key)
            except SpecError as exc:
                if id(pending) not in self.optional:
                    raise
                pending.error = exc
            pending.lazy = None

    def _reference_target(self, scope: Scope, ref_name: str, where, layer, key) -> Endpoint:
        if ref_name == "input":
            return scope.input
        if ref_name.split(".", 1)[0] in scope.names:
            return self._path_target(scope, ref_name, where, layer, key)
        near = near_miss(ref_name.split(".", 1)[0], chain(["input"], scope.names))
        hint = f"; did you mean '{clip(near[0])}'?" if near else ""
        known = ", ".join(clip(name, 24) for name in islice(scope.names, 12))
        raise self.error(f"unknown layer '{clip(ref_name)}' in inputs{hint} (layers here: input, {known})", where, layer, key)

    def _path_target(self, scope: Scope, ref_name: str, where, layer, key) -> Endpoint:
        """A name, or a dotted path into a group or block instance (``backbone.layer3``: the
        layer ``layer3`` inside the sibling ``backbone``), read once every scope on it is complete."""
        parts = ref_name.split(".")
        endpoint, inner = scope.names[parts[0]], scope.children.get(parts[0])
        for depth, part in enumerate(parts[1:], 1):
            if inner is None or part not in inner.names:
                outer = ".".join(parts[:depth])
                problem = "is not a group of layers" if inner is None else f"has no layer '{clip(part)}'"
                raise self.error(f"'{clip(outer)}' {problem} (in inputs: '{clip(ref_name)}')", where, layer, key)
            endpoint, inner = inner.names[part], inner.children.get(part)
        return endpoint

    # -- one entry -----------------------------------------------------------------------------
    def entry(self, entry: PosDict, scope: Scope, env: Mapping, previous: Endpoint, index: int):
        """Expand one entry; returns (endpoint, name) or (None, None) when dropped by 'when'."""
        local = self._local_name(entry, env, scope, index)
        full = f"{scope.prefix}.{local}" if scope.prefix else local
        sources = self._sources(entry, env, scope, full, previous)
        if not self._kept(entry, env, scope, full, local, sources):
            return None, None
        if local in scope.names and local not in scope.dropped:
            raise self.error(f"two layers are named '{clip(local)}' here", entry, full, "name")
        scope.dropped.discard(local)  # one of several alternatives of a name, chosen by 'when
        if "shares" in entry:
            scope.names[local] = self._sharing_layer(entry, scope, env, full, sources)
            return scope.names[local], local
        type_name, trainable, functional = self._type_and_flags(entry, full, scope.trainable)
        if type_name in (None, "sequential") or type_name in self.blocks:
            if "functional" in entry:
                raise self.error("'functional' belongs to layers, not to groups or blocks", entry, full, "functional")
            endpoint, scope.children[local] = self._group(entry, type_name, scope, env, full, sources, trainable)
        else:
            endpoint = self._layer(entry, type_name, env, full, sources, (trainable, functional))
        scope.names[local] = endpoint
        return endpoint, local

    def _local_name(self, entry: PosDict, env: Mapping, scope: Scope, index: int) -> str:
        if "name" not in entry:
            return str(index)
        local = self.template(entry["name"], env, entry, scope.prefix or None, "name")
        if local == "input":
            raise self.error("a layer cannot be named 'input': in 'inputs' that name means the list's input",
                             entry, scope.prefix or None, "name")
        return local

    def _sources(self, entry: PosDict, env: Mapping, scope: Scope, full: str, previous: Endpoint) -> list[Endpoint]:
        """Where the entry reads from: its ``inputs`` (resolved when the scope is complete), or
        the previous entry."""
        if "inputs" not in entry:
            return [previous]
        refs = entry["inputs"]
        if isinstance(refs, (str, int)):
            refs = [refs]
        if not isinstance(refs, list) or not refs:
            raise self.error("'inputs' must be a layer name or a list of names", entry, full, "inputs")
        sources = []
        for ref in refs:
            ref_name = self.template(ref, env, entry, full, "inputs", dotted=True)
            pending = Endpoint(lazy=(ref_name, entry, full, "inputs"))
            scope.pending.append(pending)
            sources.append(pending)
        return sources

    def _kept(self, entry: PosDict, env: Mapping, scope: Scope, full: str, local: str, sources: list[Endpoint]) -> bool:
        """Whether ``when`` keeps the entry; a named entry left out passes its input through, so
        references to it still work."""
        if "when" not in entry:
            return True
        keep = self.value(entry["when"], env, where=entry, layer=full, key="when")
        if not isinstance(keep, bool):
            raise self.error(f"'when' must be true or false, got {brief(keep)}", entry, full, "when")
        if not keep:  # its references need to resolve only if a layer reads through its name
            self.optional.update(id(source) for source in sources)
        if not keep and "name" in entry and len(sources) == 1 and local not in scope.names:
            scope.names[local] = Endpoint(target=sources[0])
            scope.dropped.add(local)
        return keep

    def _type_and_flags(self, entry: PosDict, full: str, inherited: bool) -> tuple[str | None, bool, bool | str]:
        """The entry's type and its two flags. trainable: its own 'trainable', else its group's
        (so 'trainable: false' on a group or block call freezes what it holds, and an inner
        'trainable: true' unfreezes that entry, as requires_grad_(True) after the group's
        requires_grad_(False)); functional: the reference code calls the layer as a function,
        so module-hook tools never see it ('tensor_method': as a Tensor method, x.mean(...),
        which no tool patches either)."""
        type_name = entry.get("type")
        if type_name is None and "layers" not in entry:
            raise self.error("layer has no 'type'", entry, full)
        if type_name is not None and not isinstance(type_name, str):
            raise self.error(f"'type' must be a name, got {brief(type_name)}", entry, full, "type")
        trainable = entry.get("trainable", inherited)
        if not isinstance(trainable, bool):
            raise self.error("'trainable' must be true or false", entry, full, "trainable")
        functional = entry.get("functional", False)
        if not isinstance(functional, bool) and functional != "tensor_method":
            raise self.error("'functional' must be true, false or tensor_method", entry, full, "functional")
        return type_name, trainable, functional

    # -- groups and blocks ---------------------------------------------------------------------
    def _group(self, entry: PosDict, type_name: str | None, scope: Scope, env: Mapping, full: str,
               sources: list[Endpoint], trainable: bool) -> tuple[Endpoint, Scope]:
        """A sequential group or a block instance: a scope of its own, standing for its output."""
        if len(sources) != 1:
            raise self.error("a group of layers takes exactly one input", entry, full, "inputs")
        sequential = type_name in (None, "sequential")
        inner = Scope(Endpoint(target=sources[0]), full, trainable, parent=scope if sequential else None)
        if sequential:
            extra = sorted(set(entry) - RESERVED)
            if extra:
                raise self.error(f"unknown key '{clip(extra[0])}' on a sequential group", entry, full, extra[0])
            if "layers" not in entry:
                raise self.error("a sequential group needs 'layers'", entry, full)
            self.groups[full] = Group(full, "sequential", entry.line)
            output = self.expand(entry["layers"], inner, env, entry)
            output_name = entry.get("output")
        else:
            if "layers" in entry:
                raise self.error(f"'{clip(type_name)}' is a block; it takes arguments, not 'layers'", entry, full, "layers")
            output, output_name = self.block(type_name, entry, inner, env, full)
        if output_name is not None:
            if not isinstance(output_name, str) or output_name not in inner.names:
                group = clip(full, LOCATION_LIMIT, keep_end=True)
                raise self.error(f"output '{clip(str(output_name))}' is not a layer of '{group}'", entry, full, "output")
            output = inner.names[output_name]
        return Endpoint(target=output), inner

    def block(self, type_name: str, entry: PosDict, inner: Scope, env: Mapping, full: str):
        definition = self.blocks[type_name]
        if type_name in self.stack:
            cycle = " -> ".join(self.stack[self.stack.index(type_name):] + [type_name])
            raise self.error(f"block '{clip(type_name)}' uses itself ({clip(cycle, 200)})", entry, full, "type")
        caller = self.file, self.call_site
        self.groups[full] = Group(full, type_name, (self.call_site or entry).line)
        self.stack.append(type_name)
        try:
            block_env = self._block_arguments(type_name, definition, entry, env, full)
            output = self._block_body(type_name, definition, entry, inner, block_env, caller[0])
        finally:
            self.stack.pop()
            self.file, self.call_site = caller
        return output, definition.get("output")

    def _block_body(self, type_name: str, definition: PosDict, entry: PosDict, inner: Scope, block_env: dict,
                    caller_file: str):
        """The body's layers; an imported block's mistakes are located in its own file."""
        origin = self.block_files.get(type_name)
        if origin is not None and origin != caller_file:
            if self.call_site is None:
                self.call_site = entry
            self.file = origin
        return self.expand(definition["layers"], inner, block_env, definition)

    def _block_arguments(self, type_name: str, definition: PosDict, entry: PosDict, env: Mapping, full: str) -> dict:
        """The block body's names: the caller's arguments, evaluated in the caller's scope, then
        the defaults of the others, evaluated among the arguments."""
        declared = definition.get("args") or {}
        if isinstance(declared, list):
            if not all(isinstance(name, str) for name in declared):
                raise self.error(f"the args of block '{clip(type_name)}' must be names, got {brief(declared)}", definition, full, "args")
            declared = dict.fromkeys(declared)
        block_env = {}
        for key, value in entry.items():
            if key in RESERVED:
                continue
            if key not in declared:
                near = near_miss(key, declared)
                hint = f"; did you mean '{clip(near[0])}'?" if near else ""
                listed = clip(", ".join(str(name) for name in list(declared)[:20]), 200) or "none"
                raise self.error(f"unknown argument '{clip(key)}' for block '{clip(type_name)}'{hint} (arguments: {listed})",
                                 entry, full, key)
            block_env[key] = self.value(value, env, where=entry, layer=full, key=key)
        missing = next((name for name, default in declared.items() if default is None and name not in block_env), None)
        if missing is not None:
            raise self.error(f"block '{clip(type_name)}' needs argument '{clip(str(missing))}'", entry, full)
        origin = self.block_files.get(type_name)
        if origin is not None:  # the defaults are written in the block's own file
            self.file = origin
        for name, default in declared.items():
            if name not in block_env:
                block_env[name] = self.value(default, block_env, where=definition, layer=full, key="args")
        return block_env

    # -- layers --------------------------------------------------------------------------------
    def _layer(self, entry: PosDict, type_name: str, env: Mapping, full: str, sources: list[Endpoint],
               flags: tuple[bool, bool]) -> Endpoint:
        """One layer node; ``flags`` is (trainable, functional)."""
        layer = lookup(type_name)
        if layer is None:
            choices = list(REGISTRY) + list(self.blocks) + list(ALIASES)
            near = near_miss(type_name, choices)
            hint = f"; did you mean '{clip(near[0])}'?" if near else ""
            raise self.error(f"unknown layer type '{clip(type_name)}'{hint}", entry, full, "type")
        for key in ("layers", "output"):
            if key in entry:
                raise self.error(f"'{key}' belongs to groups, not to a {layer.name} layer", entry, full, key)
        args = self._layer_arguments(layer, entry, env, full)
        if layer.arity == 1 and len(sources) != 1:
            raise self.error(f"{layer.name} takes one input, got {len(sources)}", entry, full, "inputs")
        if layer.arity == "many" and len(sources) < 2:
            raise self.error(f"{layer.name} joins two or more inputs: list them with inputs: [a, b]", entry, full)
        if len(self.nodes) >= MAX_NODES:
            raise self.error(f"the spec expands past {MAX_NODES:,} layers", entry, full)
        trainable, functional = flags
        at = self.call_site or entry
        node = Node(full, layer, args, at.line, at.column, trainable, sources, functional=functional)
        self.nodes.append(node)
        return Endpoint(node=node)

    def _sharing_layer(self, entry: PosDict, scope: Scope, env: Mapping, full: str, sources: list[Endpoint]) -> Endpoint:
        """A layer that reuses another's module (``shares: conv1``): its type and arguments are
        the other's (any it states must agree: graph.sharing checks them once resolved)."""
        for key in ("layers", "output", "trainable"):
            if key in entry:
                raise self.error(f"'{key}' does not go with 'shares' (a shared layer is the other's module)", entry, full, key)
        type_name, functional = entry.get("type"), entry.get("functional", False)
        if type_name is not None and not isinstance(type_name, str):
            raise self.error(f"'type' must be a name, got {brief(type_name)}", entry, full, "type")
        if not isinstance(functional, bool):
            raise self.error("'functional' must be true or false", entry, full, "functional")
        ref = Endpoint(lazy=(self.template(entry["shares"], env, entry, full, "shares", dotted=True), entry, full, "shares"))
        scope.pending.append(ref)
        stated = {key: self.value(value, env, (), entry, full, key) for key, value in entry.items() if key not in RESERVED}
        at = self.call_site or entry
        node = Node(full, None, {}, at.line, at.column, True, sources, functional=functional,
                    sharing=(ref, type_name or None, stated, entry))
        self.nodes.append(node)
        return Endpoint(node=node)

    def _layer_arguments(self, layer: type[LayerType], entry: PosDict, env: Mapping, full: str) -> dict:
        raw = {}
        known = layer.arg_names()
        for key, value in entry.items():
            if key in RESERVED:
                continue
            options = known[key].string_options if key in known else ()
            raw[key] = self.value(value, env, options, entry, full, key)
        try:
            return layer.validate(raw)
        except SpecError as exc:
            bad = exc.argument if exc.argument in raw else next((k for k in raw if f"'{k}'" in exc.message), None)
            line, column = entry.position_of(bad) if bad else (entry.line, entry.column)
            raise exc.located(file=self.file, line=line, column=column, layer=full)
