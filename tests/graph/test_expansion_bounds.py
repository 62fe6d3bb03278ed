"""Expansion in bounded work and bounded messages (issue 13): work the layer count does not see
(block arguments, references, names per copy) has its own budget; aliases shared by many
consumers resolve once; messages quote user values clipped, however large the value."""

import time

import pytest

from archcalc import analyze_text
from archcalc.errors import SpecError
from archcalc.graph import load_graph
from archcalc.graph.values import MAX_NAME_LENGTH, MAX_WORK
from cli_checks import assert_clean_error, run_spec


def timed(function, limit):
    start = time.perf_counter()
    result = function()
    assert time.perf_counter() - start < limit
    return result


def test_block_defaults_times_repeats_hit_the_work_budget(tmp_path):
    defaults = ", ".join(f"a{i}: {i}" for i in range(50_000))
    text = f"input: 3x8x8\nblocks:\n  b:\n    args: {{{defaults}}}\n    layers: [relu]\nlayers:\n  - {{type: b, repeat: 50000}}\n"
    # the real budget: a few seconds of work (generous limit for a loaded machine), not 2.5e9 units
    message = timed(lambda: assert_clean_error(run_spec(tmp_path, text), "too much work", f"{MAX_WORK:,}"), 20)
    assert "net.yaml:" in message


def test_a_long_inputs_list_on_a_repeated_entry_hits_the_work_budget(tmp_path, monkeypatch):
    monkeypatch.setattr("archcalc.graph.values.MAX_WORK", 200_000)  # the mechanism, at a tenth of the budget
    refs = ", ".join(["r"] * 50_000)
    text = f"input: 3x8x8\nlayers:\n  - {{name: r, type: relu}}\n  - {{name: 's{{i}}', type: add, inputs: [{refs}], repeat: 50000}}\n"
    timed(lambda: assert_clean_error(run_spec(tmp_path, text), "too much work", "200,000"), 5)


def test_many_net_arguments_are_not_copied_per_repeat():
    names = ", ".join(f"a{i}: {i}" for i in range(50_000))
    graph = timed(lambda: load_graph("net.yaml", text=f"input: 3x8x8\nargs: {{{names}}}\nlayers:\n  - {{type: relu, repeat: 20000}}\n"), 10)
    assert len(graph.nodes) == 20_000


def test_repeat_variables_are_seen_and_do_not_leak():
    report = analyze_text("""
input: 3x8x8
args: {i: 100}
layers:
  - {name: 'c{i}', type: conv2d, out: i + 1, kernel: 1, repeat: 3}
  - {name: last, type: conv2d, out: i, kernel: 1}
""")
    assert [r.output[0] for r in report.rows] == [1, 2, 3, 100]


def test_a_chain_of_dropped_layers_shared_by_many_consumers_resolves_once():
    lines = ["input: 3x8x8", "layers:", "  - {name: r, type: relu}", "  - {name: d0, type: relu, when: false, inputs: r}"]
    lines += [f"  - {{name: d{i}, type: relu, when: false, inputs: d{i - 1}}}" for i in range(1, 10_000)]
    lines += ["  - {name: 'x{i}', type: relu, inputs: d9999, repeat: 20000}"]
    graph = timed(lambda: load_graph("net.yaml", text="\n".join(lines) + "\n"), 20)
    assert all(node.inputs[0].name == "r" for node in graph.nodes[1:])


def test_a_layer_cannot_be_named_input(tmp_path):
    text = "input: 3x8x8\nlayers:\n  - {name: input, type: relu}\n"
    assert_clean_error(run_spec(tmp_path, text), "net.yaml:3:", "cannot be named 'input'")


def test_names_are_bounded(tmp_path):
    text = f"input: 3x8x8\nlayers:\n  - {{name: {'n' * (MAX_NAME_LENGTH + 1)}, type: relu}}\n"
    message = assert_clean_error(run_spec(tmp_path, text), f"longer than {MAX_NAME_LENGTH} characters")
    assert len(message) < 300
    template = "input: 3x8x8\nargs: {s: \"'x' * 1\"}\nlayers:\n  - {name: 'a{'\"'\"'y'\"'\"' + \"'z'\" * 1}', type: relu}\n"
    assert run_spec(tmp_path, template).exit_code == 2


def doubled(levels: int) -> str:
    """A YAML list doubled through anchors (2^levels items once aliases are written out), kept
    in a block's ignored comment."""
    text = "blocks:\n  holder:\n    layers: [relu]\n    comment:\n      l0: &l0 [1, 2]\n"
    for i in range(1, levels):
        text += f"      l{i}: &l{i} [*l{i - 1}, *l{i - 1}]\n"
    return text


@pytest.mark.parametrize("use, fragment", [
    ("layers: [*l16]", "a layer must be a mapping or a type name, got [[["),
    ("layers: [{type: relu, when: *l16}]", "argument 'when': nested lists are not allowed"),
    ("layers: [{type: relu, when: [1, 2, 3]}]", "'when' must be true or false, got [1, 2, 3]"),
    ("layers: [{type: relu, repeat: *l16}]", "nested lists are not allowed"),
    ("layers: [{type: *l16}]", "'type' must be a name, got [[["),
    ("layers: [{type: relu, inputs: [*l16]}]", "'inputs' must be a name, got [[["),
    ("layers: [{type: relu, name: *l16}]", "'name' must be a name, got [[["),
    ("layers: [relu]\noutput: *l16", "is not a top-level layer"),
    ("layers: [{type: conv2d, out: 4, kernel: *l16}]", "argument 'kernel': nested lists are not allowed"),
    ("layers: [{type: conv2d, out: 4, kernel: [" + ", ".join(["3"] * 5000) + "]}]", "got 5,000 values"),
    ("  b: {args: *l16, layers: [relu]}\nlayers: [{type: b}]", "must be names, got [[["),
])
def test_huge_values_in_messages_are_clipped_and_fast(tmp_path, use, fragment):
    text = "input: 3x8x8\n" + doubled(17) + use + "\n"
    message = timed(lambda: assert_clean_error(run_spec(tmp_path, text), fragment), 5)
    assert len(message) < 400, message


def test_evaluated_list_arguments_are_checked_item_by_item():
    with pytest.raises(SpecError, match="nested lists are not allowed"):
        load_graph("net.yaml", text="input: 3x8x8\nlayers:\n  - {type: conv2d, out: 4, kernel: [[3], 3]}\n")


def test_unknown_block_argument_lists_a_bounded_number_of_names(tmp_path):
    declared = ", ".join(f"arg{i}: 1" for i in range(3000))
    text = f"input: 3x8x8\nblocks:\n  b: {{args: {{{declared}}}, layers: [relu]}}\nlayers:\n  - {{type: b, nope: 1}}\n"
    message = assert_clean_error(run_spec(tmp_path, text), "unknown argument 'nope' for block 'b'")
    assert len(message) < 400


@pytest.mark.parametrize("mistake, fragment", [
    ("{type: BLOCK, nope: 1}", "unknown argument 'nope' for block 'bbbbb"),
    ("{type: BLOCK}", "needs argument 'w'"),
    ("{type: BLOCK, w: 1, layers: [relu]}", "is a block; it takes arguments"),
])
def test_long_block_names_are_clipped(tmp_path, mistake, fragment):
    block = "b" * 5000
    # keys past 1,024 characters need YAML's explicit '? key' form
    text = f"input: 3x8x8\nblocks:\n  ? {block}\n  : {{args: [w], layers: [relu]}}\nlayers:\n  - {mistake.replace('BLOCK', block)}\n"
    message = assert_clean_error(run_spec(tmp_path, text), fragment)
    assert len(message) < 400


def test_duplicate_long_keys_are_clipped(tmp_path):
    key = "k" * 5000
    message = assert_clean_error(run_spec(tmp_path, f"input: 3x8x8\n? {key}\n: 1\n? {key}\n: 2\nlayers: [relu]\n"), "appears twice")
    assert len(message) < 400


def test_suggestions_among_many_long_similar_names_are_fast(tmp_path):
    # difflib over 50,000 similar 190-character names took minutes; suggestions now compare a bounded few
    name = "a" * 190
    text = (f"input: 3x8x8\nlayers:\n  - {{name: '{name}{{i}}', type: relu, repeat: 50000}}\n"
            f"  - {{type: add, inputs: ['{name}x', input]}}\n")
    message = timed(lambda: assert_clean_error(run_spec(tmp_path, text), "unknown layer 'aaa", "did you mean 'aaa"), 10)
    assert len(message) < 700  # bounded whatever the names' count and length


def nested_blocks(blocks: int, groups: int) -> str:
    """Blocks each wrapping ``groups`` nested groups around the next block (the YAML stays shallow)."""
    lines = ["input: 3x8x8", "blocks:"]
    for block in range(blocks):
        inner = f"{{type: b{block + 1}}}" if block < blocks - 1 else "relu"
        for _ in range(groups):
            inner = f"{{layers: [{inner}]}}"
        lines.append(f"  b{block}: {{layers: [{inner}]}}")
    return "\n".join(lines + ["layers: [{type: b0}]"]) + "\n"


def test_blocks_of_nested_groups_nest_at_most_64_deep(tmp_path):
    # 60 blocks each wrapping 40 nested groups: 2,400 levels of recursion, once a RecursionError
    assert_clean_error(run_spec(tmp_path, nested_blocks(60, 40)), "net.yaml:", "groups and blocks nest more than 64 deep")


def test_nesting_64_deep_is_fine_65_is_not():
    graph = load_graph("net.yaml", text=nested_blocks(8, 7))  # 8 x (a block instance + 7 groups)
    assert graph.nodes[0].name.count(".") == 64
    with pytest.raises(SpecError, match="nest more than 64 deep"):
        load_graph("net.yaml", text=nested_blocks(8, 8))
