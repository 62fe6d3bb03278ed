"""`archcalc zoo` in every format, and SPEC arguments that name bundled nets (from any directory)."""

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archcalc.cli import app
from archcalc.spec.bundled import bundled, comparisons, natural_key, resolve_spec

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_zoo_table_lists_every_bundled_net():
    result = invoke("zoo")
    assert result.exit_code == 0, result.output
    for name in bundled():
        assert name in result.output
    assert "61,100,840" in result.output  # alexnet
    assert "212 (stride 32, padding 90) at avgpool" in result.output  # vgg16's last map


def test_zoo_json_has_the_figures():
    result = invoke("zoo", "--format", "json")
    assert result.exit_code == 0
    nets = {n["name"]: n for n in json.loads(result.output)}
    assert set(nets) == set(bundled())
    assert nets["resnet50"]["params"] == 25_557_032
    assert nets["resnet50"]["input"] == [3, 224, 224]
    assert nets["resnet50"]["macs"] == 4_089_184_256
    assert nets["resnet50"]["rf"] is None and nets["resnet50"]["rf_kind"] == "whole"
    assert nets["rpn_vgg16"]["rf"] == {"size": [228, 228], "stride": [16, 16], "padding": [106, 106]}
    assert nets["vgg16"]["last_map_layer"] == "avgpool"
    assert nets["inception_v3"]["file"] == "inception_v3.yaml"


def test_zoo_csv_is_plain_numbers():
    result = invoke("zoo", "-f", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["net"] for r in rows] == list(bundled())
    lenet = next(r for r in rows if r["net"] == "lenet5")
    assert lenet["params"] == "61706" and lenet["input"] == "1x32x32" and lenet["rf_size"] == "whole"
    fcn = next(r for r in rows if r["net"] == "fcn32s")
    assert (fcn["output"], fcn["rf_size"], fcn["rf_stride"]) == ("21x224x224", "436", "1")


def test_zoo_markdown_table():
    result = invoke("zoo", "-f", "markdown")
    assert result.exit_code == 0
    nets, pairs = result.output.split("## Bundled comparisons")
    table = [line for line in nets.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| Net | Input | Output | Parameters | MACs")
    assert len(table) == 1 + len(bundled())
    assert any(line.startswith("| vgg16 | 3x224x224 | 1000 | 138,357,544") for line in table)
    table = [line for line in pairs.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(comparisons())
    assert "| bottleneck | 256x56x56 | 256x56x56 | 69,632 (69.6 k) |" in pairs
    assert "`architectures/compare/bottleneck.yaml`" in pairs


def test_zoo_table_lists_the_comparisons_too():
    result = invoke("zoo")
    assert result.exit_code == 0
    nets, pairs = result.output.split("bundled comparisons")
    assert "alexnet" in nets and "bottleneck" not in nets
    for name in comparisons():
        assert name in pairs
    assert "589,824" in pairs  # plain_3x3


def test_zoo_json_and_csv_list_the_nets_only():
    """Their contract is one record per bundled net; the comparisons are in the table and Markdown."""
    names = [n["name"] for n in json.loads(invoke("zoo", "-f", "json").output)]
    assert names == list(bundled())
    rows = list(csv.DictReader(io.StringIO(invoke("zoo", "-f", "csv").output)))
    assert [r["net"] for r in rows] == list(bundled())


def test_zoo_lists_top_level_specs_only_in_natural_order():
    names = list(bundled())
    assert names == sorted(names, key=natural_key)
    assert names.index("resnet18") < names.index("resnet50") < names.index("resnet101")
    assert all(path.parent.name == "architectures" for path in bundled().values())


def test_zoo_rejects_unknown_format():
    result = invoke("zoo", "-f", "yaml")
    assert result.exit_code == 2


@pytest.mark.parametrize("spec", ["alexnet", "alexnet.yaml", "architectures/alexnet.yaml"])
def test_bundled_name_works_from_an_empty_directory(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("params", spec, "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"]["params"] == 61_100_840


def test_bundled_lecture_alexnet_weights_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("params", "alexnet_lecture.yaml")
    assert result.exit_code == 0, result.output
    for figure in ("34,848", "307,200", "884,736", "663,552", "442,368", "177,209,344", "16,777,216", "4,096,000"):
        assert figure in result.output


def test_a_local_file_wins_over_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alexnet.yaml").write_text("input: 3x8x8\nlayers:\n  - {type: conv2d, out_channels: 2, kernel_size: 3}\n")
    assert resolve_spec("alexnet.yaml") == Path("alexnet.yaml")
    result = invoke("params", "alexnet.yaml", "-f", "json")
    assert json.loads(result.output)["total"]["params"] == 3 * 3 * 3 * 2 + 2


def test_unknown_name_lists_close_matches(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("params", "resnet5")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.startswith("error: resnet5: ")
    assert "no bundled net named 'resnet5'" in result.output
    assert "resnet50" in result.output


def test_unknown_name_without_close_match_points_to_zoo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("summary", "qqqqqq.yaml")
    assert result.exit_code == 2
    assert "`archcalc zoo` lists the bundled nets" in result.output


def test_missing_file_in_a_directory_is_file_not_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("params", "some/dir/net.yaml")
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_bundled_comparison_resolves_by_relative_path(tmp_path, monkeypatch):
    import archcalc.spec.bundled as zoo

    root = tmp_path / "architectures"
    (root / "compare").mkdir(parents=True)
    (root / "compare" / "pair.yaml").write_text("input: 3x8x8\nlayers: [{type: conv2d, out_channels: 4, kernel_size: 1}]\n")
    (root / "tiny.yaml").write_text("input: 3x8x8\nlayers: [relu]\n")
    monkeypatch.setattr(zoo, "architectures_dir", lambda: root)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert zoo.resolve_spec("compare/pair.yaml") == root / "compare" / "pair.yaml"
    assert zoo.resolve_spec("compare/pair") == root / "compare" / "pair.yaml"
    assert zoo.resolve_spec("tiny") == root / "tiny.yaml"
    assert list(zoo.bundled()) == ["tiny"]  # comparisons are not bundled nets
    with pytest.raises(zoo.SpecError, match="file not found"):
        zoo.resolve_spec("compare/tiny.yaml")


def test_comparison_specs_resolve_by_name_for_every_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for spec in ("bottleneck", "compare/bottleneck", "compare/bottleneck.yaml"):
        result = invoke("params", spec, "-f", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["total"]["params"] == 69_632
    result = invoke("params", "bottlenek")
    assert result.exit_code == 2 and "bottleneck" in result.output  # a close match is offered
