"""``blocks_from``: another spec file's blocks, beside the spec or bundled, so a family reuses
another's blocks (segmentation.yaml builds on resnet.yaml and mobilenet_v3.yaml)."""

import pytest

import archcalc
from archcalc.errors import SpecError
from archcalc.graph import load_graph
from cli_checks import assert_clean_error, run_spec

LIBRARY = """\
name: library
input: 3x8x8
blocks:
  cbr:
    args: {filters: null, k: 3}
    layers:
      - {type: conv2d, out_channels: filters, kernel_size: k, padding: k // 2, bias: false}
      - {type: batchnorm2d}
      - {type: relu}
layers: [relu]
"""

USER = """\
input: 3x8x8
blocks_from: [library]
layers:
  - {name: a, type: cbr, filters: 4}
  - {name: b, type: cbr, filters: 8, k: 1}
"""


def write(tmp_path, **files):
    for stem, text in files.items():
        (tmp_path / f"{stem}.yaml").write_text(text)
    return tmp_path


def test_blocks_of_a_file_beside_the_spec(tmp_path):
    write(tmp_path, library=LIBRARY, net=USER)
    report = archcalc.analyze(str(tmp_path / "net.yaml"))
    assert [r.name for r in report.rows] == ["a.0", "a.1", "a.2", "b.0", "b.1", "b.2"]
    assert report.rows[3].params == 4 * 8


def test_a_bundled_familys_blocks():
    text = "input: 3x64x64\nblocks_from: resnet\nlayers:\n  - {name: layer1, type: stage, planes: 16, blocks: 2}\n"
    graph = load_graph("net.yaml", text=text)
    assert graph.nodes[0].name == "layer1.0.conv1" and len(graph.nodes) == 12 + 10  # the projecting bottleneck, then one more


def test_the_segmentation_nets_reuse_the_classifiers_blocks():
    resnet = {r.name[len("backbone."):]: r.params for r in archcalc.analyze("fcn_resnet50").rows
              if r.name.startswith("backbone.layer1")}
    assert resnet == {r.name: r.params for r in archcalc.analyze("resnet50").rows if r.name.startswith("layer1")}


def test_a_mistake_inside_an_imported_block_names_the_blocks_file(tmp_path):
    write(tmp_path, library=LIBRARY.replace("padding: k // 2", "padding: k // zero"), net=USER)
    result = run_spec(tmp_path, USER, "params")
    message = assert_clean_error(result, "library.yaml:7", "zero")
    assert "net.yaml" not in message


def test_a_shape_error_inside_an_imported_block_points_at_the_call(tmp_path):
    write(tmp_path, library=LIBRARY)
    result = run_spec(tmp_path, USER.replace("3x8x8", "[16]"), "params")
    assert_clean_error(result, "net.yaml:4", "a.0")


@pytest.mark.parametrize("value, message", [
    ("[../library]", "without '.yaml' or a path"),
    ("[library.yaml]", "without '.yaml' or a path"),
    ("{a: 1}", "without '.yaml' or a path"),
    ("[nowhere_at_all]", "no spec file 'nowhere_at_all.yaml'"),
])
def test_bad_imports_are_one_clear_error(tmp_path, value, message):
    write(tmp_path, library=LIBRARY)
    result = run_spec(tmp_path, USER.replace("[library]", value), "params")
    assert_clean_error(result, message, "net.yaml:2")


def test_a_block_defined_twice_is_refused(tmp_path):
    write(tmp_path, library=LIBRARY, other=LIBRARY.replace("name: library", "name: other"))
    result = run_spec(tmp_path, USER.replace("[library]", "[library, other]"), "params")
    assert_clean_error(result, "block 'cbr' is defined in both")
    local = USER + "blocks:\n  cbr: {layers: [relu]}\n"
    assert_clean_error(run_spec(tmp_path, local, "params"), "block 'cbr' is also imported")


def test_an_import_cycle_is_refused(tmp_path):
    write(tmp_path, library=LIBRARY.replace("blocks:", "blocks_from: [net]\nblocks:", 1))
    result = run_spec(tmp_path, USER, "params")
    assert_clean_error(result, "a cycle")


def test_only_the_blocks_of_an_imported_file_are_read(tmp_path):
    """Its layers, args and variants are not: a broken layer list there does not matter."""
    write(tmp_path, library=LIBRARY.replace("layers: [relu]", "layers: [{type: nonsense}]"), net=USER)
    assert archcalc.analyze(str(tmp_path / "net.yaml")).output == (8, 8, 8)


def test_an_unknown_top_level_key_still_suggests_blocks_from(tmp_path):
    with pytest.raises(SpecError, match="did you mean 'blocks_from'"):
        load_graph("net.yaml", text=USER.replace("blocks_from", "block_from"))
