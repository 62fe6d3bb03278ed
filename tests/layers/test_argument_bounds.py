"""Every layer argument is bounded like the input (issue 13): sizes, channels, kernels, strides,
paddings, dilations, groups, features and factors at most 2^20; finite numbers where a number is
meant; no float silently made a huge integer."""

import math

import pytest

from archcalc.errors import SpecError
from archcalc.layers.args import MAX_SIZE
from archcalc.layers.base import REGISTRY
from archcalc.spec.shapes import MAX_DIM
from cli_checks import assert_clean_error, run_spec

# `inplace` is documented as accepted and ignored, whatever its value
IGNORED = {"inplace"}


def every_argument():
    for layer in REGISTRY.values():
        for arg in layer.args:
            if arg.name not in IGNORED:
                yield layer, arg


def is_integer_valued(arg) -> bool:
    try:
        value = arg.convert(3)
    except SpecError:
        return False
    return isinstance(value, int) and not isinstance(value, bool) or (
        isinstance(value, tuple) and all(isinstance(v, int) for v in value))


def test_the_bound_is_the_inputs():
    assert MAX_SIZE == MAX_DIM == 2**20


@pytest.mark.parametrize("layer, arg", [(l, a) for l, a in every_argument() if is_integer_valued(a)],
                         ids=lambda x: getattr(x, "name", ""))
def test_integer_arguments_stop_at_2_20(layer, arg):
    arg.convert(MAX_SIZE)
    arg.convert(float(MAX_SIZE))  # an integral float is the integer it equals
    for too_large in (MAX_SIZE + 1, 1e18, 10**18, 1e300, 100_000_000_000):
        with pytest.raises(SpecError, match="at most 1,048,576") as caught:
            arg.convert(too_large)
        assert len(caught.value.message) < 200
    for not_whole in (1.5, math.inf, -math.inf, math.nan):
        with pytest.raises(SpecError, match="must be an integer"):
            arg.convert(not_whole)


def test_integer_valued_arguments_are_the_expected_ones():
    found = {(l.name, a.name) for l, a in every_argument() if is_integer_valued(a)}
    assert found >= {("conv2d", n) for n in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups")}
    assert found >= {("conv_transpose2d", "output_padding"), ("linear", "out_features"), ("linear", "in_features"),
                     ("upsample", "scale_factor"), ("upsample", "size"), ("adaptive_avgpool2d", "output_size"),
                     ("local_response_norm", "size"), ("softmax", "dim"), ("batchnorm2d", "num_features"),
                     ("maxpool2d", "dilation"), ("avgpool2d", "padding")}


@pytest.mark.parametrize("layer, arg", list(every_argument()), ids=lambda x: getattr(x, "name", ""))
def test_no_argument_takes_infinity_or_nan(layer, arg):
    for value in (math.inf, -math.inf, math.nan):
        with pytest.raises(SpecError):
            arg.convert(value)


def is_number_valued(arg) -> bool:
    try:
        return arg.convert(0.25) == 0.25
    except SpecError:
        return False


def test_number_valued_arguments_are_the_expected_ones():
    found = {(l.name, a.name) for l, a in every_argument() if is_number_valued(a)}
    assert found == {("batchnorm2d", "eps"), ("batchnorm2d", "momentum"), ("pad", "value"), ("batchnorm1d", "eps"), ("batchnorm1d", "momentum"),
                     ("batchnorm3d", "eps"), ("batchnorm3d", "momentum"),
                     ("local_response_norm", "alpha"), ("local_response_norm", "beta"), ("local_response_norm", "k"),
                     ("leaky_relu", "negative_slope"), ("elu", "alpha"), ("dropout", "p"),
                     ("layernorm", "eps"), ("groupnorm", "eps"), ("instancenorm2d", "eps"), ("instancenorm2d", "momentum"),
                     ("layer_scale", "init"), ("stochastic_depth", "p"), ("scale", "factor"),
                     ("scaled_std_conv2d", "gamma"), ("scaled_std_conv2d", "eps"), ("scaled_std_conv2d", "gain_init")}


@pytest.mark.parametrize("layer, arg", [(l, a) for l, a in every_argument() if is_number_valued(a)],
                         ids=lambda x: getattr(x, "name", ""))
def test_number_arguments_must_be_finite(layer, arg):
    with pytest.raises(SpecError, match="finite"):
        arg.convert(math.inf)
    with pytest.raises(SpecError, match="finite"):
        arg.convert(10**400)  # an integer too large for a float
    assert arg.convert(0.25) == 0.25


SPEC = "input: 3x8x8\nlayers:\n  - {{name: x, type: {type}, {args}}}\n"


@pytest.mark.parametrize("type_, args, fragment", [
    ("conv2d", "out_channels: 1e18, kernel_size: 3", "'out_channels' of conv2d must be at most 1,048,576"),
    ("conv2d", "out_channels: 4, kernel_size: 3, padding: 100000000000", "'padding' of conv2d must be at most 1,048,576"),
    ("conv2d", "out_channels: 4.5, kernel_size: 3", "must be an integer, got the number 4.5"),
    ("conv2d", "out_channels: 4, kernel_size: 3, groups: 2097152", "'groups' of conv2d must be at most"),
    ("conv_transpose2d", "out_channels: 4, kernel_size: 100000000", "'kernel_size' of conv_transpose2d must be at most"),
    ("batchnorm2d", "eps: .inf", "'eps' of batchnorm2d must be a finite number"),
    ("batchnorm2d", "momentum: .nan", "'momentum' of batchnorm2d must be a finite number"),
    ("dropout", "p: .inf", "'p' of dropout must be a finite number"),
    ("leaky_relu", "negative_slope: -.inf", "'negative_slope' of leaky_relu must be a finite number"),
    ("elu", "alpha: .nan", "'alpha' of elu must be a finite number"),
    ("upsample", "scale_factor: 1048577", "'scale_factor' of upsample must be at most"),
    ("adaptive_avgpool2d", "output_size: [4, 2097152]", "'output_size' of adaptive_avgpool2d must be at most"),
])
def test_out_of_range_arguments_are_one_line(tmp_path, type_, args, fragment):
    assert_clean_error(run_spec(tmp_path, SPEC.format(type=type_, args=args)), "net.yaml:3:", "layer 'x'", fragment)


def test_padding_too_large_reads_well(tmp_path):
    message = assert_clean_error(run_spec(tmp_path, SPEC.format(type="conv2d", args="out: 4, kernel: 3, padding: 100000000000")))
    assert "at most 1,048,576, got 100,000,000,000" in message


def test_flat_vector_of_1e300_features_is_refused(tmp_path):
    text = "input: 3x8x8\nlayers:\n  - flatten\n  - {name: fc, type: linear, out_features: 1e300}\n"
    assert_clean_error(run_spec(tmp_path, text), "layer 'fc'", "at most 1,048,576")


def test_integral_floats_are_still_accepted(spec):
    report = spec("input: 3x8x8\nlayers:\n  - {type: conv2d, out_channels: 64.0, kernel_size: 3.0, padding: 1e0}\n")
    assert report.rows[0].output == (64, 8, 8)
