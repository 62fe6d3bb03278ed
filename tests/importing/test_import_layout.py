"""Imported layers as spec data, without torch: groups following the module paths, layers that
cross a module's border moved up (DenseNet's concatenations), readable YAML that loads back to the
same data, and repeated structures folded into blocks whose analysis equals the unfolded spec's."""

import archcalc
from archcalc.importing.blocks import fold_blocks
from archcalc.importing.layout import Entry, ImportedNet, compact, safe_name, to_spec
from archcalc.importing.yaml_writer import write_yaml
from archcalc.spec.loader import parse_yaml


def conv(scope, local, inputs, width):
    return Entry(scope, local, "conv2d", {"out_channels": width, "kernel_size": 3, "padding": 1, "stride": 1},
                 inputs, module=True)


def residual_net(blocks=3):
    """stem, then ``blocks`` residual blocks (conv, conv, add) named block.N."""
    entries = [conv(("stem",), "conv", [None], 8)]
    for n in range(blocks):
        first = len(entries)
        entries.append(conv(("block", str(n)), "conv1", [first - 1], 8))
        entries.append(conv(("block", str(n)), "conv2", [first], 8))
        entries.append(Entry(("block", str(n)), "add", "add", {}, [first + 1, first - 1], functional=True))
    net = ImportedNet("net", (3, 16, 16), entries, [(len(entries) - 1, "all")],
                      scope_classes={("block", str(n)): "mynet.Block" for n in range(blocks)})
    return net


def analysed(data):
    return archcalc.analyze_text(write_yaml(data))


def test_groups_follow_the_module_paths():
    data = to_spec(residual_net())
    names = [row.name for row in analysed(compact(data)).rows]
    assert names[:4] == ["stem.conv", "block.0.conv1", "block.0.conv2", "block.0.add"]


def test_a_module_reading_several_outside_tensors_hands_its_join_up():
    """Like DenseNet's layer: the concatenation inside 'layer' reads the net input and the stem."""
    entries = [conv(("stem",), "conv", [None], 4),
               Entry(("layer",), "cat", "concat", {}, [None, 0], functional=True),
               conv(("layer",), "conv", [1], 4)]
    net = ImportedNet("net", (3, 8, 8), entries, [(2, "all")])
    rows = analysed(compact(to_spec(net))).rows
    assert [r.name for r in rows] == ["stem.conv", "layer_cat", "layer.conv"]
    assert rows[1].output == (7, 8, 8)


def test_yaml_quotes_what_would_read_as_something_else():
    data = {"name": "yes", "input": [3, 8, 8], "layers": [{"name": "1e3", "type": "relu"}, {"name": "no", "type": "relu"}]}
    assert parse_yaml(write_yaml(data)) == data
    assert safe_name("a.b c/\x1b") == "a_b_c__" and safe_name("input") == "input_" and safe_name("-x") == "_x"


def test_repeated_blocks_fold_and_analyse_the_same():
    net = residual_net(4)
    flat = compact(to_spec(net))
    folded = compact(fold_blocks(to_spec(residual_net(4)), net))
    assert "blocks" in folded and list(folded["blocks"]) == ["block"]
    text = write_yaml(folded)
    assert "repeat: 4" in text
    same = [(r.name, r.output, r.params, r.flops) for r in analysed(flat).rows]
    assert [(r.name, r.output, r.params, r.flops) for r in archcalc.analyze_text(text).rows] == same
