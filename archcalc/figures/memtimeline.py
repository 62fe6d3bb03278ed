"""The tensors a forward pass or a training step holds, over time, as PyTorch allocates them.

Pure arithmetic over the Report and each layer type's MemoryRule (archcalc.layers.memrules):
every tensor is an interval of steps on one time axis, and the peak is the largest sum of the
intervals covering one step. The axis, for n layers in the spec's topological order:

- forward: step i runs layer i (0 .. n-1); step n takes the loss (output.sum());
- backward: two steps per layer, in reverse (autograd runs the nodes in reverse creation order,
  which for the twin is exactly the reverse of the forward): step 3n - 1 - 2i runs layer i's
  backward, with its output's gradient and what it keeps; step 3n - 2i is after it, when those
  are freed and its gradients are summed into the ones its inputs already have;
- step 3n + 1 is the optimizer step (archcalc.figures.optimizers).

A tensor is a storage: a view (flatten), the input itself (identity, dropout at inference) or an
in-place result (--inplace) shares its producer's storage and only extends its life. A storage
lives from its producer's step until its last reader has run: a later layer in the forward, or
the backward of a layer that keeps it (``saves_input`` / ``saves_output``). Gradients of
activations are storages too: created by a consumer's backward (or shared with its output's
gradient where ``grad_view``), summed where several consumers contribute, dropped once the
producer's backward has run. One sweep over a difference array: O(layers).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import accumulate
from math import prod

from ..analysis import DTYPE_BYTES, Report
from ..analysis.backward import ancestors_of_output
from ..layers.memrules import ACTIVATION, FLOAT32, INT64, MASK, Kept, MemoryRule

# the parts of memory the timeline tells apart (the training breakdown's lines)
ACTIVATIONS, ACT_GRADS, PARAM_GRADS, SCRATCH = "activations", "activation gradients", "gradients", "temporaries"
PARTS = (ACTIVATIONS, ACT_GRADS, PARAM_GRADS, SCRATCH)
HALF_DTYPES = ("float16", "bfloat16")


@dataclass(frozen=True)
class Options:
    """How the net runs: mixed precision, in-place activations, checkpointed layers, device."""

    amp: str | None = None  # autocast's half dtype, or None
    inplace: bool = False  # activations that can run in place do
    checkpoint: frozenset[str] = frozenset()  # layers whose saved tensors are recomputed in backward
    device: str = "cpu"  # "cpu": FakeTensors as the tracker sees them; "cuda": a real GPU run


@dataclass
class Timeline:
    """Intervals of bytes per part on the step axis; names kept for the inference peak's list."""

    steps: int
    diff: dict[str, list[int]] = field(default_factory=dict)
    names: list[tuple[str, int, int, int]] = field(default_factory=list)  # activations: (name, first, last, elements)

    def add(self, part: str, nbytes: int, first: int, last: int, name: str = "", elements: int = 0) -> None:
        if nbytes <= 0 or last < first:
            return
        d = self.diff.get(part)
        if d is None:
            d = self.diff[part] = [0] * (self.steps + 1)
        d[max(first, 0)] += nbytes
        d[min(last, self.steps - 1) + 1] -= nbytes
        if name:
            self.names.append((name, first, last, elements))

    def totals(self) -> tuple[list[int], dict[str, list[int]]]:
        """Bytes alive at each step, in all and per part (running sums of the differences)."""
        per_part = {part: list(accumulate(d[:self.steps])) for part, d in self.diff.items()}
        total = [sum(values) for values in zip(*per_part.values())] if per_part else [0] * self.steps
        return total, per_part

    def peak(self, first: int, last: int) -> tuple[int, int, dict[str, int]]:
        """(step, bytes, bytes per part) of the largest sum within steps first..last."""
        total, per_part = self.totals()
        step = max(range(first, last + 1), key=lambda s: (total[s], -s))
        return step, total[step], {part: values[step] for part, values in per_part.items()}


@dataclass
class Layer:
    """One row as the timeline needs it."""

    name: str
    inputs: list[int]  # producing row index, -1 for the net input
    elements: int  # output elements, batch included
    rule: MemoryRule
    itemsize: int  # bytes per output element
    needs_grad: bool  # its output requires a gradient
    runs_backward: bool
    trainable_bytes: int  # its parameters' gradients (float32 master weights under amp)
    half_copy_bytes: tuple[int, int] = (0, 0)  # autocast's half copies: (weights kept for backward, the rest)


def layers_of(report: Report, options: Options, training: bool) -> list[Layer]:
    """Each row's MemoryRule (in-place and checkpointing applied), dtype and gradient flow."""
    graph = report.graph
    index = {row.name: i for i, row in enumerate(report.rows)}
    base = DTYPE_BYTES[report.dtype]
    half = DTYPE_BYTES[options.amp] if options.amp else base
    used = _used_by_output(report)
    in_place = inplace_layers(report, training) if options.inplace else set()
    shapes = {-1: tuple(report.input)}
    layers: list[Layer] = []
    for i, (row, node) in enumerate(zip(report.rows, graph.nodes)):
        inputs = [index.get(name, -1) for name in row.inputs]
        shapes[i] = tuple(row.output)
        rule = node.layer.memory_rule(node.args, [shapes[p] for p in inputs], shapes[i], training)
        if row.name in in_place:
            rule = MemoryRule(**{**rule.__dict__, "view": True})
        in_sizes = [layers[p].itemsize if p >= 0 else base for p in inputs]
        itemsize = _output_itemsize(node.layer.autocast_output, in_sizes, base, half, options.amp)
        if options.amp and node.layer.autocast_output == "half" and rule.saves_input and half not in in_sizes:
            rule = _reads_a_half_copy(rule, [shapes[p] for p in inputs])
        needs_grad = row.trainable > 0
        for p in inputs:
            if needs_grad:
                break
            needs_grad = p >= 0 and layers[p].needs_grad
        copies = (0, 0)
        if options.amp and node.layer.autocast_output == "half" and row.params:
            weights = sum(t.count for t in row.param_tensors if t.name == "weight")
            copies = (weights * half, (row.params - weights) * half)
        layers.append(Layer(row.name, inputs, row.activations, rule, itemsize, needs_grad and training,
                            needs_grad and training and i in used, row.trainable * base, copies))
    return layers


def inplace_layers(report: Report, training: bool = True) -> set[str]:
    """The layers --inplace runs in place: a type that can, whose one input is a layer's own new
    output that nothing else reads and its producer does not keep (overwriting a tensor that
    autograd keeps, or that a shortcut reads later, is an error or a wrong result in torch)."""
    graph, rows = report.graph, report.rows
    readers: dict[str, int] = {}
    for row in rows:
        for name in set(row.inputs):
            readers[name] = readers.get(name, 0) + 1
    by_name = {row.name: (row, node) for row, node in zip(rows, graph.nodes)}
    shapes = {row.name: tuple(row.output) for row in rows}
    chosen = set()
    for row, node in zip(rows, graph.nodes):
        if not node.layer.runs_inplace or len(row.inputs) != 1 or row.inputs[0] not in by_name:
            continue
        source, source_node = by_name[row.inputs[0]]
        source_in = [shapes.get(name, tuple(report.input)) for name in source.inputs]
        rule = source_node.layer.memory_rule(source_node.args, source_in, shapes[source.name], training)
        last = graph.output is not None and source.name == graph.output.name
        kept = rule.saves_output or source.name in chosen  # run in place, a layer keeps its result
        if readers.get(source.name) == 1 and not rule.view and not kept and not last:
            chosen.add(row.name)
    return chosen


def _reads_a_half_copy(rule: MemoryRule, in_shapes: list[tuple[int, ...]]) -> MemoryRule:
    """Autocast casts a float32 input of a half op (the net input, a float32 layer's output)
    first: the op reads and keeps that copy, not the input."""
    copies = tuple(Kept(prod(shape)) for shape in in_shapes)
    return replace(rule, saves_input=False, kept=rule.kept + copies, transient=rule.transient + copies)


def _output_itemsize(kind: str, in_sizes: list[int], base: int, half: int, amp: str | None) -> int:
    if amp and kind == "half":
        return half
    if amp and kind == "float32":
        return 4
    return max(in_sizes) if in_sizes else base


def _used_by_output(report: Report) -> set[int]:
    """Row indices of the layers the main output depends on (the graph's nodes are the rows)."""
    if report.graph is None:
        return set()
    ancestors = ancestors_of_output(report.graph)
    return {i for i, node in enumerate(report.graph.nodes) if id(node) in ancestors}


def kept_bytes(layer: Layer, batch: int, base: int, device: str, tensors=None) -> int:
    """Bytes of the new tensors a layer keeps for backward (indices, masks, statistics), or of
    ``tensors``."""
    total = 0
    for kept in layer.rule.kept if tensors is None else tensors:
        count = kept.elements * (batch if kept.per_sample else 1)
        size = {ACTIVATION: layer.itemsize, INT64: 8, FLOAT32: 4,
                MASK: 1 if device == "cuda" else layer.itemsize}.get(kept.dtype, base)
        total += count * size
    return total


def backward_step(n: int, i: int) -> int:
    """The step that runs layer i's backward; the next step sums its gradients into others."""
    return 3 * n - 1 - 2 * i


@dataclass
class _Storage:
    nbytes: int
    first: int
    last: int
    name: str
    elements: int = 0


class Simulation:
    """One run of the net on the step axis: ``run()`` fills ``timeline``."""

    def __init__(self, report: Report, options: Options, training: bool):
        self.report, self.options, self.training = report, options, training
        self.layers = layers_of(report, options, training)
        self.n = len(self.layers)
        self.batch, self.base = report.batch, DTYPE_BYTES[report.dtype]
        self.steps = 3 * self.n + 2 if training else max(self.n, 1)
        self.timeline = Timeline(self.steps)
        self.root: dict[int, int] = {-1: -1}
        size = 1
        for d in report.input:
            size *= d
        self.storages = {-1: _Storage(size * report.batch * self.base, 0, self.steps - 1, "input", size * report.batch)}
        self.segments = _segments(options.checkpoint, [layer.name for layer in self.layers])

    def run(self) -> Timeline:
        self.recomputed: dict[int, tuple[int, int]] = {}  # storage -> (first, last) of its recomputation
        self._forward()
        for storage, (first, last) in self.recomputed.items():
            self.timeline.add(ACTIVATIONS, self.storages[storage].nbytes, first, last)
        if self.training:
            self._backward()
        for s in self.storages.values():
            self.timeline.add(ACTIVATIONS, s.nbytes, s.first, s.last, s.name, s.elements)
        return self.timeline

    def _extend(self, index: int, last: int) -> None:
        storage = self.storages[self.root[index]]
        storage.last = max(storage.last, last)

    def _forward(self) -> None:
        n, used = self.n, set()
        output = self.report.graph.output.name if self.report.graph.output is not None else None
        for i, layer in enumerate(self.layers):
            if layer.rule.view and layer.inputs:
                self.root[i] = self.root[layer.inputs[0]]
            else:
                self.root[i] = i
                self.storages[i] = _Storage(layer.elements * layer.itemsize, i, i, layer.name, layer.elements)
            for p in layer.inputs:
                self._extend(p, i)
                used.add(p)
            if layer.rule.scratch:
                self.timeline.add(SCRATCH, layer.rule.scratch * self.batch * layer.itemsize, i, i)
            weights_kept, rest = layer.half_copy_bytes  # autocast's cache lives until the forward returns
            if weights_kept or rest:
                # backward keeps the half weights until its op has run; their float32 gradients come
                # after that op, so the copy and the float32 gradient are not counted together
                kept_until = (backward_step(n, i) - 1 if self.training and layer.runs_backward and i not in self.segments
                              else 0)
                self.timeline.add(SCRATCH, weights_kept, i, max(kept_until, n - 1))
                self.timeline.add(SCRATCH, rest, i, n - 1)
            if self.training and layer.needs_grad:
                self._keep_for_backward(i, layer)
            else:  # without autograd what an op returns beside its output (max-pool indices) dies at once
                self.timeline.add(SCRATCH, kept_bytes(layer, self.batch, self.base, self.options.device,
                                                      layer.rule.transient), i, i)
        for i, layer in enumerate(self.layers):  # values nothing reads stay in the twin's forward to the end
            if i not in used or layer.name == output:
                self._extend(i, n if self.training and layer.name == output else n - 1)

    def _keep_for_backward(self, i: int, layer: Layer) -> None:
        """What autograd keeps for layer i: its inputs or output until its backward has run; a
        checkpointed layer keeps nothing in the forward (its segment keeps its inputs) and
        recomputes it when backward reaches its segment's last layer."""
        n = self.n
        end = backward_step(n, i) if layer.runs_backward else n - 1
        kept = kept_bytes(layer, self.batch, self.base, self.options.device)
        segment = self.segments.get(i)
        if segment is None:
            for p in (layer.inputs if layer.rule.saves_input else []):
                self._extend(p, end)
            if layer.rule.saves_output:
                self._extend(i, end)
            self.timeline.add(ACTIVATIONS, kept, i, end)
            return
        first, last = segment
        for p in layer.inputs:
            if p < first:
                self._extend(p, backward_step(n, first))  # the checkpoint keeps its inputs
        if not layer.runs_backward:
            return
        start = backward_step(n, last)  # recomputed once backward reaches the segment
        recomputed = ([p for p in layer.inputs if p >= first] if layer.rule.saves_input else []) + \
            ([i] if layer.rule.saves_output else [])
        for p in recomputed:  # a storage kept by several layers of the segment is recomputed once
            storage = self.root[p]
            if storage >= first:
                self.recomputed[storage] = (start, max(end, self.recomputed.get(storage, (start, end))[1]))
        self.timeline.add(ACTIVATIONS, kept, start, end)
        if i == last and not layer.rule.saves_output:  # the recomputation runs the last layer too
            self.timeline.add(SCRATCH, layer.elements * layer.itemsize, start, start)

    def _backward(self) -> None:
        n, last_step = self.n, self.steps - 1
        self.grads: dict[int, int] = {}  # row -> storage id of the gradient of its output
        self.holds: dict[int, _Storage] = {}
        self.holders: dict[int, dict] = {}  # storage id -> {row whose gradient it is (or a sum reading it): last step}
        output = self.report.graph.output
        index = {layer.name: i for i, layer in enumerate(self.layers)}
        if output is not None and self.layers and self.layers[index[output.name]].runs_backward:
            self._new_grad(index[output.name], 0, n)  # output.sum()'s gradient: an expanded scalar
        for i in range(n - 1, -1, -1):
            layer = self.layers[i]
            if not layer.runs_backward or i not in self.grads:
                continue
            step = backward_step(n, i)
            scratch = layer.rule.backward_scratch * self.batch
            if layer.rule.dense_grad and not self.holds[self.grads[i]].nbytes:  # the loss's expanded gradient
                scratch += layer.elements
            if layer.rule.input_grad_scratch and any(p >= 0 and self.layers[p].needs_grad for p in layer.inputs):
                scratch += layer.rule.input_grad_scratch * self.batch
            if scratch:
                self.timeline.add(SCRATCH, scratch * layer.itemsize, step, step)
            if layer.trainable_bytes:
                self.timeline.add(PARAM_GRADS, layer.trainable_bytes, step, last_step)
                # under autocast the half weights' gradients come first, then their float32 copies
                self.timeline.add(SCRATCH, sum(layer.half_copy_bytes), step, step)
            for p in dict.fromkeys(layer.inputs):
                if p >= 0 and self.layers[p].needs_grad:
                    self._contribute(p, i, step)
        for storage, holders in self.holders.items():
            self.timeline.add(ACT_GRADS, self.holds[storage].nbytes, self.holds[storage].first, max(holders.values()))

    def _new_grad(self, row: int, nbytes: int, step: int) -> int:
        storage = len(self.holds)
        self.holds[storage] = _Storage(nbytes, step, step, "")
        self.holders[storage] = {-1: step}
        self._hold(row, storage)
        return storage

    def _hold(self, row: int, storage: int) -> None:
        """``storage`` is now row's output gradient, held until row's backward has run."""
        self.grads[row] = storage
        self.holders[storage][row] = backward_step(self.n, row)

    def _contribute(self, p: int, i: int, step: int) -> None:
        """Layer i's backward hands input p its gradient: a view of its own output's gradient
        (grad_view) or a new tensor; a second contribution is summed into the first after the
        backward has run (step + 1: in place on CUDA; out of place on FakeTensors, which autograd
        does not sum in place)."""
        producer = self.layers[p]
        nbytes = producer.elements * producer.itemsize
        if self.layers[i].rule.grad_view:
            contribution = self.grads[i]
        else:
            contribution = len(self.holds)
            self.holds[contribution] = _Storage(nbytes, step, step, "")
            self.holders[contribution] = {-1: step}
        if p not in self.grads:
            self._hold(p, contribution)
            return
        self.holders[contribution][(p, "summed")] = step + 1
        if self.options.device != "cuda":  # a new sum replaces the buffer
            self.holders[self.grads[p]][p] = step + 1
            self._new_grad(p, nbytes, step + 1)


def _segments(checkpoint, names: list[str]) -> dict[int, tuple[int, int]]:
    """Row index -> (first, last) row of its checkpointed segment."""
    index = {name: i for i, name in enumerate(names)}
    found = {}
    for segment in checkpoint:
        rows = [index[name] for name in segment]
        for row in rows:
            found[row] = (min(rows), max(rows))
    return found
