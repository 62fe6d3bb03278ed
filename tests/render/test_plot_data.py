"""What `archcalc plot` draws, as data (archcalc.render.plotdata; no matplotlib): values per layer
and per stage from the analysis, readable units, thinned labels, receptive-field series."""

from __future__ import annotations

from fractions import Fraction

import pytest

from archcalc import analyze, load
from archcalc.render.plotdata import (MAX_LABELS, byte_unit, count_unit, field_series, per_layer, stage_rows,
                                      thinned)


@pytest.fixture(scope="module")
def resnet50():
    return analyze(load("resnet50"))


def test_units_read_as_k_m_g():
    assert count_unit(25_557_032, "parameters") == count_unit(2e6, "parameters")
    assert count_unit(25_557_032, "parameters").name == "M parameters"
    assert count_unit(4_089_184_256 * 2, "FLOPs").name == "G FLOPs"
    assert count_unit(999, "FLOPs").scale == 1 and count_unit(1000, "").name == "K"
    assert byte_unit(3 << 20).name == "MiB" and byte_unit(3 << 20).scale == 1 << 20
    assert byte_unit(1023).name == "bytes"


@pytest.mark.parametrize("count", [0, 1, 5, MAX_LABELS, MAX_LABELS + 1, 175, 10_000])
def test_thinned_labels_are_few_even_and_keep_both_ends(count):
    picked = thinned(count)
    assert len(picked) <= MAX_LABELS and picked == sorted(set(picked))
    if count:
        assert picked[0] == 0 and picked[-1] == count - 1
    if count <= MAX_LABELS:
        assert picked == list(range(count))
    else:
        gaps = {b - a for a, b in zip(picked, picked[1:-1])}
        assert len(gaps) == 1


def test_per_layer_values_are_the_rows_and_stages_sum_them(resnet50):
    for kind, value in (("params", lambda r: r.params), ("flops", lambda r: r.flops),
                        ("activations", lambda r: r.activations * 4)):
        data = per_layer(resnet50, kind)
        assert data.names == [r.name for r in resnet50.rows]
        assert data.values == [value(r) for r in resnet50.rows]
        # ResNet's stages: the top-level groups layer1..layer4 between single layers
        assert data.stages == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                               "avgpool", "flatten", "fc"]
        assert data.grouped == [name.startswith("layer") for name in data.stages]
        for index, stage in enumerate(data.stages):
            members = [v for v, s in zip(data.values, data.stage_of) if s == index]
            assert data.stage_values[index] == sum(members)
        assert sum(data.stage_values) == sum(data.values)
    assert per_layer(resnet50, "params").unit.name == "M parameters"


def test_stages_of_densenet_are_its_blocks_and_transitions():
    rows, depth = stage_rows(analyze(load("densenet169")))
    assert depth == 2
    groups = [r.name for r in rows if r.folded > 1]
    assert groups == [f"features.{kind}{i}" for i in (1, 2, 3, 4) for kind in ("denseblock", "transition") if
                      not (kind == "transition" and i == 4)]


def test_a_chain_of_thousands_of_units_has_no_stage_panel(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from big_specs import chain_spec

    spec = tmp_path / "chain.yaml"
    spec.write_text(chain_spec(2_000, written_out=False))
    data = per_layer(analyze(load(str(spec))), "params")
    assert data.stage_values == [] and set(data.stage_of) == {-1} and len(data.names) == 2_000
    assert len(data.labelled) <= MAX_LABELS


def test_a_net_without_groups_is_drawn_per_layer_only(tmp_path):
    spec = tmp_path / "flat.yaml"
    spec.write_text("name: flat\ninput: 1x8x8\nlayers:\n  - {name: c, type: conv2d, out_channels: 2, kernel_size: 3}\n"
                    "  - {name: r, type: relu}\n")
    data = per_layer(analyze(load(str(spec))), "flops")
    assert data.stage_values == [] and data.stages == [] and data.stage_of == [-1, -1]


def test_lenet_stages_are_its_conv_groups():
    data = per_layer(analyze(load("lenet5")), "params")
    assert [s for s, grouped in zip(data.stages, data.grouped) if grouped] == ["c1", "c3"]


def test_field_series_follows_the_analysis(resnet50):
    series = field_series(resnet50)
    assert series.axes == ("height and width",) and series.input_size == (224,)
    for index, row in enumerate(resnet50.rows):
        if row.rf.kind == "field":
            assert series.sizes[index] == (row.rf.size[0],)
            assert series.strides[index] == (float(Fraction(row.rf.stride[0])),)
        else:
            assert index in series.whole and series.sizes[index] == (224,)
    assert series.sizes[-1] == (224,) and max(s[0] for s in series.sizes) == 427


def test_field_series_keeps_both_axes_when_they_differ(tmp_path):
    spec = tmp_path / "wide.yaml"
    spec.write_text("name: wide\ninput: 1x20x40\nlayers:\n"
                    "  - {name: c, type: conv2d, out_channels: 2, kernel_size: [3, 5], stride: [1, 2]}\n"
                    "  - {name: p, type: maxpool2d, kernel_size: 2}\n")
    series = field_series(analyze(load(str(spec))))
    assert series.axes == ("height", "width") and series.input_size == (20, 40)
    assert series.sizes == [(3, 5), (4, 7)]
    assert series.strides == [(1.0, 2.0), (2.0, 4.0)]
