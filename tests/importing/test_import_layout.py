"""Imported layers as spec data, without torch: groups following the module paths, tensors that
cross a module's border read by path (LR-ASPP's head, DeepLabV3's ASPP) or, for a functional op
that alone crosses it, moved up (DenseNet's concatenations), readable YAML that loads back to the
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


def written(net, blocks=False):
    """The net's spec text and its analysis, read back from the text."""
    data = to_spec(net)
    text = write_yaml(compact(fold_blocks(data, net) if blocks else data))
    return text, archcalc.analyze_text(text)


def test_a_module_reading_outer_tensors_through_modules_keeps_its_names():
    """Like LR-ASPP's head: 'head' reads the trunk as its input and the stem by path; a module
    reading the net's input and another tensor takes the net's input as its own."""
    entries = [conv(("stem",), "conv", [None], 4),
               conv(("trunk",), "conv", [0], 4),
               conv(("head",), "high", [1], 2),
               conv(("head",), "low", [0], 2),
               Entry(("head",), "add", "add", {}, [2, 3], functional=True),
               conv(("side",), "a", [None], 2),
               conv(("side",), "b", [4], 2),
               Entry(("side",), "add", "add", {}, [5, 6], functional=True)]
    text, report = written(ImportedNet("net", (3, 8, 8), entries, [(7, "all")]))
    assert [r.name for r in report.rows] == ["stem.conv", "trunk.conv", "head.high", "head.low", "head.add",
                                             "side.a", "side.b", "side.add"]
    assert "inputs: stem}" in text and "inputs: head}" in text
    assert "  - name: side\n    inputs: input\n" in text
    assert report.output == (2, 8, 8)


def branches(count=3, reader=None):
    """'branches' hands out one tensor per branch, each a conv on the stem's output (or, with
    ``reader``, a conv on a trunk after the stem plus one on the stem, read by path, and their
    sum); 'cat' joins them."""
    entries = [conv(("stem",), "conv", [None], 4)]
    if reader:
        entries.append(conv(("trunk",), "conv", [0], 4))
    ends = []
    for n in range(count):
        entries.append(conv(("branches", str(n)), "conv", [1 if reader else 0], 2 + n % 2))
        if reader:
            entries.append(conv(("branches", str(n)), "side", [0], 2 + n % 2))
            entries.append(Entry(("branches", str(n)), "add", "add", {}, [len(entries) - 2, len(entries) - 1],
                                 functional=True))
        ends.append(len(entries) - 1)
    entries.append(Entry((), "cat", "concat", {}, ends, functional=True))
    classes = {("branches", str(n)): "mynet.Branch" for n in range(count)}
    return ImportedNet("net", (3, 8, 8), entries, [(len(entries) - 1, "all")], scope_classes=classes)


def test_a_module_handing_out_several_tensors_is_read_by_path():
    """Like DeepLabV3's ASPP: the concatenation outside reads each branch by its path."""
    text, report = written(branches())
    assert [r.name for r in report.rows] == ["stem.conv", "branches.0.conv", "branches.1.conv", "branches.2.conv", "cat"]
    assert "inputs: [branches.0, branches.1, branches.2]" in text
    assert report.output == (7, 8, 8)


def test_groups_reading_only_their_input_still_fold_into_blocks():
    net = branches(4)
    text, report = written(net, blocks=True)
    assert "blocks:" in text
    assert [(r.name, r.output, r.params) for r in report.rows] == \
        [(r.name, r.output, r.params) for r in written(branches(4))[1].rows]


def test_a_group_reading_an_outer_layer_by_name_is_not_a_block():
    """A block body sees only its input: a group reading 'stem' by name stays written out."""
    net = branches(3, reader=True)
    text, report = written(net, blocks=True)
    assert "branch:" not in text and "  - name: branches\n    layers:\n      - name: '0'\n" in text
    assert {"branches.0.conv", "branches.0.side", "branches.0.add", "branches.2.add"} <= {r.name for r in report.rows}
    assert "{name: side, type: conv2d, out_channels: 2, kernel_size: 3, padding: 1, inputs: stem}" in text
    assert report.output == (7, 8, 8)


def test_a_path_a_name_on_the_way_hides_moves_its_reader_up():
    """'block' reads the net's input and holds a child named 'stem': its layer reading the net's
    'stem' cannot name it from inside, so that layer moves up to the top level (as block_add)."""
    entries = [conv(("stem",), "conv", [None], 4),
               conv(("block", "stem"), "conv", [None], 4),
               Entry(("block",), "add", "add", {}, [1, 0], functional=False)]
    text, report = written(ImportedNet("net", (3, 8, 8), entries, [(2, "all")]))
    assert [r.name for r in report.rows] == ["stem.conv", "block.stem.conv", "block_add"]


def test_a_module_whose_forward_is_one_op_is_that_layer():
    """timm's Sigmoid module calls x.sigmoid(): its one functional op is named by the module's
    path (se.gate), not as an op inside it (se.gate.sigmoid); a module whose forward runs two
    ops keeps them inside (se.act.relu, se.act.relu_1)."""
    entries = [conv(("se",), "fc", [None], 4),
               Entry(("se", "act"), "relu", "relu", {}, [0], functional=True),
               Entry(("se", "act"), "relu_1", "relu", {}, [1], functional=True),
               Entry(("se", "gate"), "sigmoid", "sigmoid", {}, [2], functional=True)]
    classes = {("se",): "mynet.SE", ("se", "act"): "mynet.TwoRelus", ("se", "gate"): "mynet.Sigmoid"}
    _, report = written(ImportedNet("net", (3, 8, 8), entries, [(3, "all")], scope_classes=classes))
    assert [r.name for r in report.rows] == ["se.fc", "se.act.relu", "se.act.relu_1", "se.gate"]
