"""Per-side padding, TensorFlow's 'SAME' and the pad layer: shapes, fields and messages."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import archcalc
from archcalc.errors import ArchcalcError
from archcalc.layers.base import conv_output_size
from archcalc.layers.padding import padding_converter, side_pads, tf_same


def analyze(layers: str, input_shape: str = "3x224x224"):
    return archcalc.analyze_text(f"name: t\ninput: {input_shape}\nlayers:\n{layers}")


def test_padding_forms():
    convert = padding_converter("tf_same")
    assert convert(2) == (2, 2)
    assert convert([1, 3]) == (1, 3)
    assert convert([1, 1, 3, 3]) == (1, 3)  # symmetric: the pair it always was
    assert convert([0, 1, 2, 3]) == ((0, 1), (2, 3))
    assert convert("tf_same") == "tf_same"
    for bad, message in (([1, 2, 3], "3 values"), ("same", "tf_same"), (-1, "at least 0"), (1.5, "integer")):
        with pytest.raises(ArchcalcError, match=message):
            convert(bad)


@given(size=st.integers(1, 600), kernel=st.integers(1, 11), stride=st.integers(1, 5), dilation=st.integers(1, 3))
def test_tf_same_gives_tensorflows_output_size(size, kernel, stride, dilation):
    """TensorFlow's SAME: ceil(size / stride) outputs; the padding is what that needs, the odd
    pixel after; never negative."""
    before, after = tf_same(size, kernel, stride, dilation)
    assert 0 <= before <= after <= before + 1
    assert conv_output_size(size, kernel, stride, before, after, dilation) == math.ceil(size / stride)
    total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    assert before + after == total


def test_a_strided_tf_same_conv_pads_one_side_on_an_even_input():
    assert side_pads("tf_same", (3, 3), (2, 2), (1, 1), (224, 225)) == ((0, 1), (1, 1))
    row = analyze("  - {type: conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: tf_same}").rows[0]
    assert row.output == (8, 112, 112)
    assert row.rf.padding == (0, 0)  # the field follows the top/left side


def test_per_side_padding_shapes_and_field():
    report = analyze("  - {type: conv2d, out_channels: 4, kernel_size: 3, padding: [0, 2, 1, 0]}\n"
                     "  - {type: maxpool2d, kernel_size: 2, padding: [1, 0, 0, 1]}", "3x10x10")
    conv, pool = report.rows
    assert conv.output == (4, 10, 9)
    assert conv.rf.padding == (0, 1)
    assert pool.output == (4, 5, 5)
    assert pool.rf.padding == (1, 1)  # conv's (0, 1) + pool's (1, 0) x stride 1


def test_pad_layer():
    report = analyze("  - {type: pad, padding: [1, 2, 3, 4]}\n  - {type: pad, padding: 1, mode: reflect}", "2x5x6")
    assert [r.output for r in report.rows] == [(2, 8, 13), (2, 10, 15)]
    assert report.rows[0].rf.padding == (1, 3)
    assert report.total.params == report.total.flops == 0


@pytest.mark.parametrize("layer, message", [
    ("{type: pad, padding: 5, mode: reflect}", "reflect padding of 5 needs an input side of at least 6"),
    ("{type: pad, padding: 1, mode: replicate, value: 2}", "takes none"),
    ("{type: pad, padding: 1, mode: mirror}", "mode"),
    ("{type: conv2d, out_channels: 4, kernel_size: 3, stride: 2, padding: same}", "'tf_same' is TensorFlow's SAME"),
    ("{type: maxpool2d, kernel_size: 3, padding: 2}", "at most half the kernel"),
])
def test_padding_mistakes_are_one_clear_message(layer, message):
    with pytest.raises(ArchcalcError, match=message):
        analyze(f"  - {layer}", "3x5x5")


def mobilenet_v1(padding: str) -> str:
    """TF-Slim's MobileNetV1 trunk: a 3x3/2 conv, then 13 depthwise-separable blocks."""
    lines = [f"  - {{type: conv2d, out_channels: 32, kernel_size: 3, stride: 2, padding: {padding}, bias: false}}"]
    widths = (64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024)
    strides = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1)
    channels = 32
    for width, stride in zip(widths, strides):
        pad = padding if stride == 2 else 1
        lines.append(f"  - {{type: conv2d, out_channels: {channels}, kernel_size: 3, stride: {stride}, padding: {pad}, "
                     f"groups: {channels}, bias: false}}")
        lines.append(f"  - {{type: conv2d, out_channels: {width}, kernel_size: 1, bias: false}}")
        channels = width
    return "\n".join(lines)


def test_mobilenet_v1_trunk_field_is_tf_slims():
    """TF-Slim publishes an effective padding of 126 for MobileNetV1 at 224 ('SAME' puts no pixel
    on the top/left of a strided 3x3 on an even input); PyTorch's symmetric padding 1 gives 157."""
    tf = analyze(mobilenet_v1("tf_same")).final_rf
    torch_style = analyze(mobilenet_v1("1")).final_rf
    assert (tf.size, tf.stride, tf.padding) == ((315, 315), (32, 32), (126, 126))
    assert torch_style.padding == (157, 157) and torch_style.size == tf.size
