"""Typed shapes say how they are written: SPEC commands read --input as CxHxW, the one-liners as
HxWxC; --layout switches; a shape that looks like the other layout is refused unless --layout is
given; the layout read is said on stderr and in JSON (issue 13)."""

import json

import pytest
from typer.testing import CliRunner

from archcalc.cli import app
from archcalc.homework.notation import other_layout

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("args", [
    ("summary", "resnet18", "--input", "224x224x3"),
    ("params", "resnet50", "--input", "224x224x3", "-f", "json"),
    ("compare", "resnet18", "resnet34", "--input", "224x224x3"),
    ("memory", "resnet18", "--input", "224x224x3"),
    ("export", "resnet18", "--input", "224x224x3"),
])
def test_spec_commands_refuse_an_hwc_looking_input(args):
    result = run(*args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output == ("error: --input 224x224x3 looks like HxWxC (H=224 W=224 C=3) but reads as CxHxW "
                             "(C=224 H=224 W=3): write 3x224x224, or give --layout hwc (--layout chw if CxHxW is meant)\n")


def test_layout_hwc_reads_hwc_and_says_so():
    result = run("summary", "resnet18", "--input", "224x224x3", "--layout", "hwc", "-f", "json")
    assert result.exit_code == 0, result.output
    assert result.stderr == "input read as HxWxC: H=224 W=224 C=3\n"
    data = json.loads(result.stdout)
    assert data["input"] == [3, 224, 224] and data["layout"] == "hwc"
    assert data["read_input_as"] == "224x224x3 = H=224 W=224 C=3 (read as HxWxC)"
    assert data["total"]["params"] == 11_689_512


def test_explicit_chw_takes_the_shape_as_written():
    result = run("params", "lenet5", "--input", "64x64x1", "--layout", "chw", "-f", "json")
    # C=64 H=64 W=1: lenet's 5x5 kernel does not fit a width of 1 - the user's call, reported in one
    # line that shows the map as read (notes such as "input read as" only follow a success)
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert "does not fit a 64x1 input" in result.stderr


def test_chw_input_is_echoed_and_json_only_gains_keys():
    result = run("params", "resnet50", "--input", "3x448x320", "-f", "json")
    assert result.exit_code == 0 and result.stderr == "input read as CxHxW: C=3 H=448 W=320\n"
    data = json.loads(result.stdout)
    plain = json.loads(run("params", "resnet50", "-f", "json").stdout)
    assert set(data) - set(plain) == {"layout", "read_input_as"} and "layout" not in plain
    assert data["layout"] == "chw" and data["input"] == [3, 448, 320]


@pytest.mark.parametrize("shape", ["512x1x1", "1x28x28", "3x224x3", "1024"])
def test_shapes_that_read_fine_as_chw_pass(shape):
    assert other_layout(tuple(int(d) for d in shape.split("x")), "chw") is None


@pytest.mark.parametrize("shape, layout, other", [
    ("224x224x3", "chw", "hwc"), ("28x28x1", "chw", "hwc"), ("3x224x224", "hwc", "chw"), ("1x28x28", "hwc", "chw"),
])
def test_look_alikes(shape, layout, other):
    assert other_layout(tuple(int(d) for d in shape.split("x")), layout) == other


def test_one_liners_refuse_a_chw_looking_input():
    result = run("conv", "3x224x224", "--out", 8, "--kernel", 3)
    assert result.exit_code == 2
    assert result.output == ("error: input 3x224x224 looks like CxHxW (C=3 H=224 W=224) but reads as HxWxC "
                             "(H=3 W=224 C=224): write 224x224x3, or give --layout chw (--layout hwc if HxWxC is meant)\n")
    result = run("conv", "3x224x224", "--out", 8, "--kernel", 3, "--layout", "hwc")
    assert result.exit_code == 0 and "H=3 W=224 C=224 (read as HxWxC)" in result.output
    result = run("conv", "3x224x224", "--out", 8, "--kernel", 3, "--layout", "chw")
    assert result.exit_code == 0 and "output: 8x222x222" in result.output
    assert run("conv", "1x1x512", "--out", 10, "--kernel", 1).exit_code == 0  # a 1x1 map of 512 channels
    chain = run("chain", "3x32x32", "conv 3x3 4")
    assert chain.exit_code == 2 and "looks like CxHxW" in chain.output and "--layout chw" in chain.output


def test_a_bad_layout_is_one_line_even_without_input():
    for args in (("params", "lenet5", "--layout", "whc"), ("conv", "8x8x3", "--out", 2, "--kernel", 3, "--layout", "whc")):
        result = run(*args)
        assert result.exit_code == 2
        assert result.output == "error: --layout must be hwc (the course's HxWxC) or chw (PyTorch's CxHxW), got 'whc'\n"
