"""Issue 9, dimensions: CxL sequences (conv1d, 1-D pooling, batchnorm1d over channels) and
CxTxHxW volumes (conv3d, 3-D pooling, batchnorm3d), with a receptive field per axis. Shapes,
parameters, counts and fields against hand-computed values (tests/pytorch/test_verify.py proves
the same against PyTorch, tests/pytorch/test_zoo_torchvision.py r3d_18 against torchvision)."""

import pytest
from conftest import row

import archcalc
from archcalc.errors import ArchcalcError
from archcalc.render.cells import rf_cells
from archcalc.spec.shapes import parse_shape


def one(spec, input_shape, layer):
    return row(spec(f"input: {input_shape}\nlayers: [{{name: x, {layer}}}]"), "x")


def field(r):
    return r.rf.size, tuple(int(s) for s in r.rf.stride), tuple(int(p) for p in r.rf.padding)


# --------------------------------------------------------------------------- input shapes
@pytest.mark.parametrize("text, shape", [
    ("64x1000", (64, 1000)), ([64, 1000], (64, 1000)), ({"channels": 64, "length": 1000}, (64, 1000)),
    ("3x16x112x112", (3, 16, 112, 112)), ({"c": 3, "time": 16, "h": 112, "w": 112}, (3, 16, 112, 112)),
    ("3x224x224", (3, 224, 224)), ([4096], (4096,)), (4096, (4096,)),
])
def test_two_and_four_numbers_are_cxl_and_cxtxhxw(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text", ["3x8x8x8x8", {"channels": 3, "length": 8, "height": 8}, {"channels": 3, "time": 4}])
def test_other_shapes_are_refused(text):
    with pytest.raises(ArchcalcError):
        parse_shape(text)


# --------------------------------------------------------------------------- 1-D
def test_conv1d(spec):
    r = one(spec, "16x100", "type: conv1d, out: 32, kernel: 5, stride: 2, padding: 2, groups: 4")
    assert r.output == (32, 50) and r.params == 5 * 4 * 32 + 32
    assert r.macs == 5 * 4 * 32 * 50 and r.flops == 2 * r.macs and r.ops == 2 * r.macs + 32 * 50
    # it reads the net input: no input gradient; the weight gradient is groups x FLOPs, as conv2d's
    assert r.backward_input_flops == 0 and r.backward_weight_flops == 4 * r.flops
    assert field(r) == ((5,), (2,), (2,)) and rf_cells(r.rf) == ("5", "2", "2")
    same = one(spec, "16x100", "type: conv1d, out: 8, kernel: 4, padding: same, dilation: 3")
    assert same.output == (8, 100) and field(same) == ((10,), (1,), (4,))


def test_conv_transpose1d_and_pools(spec):
    report = spec("""
        input: 8x20
        layers:
          - {name: up, type: conv_transpose1d, out: 4, kernel: 3, stride: 2, padding: 1, output_padding: 1}
          - {name: mp, type: maxpool1d, kernel: 3, stride: 2, padding: 1}
          - {name: ap, type: avgpool1d, kernel: 2}
          - {name: aap, type: adaptive_avgpool1d, size: 3}
          - {name: amp, type: adaptive_maxpool1d, size: 1}
    """)
    up, mp, ap, aap, amp = (row(report, n) for n in ("up", "mp", "ap", "aap", "amp"))
    assert up.output == (4, 40) and up.params == 8 * 4 * 3 + 4 and up.macs == 8 * 4 * 3 * 20
    assert mp.output == (4, 20) and mp.ops == 4 * 20 * 2 and mp.params == 0
    assert ap.output == (4, 10) and ap.ops == 4 * 10 * 2
    assert aap.output == (4, 3) and aap.ops == 4 * (10 + 3 - 1)
    assert amp.output == (4, 1) and amp.rf.kind == "whole"
    assert up.rf.axes[0].stride == 0.5 and len(mp.rf.axes) == 1


def test_batchnorm1d_over_the_channels_of_a_sequence(spec):
    r = one(spec, "16x50", "type: batchnorm1d")
    assert r.output == (16, 50) and r.params == 32 and r.buffers == 33 and r.ops == 2 * 16 * 50
    assert one(spec, "[16]", "type: batchnorm1d").params == 32  # a flat vector, as before
    with pytest.raises(ArchcalcError, match="use batchnorm2d on a 3-d feature map"):
        one(spec, "16x5x5", "type: batchnorm1d")


# --------------------------------------------------------------------------- 3-D
def test_conv3d_field_is_per_axis(spec):
    r = one(spec, "3x16x112x112", "type: conv3d, out: 64, kernel: [3, 7, 7], stride: [1, 2, 2], padding: [1, 3, 3], "
                                  "bias: false")
    assert r.output == (64, 16, 56, 56) and r.params == 3 * 7 * 7 * 3 * 64
    assert r.macs == 3 * 7 * 7 * 3 * 64 * 16 * 56 * 56 and r.flops == 2 * r.macs
    assert field(r) == ((3, 7, 7), (1, 2, 2), (1, 3, 3))
    assert rf_cells(r.rf) == ("3x7x7", "1x2x2", "1x3x3")


def test_conv_transpose3d_batchnorm3d_and_pools(spec):
    report = spec("""
        input: 4x4x8x8
        layers:
          - {name: bn, type: batchnorm3d}
          - {name: up, type: conv_transpose3d, out: 2, kernel: [1, 2, 2], stride: [1, 2, 2]}
          - {name: mp, type: maxpool3d, kernel: 2, stride: 2}
          - {name: ap, type: avgpool3d, kernel: [1, 3, 3], stride: 1, padding: [0, 1, 1]}
          - {name: aap, type: adaptive_avgpool3d, size: [1, 4, null]}
          - {name: amp, type: adaptive_maxpool3d, size: 1}
    """)
    bn, up, mp, ap, aap, amp = (row(report, n) for n in ("bn", "up", "mp", "ap", "aap", "amp"))
    assert bn.params == 8 and bn.buffers == 9 and bn.output == (4, 4, 8, 8)
    assert up.output == (2, 4, 16, 16) and up.params == 4 * 2 * 4 + 2 and up.macs == 4 * 2 * 4 * 4 * 8 * 8
    assert mp.output == (2, 2, 8, 8) and mp.ops == 2 * 2 * 8 * 8 * 7
    assert ap.output == (2, 2, 8, 8) and ap.ops == 2 * 2 * 8 * 8 * 9
    assert aap.output == (2, 1, 4, 8) and amp.output == (2, 1, 1, 1) and amp.rf.kind == "whole"
    assert field(mp) == ((2, 1, 1), (2, 1, 1), (0, 0, 0))  # in H and W both taps come from one input


def test_mismatched_ranks_are_one_clear_error(spec):
    with pytest.raises(ArchcalcError, match="conv3d needs a CxTxHxW volume, got a CxHxW feature map 3x8x8"):
        one(spec, "3x8x8", "type: conv3d, out: 4, kernel: 3")
    with pytest.raises(ArchcalcError, match="conv2d needs a CxHxW feature map, got a CxL sequence 3x8"):
        one(spec, "3x8", "type: conv2d, out: 4, kernel: 3")
    with pytest.raises(ArchcalcError, match="maxpool1d needs a CxL sequence, got a flat vector of 8 features"):
        one(spec, "[8]", "type: maxpool1d, kernel: 2")
    with pytest.raises(ArchcalcError, match=r"must be one integer or \[t, h, w\], got 2 values"):
        one(spec, "3x8x8x8", "type: conv3d, out: 4, kernel: [3, 3]")
    with pytest.raises(ArchcalcError, match="output would be empty: conv kernel 3x9x9 does not fit a 4x8x8 input"):
        one(spec, "3x4x8x8", "type: conv3d, out: 4, kernel: [3, 9, 9]")


def test_r3d_18_fields_and_other_sizes():
    report = archcalc.analyze("r3d_18")
    assert report.input == (3, 16, 112, 112) and report.output == (400,) and report.total.params == 33_371_472
    layer4 = row(report, "layer4.1.relu")
    assert layer4.output == (512, 2, 7, 7) and rf_cells(layer4.rf)[0] == "109x219x219"
    longer = archcalc.analyze("r3d_18", input_shape="3x32x160x160")
    assert row(longer, "layer4.1.relu").output == (512, 4, 10, 10) and longer.total.params == report.total.params


def test_cli_reads_cxl_and_cxtxhxw_inputs():
    from typer.testing import CliRunner

    from archcalc.cli import app

    runner = CliRunner()
    for command in ("rf", "summary"):
        result = runner.invoke(app, [command, "r3d_18", "--input", "3x32x112x112"])
        assert result.exit_code == 0, result.output
        assert "Input 3x32x112x112 (CxTxHxW)" in result.output and "512x4x7x7" in result.output
    result = runner.invoke(app, ["rf", "r3d_18", "--input", "3x16x112x112", "--format", "json"])
    final = __import__("json").loads(result.stdout)["layers"][-4]
    assert final["name"] == "layer4.1.relu" and final["rf"] == {"size": [109, 219, 219], "stride": [8, 16, 16],
                                                                 "padding": [54, 109, 109]}
    result = runner.invoke(app, ["rf", "r3d_18", "--input", "3x16x112x112", "--layout", "hwc"])
    assert result.exit_code == 2 and "written channels first" in result.stderr
    result = runner.invoke(app, ["rf", "r3d_18", "--input", "3x112x112"])  # a 2-D input to a 3-D net
    assert result.exit_code == 2 and "conv3d needs a CxTxHxW volume, got a CxHxW feature map" in result.stderr
