"""Every bundled torchvision net (the zoo's list, tests/pytorch/test_zoo_torchvision.py) imported
from torchvision's own module equals that module on the meta device exactly: parameters, buffers,
FlopCounterMode FLOPs, output shape, and each leaf module's output shape, parameters, buffers and
FLOPs by name; it equals the bundled zoo spec row by row; and the YAML `archcalc import` writes
(blocks and repeats included) analyses to the same rows. A `torchvision:NAME` source defaults to
the bundled spec's input and never loads weights (a segmentation net's backbone included)."""

import pytest

from test_zoo_torchvision import TORCHVISION_NETS, measure  # noqa: E402  (the zoo's list and reference)

import archcalc  # noqa: E402
from archcalc.analysis import analyze  # noqa: E402
from archcalc.pytorch.fx_sources import default_input, meta_construction  # noqa: E402
from archcalc.pytorch.importer import import_module  # noqa: E402
from archcalc.pytorch.torchvision_models import torchvision_model, torchvision_models  # noqa: E402


def figures(row):
    return tuple(row.output), row.params, row.buffers, row.macs, row.flops, row.active


@pytest.mark.parametrize("name", TORCHVISION_NETS)
def test_import_equals_module_and_zoo(name, tmp_path):
    zoo = archcalc.analyze(name, batch=2)
    # `torchvision:NAME` defaults to the input of the bundled spec, read from the weights'
    # transforms without downloading them (regnet_y_128gf's first weights are evaluated at 384)
    assert default_input(torchvision_models(), name) == ((3, 384, 384) if name == "regnet_y_128gf" else zoo.input)
    with meta_construction():
        module = torchvision_model(name, **TORCHVISION_NETS[name]).eval()
    imported = import_module(module, zoo.input, name=name)
    report = analyze(imported.graph, batch=2)

    # the module itself, leaf by leaf and in total
    per_module, totals = measure(name, zoo.input, batch=2)
    rows = {row.name: row for row in report.rows}
    missing = [n for n in per_module if n not in rows]
    assert not missing, missing[:5]

    def ours(row):
        return row.params, row.buffers, tuple(row.output) if row.active else None, row.flops

    differences = [(n, ours(rows[n]), want) for n, want in per_module.items() if ours(rows[n]) != want]
    assert not differences, differences[:5]
    assert (report.total.params, report.total.buffers, report.total.flops) == totals
    assert report.output == zoo.output

    # the zoo spec, row by row: every module's row has the same figures under the same name, and
    # the rows are the same in all (a functional op is named after its fx node, which the zoo may
    # name otherwise: Inception's inner and outer concatenations, DenseNet's cat)
    zoo_rows = {row.name: row for row in zoo.rows}
    modules = {node.name for node in imported.graph.nodes if not node.functional}
    named = [(n, figures(r), figures(zoo_rows[n]) if n in zoo_rows else None) for n, r in rows.items()
             if n in modules and (n not in zoo_rows or figures(r) != figures(zoo_rows[n]))]
    assert not named, named[:5]
    assert sorted(map(figures, report.rows)) == sorted(map(figures, zoo.rows))

    # the written YAML, read back from a file
    path = tmp_path / f"{name}.yaml"
    path.write_text(imported.text)
    again = archcalc.analyze(str(path), batch=2)
    assert [(r.name, figures(r), r.formula, r.rf) for r in again.rows] == \
        [(r.name, figures(r), r.formula, r.rf) for r in report.rows]


def test_repeated_modules_are_written_once_as_blocks():
    with meta_construction():
        module = torchvision_model("resnet152").eval()
    text = import_module(module, (3, 224, 224), name="resnet152").text
    assert "blocks:" in text and "repeat: 35" in text  # layer3: one strided bottleneck, then 35 alike
    assert len(text.splitlines()) < 120


@pytest.mark.parametrize("name", ["lraspp_mobilenet_v3_large", "r3d_18"])
def test_a_segmentation_or_video_source_imports_without_weights(name, monkeypatch):
    """A segmentation builder loads ImageNet weights into its backbone unless told not to: the
    source passes weights_backbone=None (any state-dict load fails this test)."""
    from torchvision.models._api import WeightsEnum

    from archcalc.importing.sources import parse_source
    from archcalc.pytorch.fx_sources import build_source

    def refuse(*args, **kwargs):
        raise AssertionError("weights were loaded")

    monkeypatch.setattr(WeightsEnum, "get_state_dict", refuse)
    module, shape = build_source(parse_source(f"torchvision:{name}"))
    zoo = archcalc.analyze(name, batch=1)
    assert shape == tuple(zoo.input)
    report = analyze(import_module(module, shape, name=name).graph)
    assert (report.total.params, report.total.flops, report.output) == (zoo.total.params, zoo.total.flops, zoo.output)


def test_verify_reads_a_dict_output_and_skips_a_container_forward_never_calls():
    """`verify torchvision:deeplabv3_resnet50`: the net returns {'out': ...}, whose first tensor
    is the output; the ModuleList of ASPP branches is never called itself (FlopCounterMode
    charges its FLOPs to the branches, each checked), so its own FLOPs check is skipped."""
    from archcalc.pytorch.fx_verify import verify_import

    with meta_construction():
        module = torchvision_model("deeplabv3_resnet50", weights_backbone=None).eval()
    imported = import_module(module, (3, 97, 97), name="deeplabv3_resnet50")
    checks = verify_import(imported.graph, module).checks
    assert [c for c in checks if not c.ok] == []
    assert [c.layer for c in checks if c.skipped] == ["classifier.0.convs"]
    assert next(c for c in checks if (c.layer, c.quantity) == ("total", "output")).actual == (21, 97, 97)
    assert {"classifier.0.convs.0.0", "classifier.0.convs.4.1", "classifier.0.project.0"} <= {c.layer for c in checks}
