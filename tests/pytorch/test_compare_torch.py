"""The shipped comparison specs agree with PyTorch (shapes, parameters, FLOPs, receptive fields)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from archcalc.cli import app

COMPARE = sorted((Path(__file__).resolve().parents[2] / "architectures" / "compare").glob("*.yaml"))


def test_the_course_comparisons_ship():
    assert {p.stem for p in COMPARE} >= {"bottleneck", "plain_3x3", "plain_two_3x3", "vgg_two_3x3", "vgg_one_5x5",
                                         "inception_naive", "inception_reduced", "fcn_dense", "fcn_conv"}


@pytest.mark.parametrize("spec", COMPARE, ids=lambda p: p.stem)
def test_comparison_spec_verifies_against_torch(spec):
    result = CliRunner().invoke(app, ["verify", str(spec)])
    assert result.exit_code == 0, result.output
    assert "agree with PyTorch" in result.output
