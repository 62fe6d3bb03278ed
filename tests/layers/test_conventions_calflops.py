"""calflops 0.3.2's FLOPs, counted by hand from calflops/pytorch_ops.py."""

from conventions_specs import counts, one_layer

# conv: 2 * 6912 MACs + 4 channels * 64 positions bias; bn 2 per element (eval, affine); relu and
# pool 1 per input element; linear 2 * 64 * 10 (the bias is not counted)
PER_SAMPLE = {"conv": 2 * 6912 + 256, "bn": 512, "relu": 256, "pool": 256, "flatten": 0, "fc": 1280}


def test_patched_functionals_whole_batch():
    assert counts("calflops") == PER_SAMPLE
    assert counts("calflops", batch=2) == {k: 2 * v for k, v in PER_SAMPLE.items()}
    # a functional F.relu is patched just as nn.ReLU's own call is
    assert counts("calflops", functional=frozenset({"relu"})) == PER_SAMPLE


def test_what_is_not_patched():
    assert counts("calflops", one_layer("type: relu6"))["x"] == 0  # nn.ReLU6 -> F.hardtanh
    assert counts("calflops", one_layer("type: relu6"), functional=frozenset({"x"}))["x"] == 256
    assert counts("calflops", one_layer("type: dropout"))["x"] == 0
    assert counts("calflops", one_layer("type: sigmoid"))["x"] == 0


def test_same_padding_uses_its_own_output_size():
    # 'same' with an even kernel: calflops pads (k - 1) // 2 = 0 a side, so 7 x 7 positions, not 8 x 8
    text = one_layer("type: conv2d, out_channels: 2, kernel_size: 2, padding: same, bias: false")
    assert counts("calflops", text)["x"] == 2 * (4 * 4 * 2) * 49


def test_upsample_with_a_size_counts_the_size_once_per_call():
    text = one_layer("type: upsample, size: [16, 16]")
    assert counts("calflops", text, batch=2)["x"] == 256
    assert counts("calflops", one_layer("type: upsample, scale_factor: 2"), batch=2)["x"] == 2 * 256


def test_the_new_types():
    from test_conventions_peers import new_type_counts

    # F.conv2d on the padded input: 2 * 144 * 25 + 4 * 25 bias; F.avg_pool2d reads the padded 4x6x6;
    # F.layer_norm / group_norm / instance_norm 5 per element with a weight; F.pad not patched
    per_sample = {"conv_tf": 7300, "avg_asym": 144, "ln": 500, "gn": 500, "inorm": 500, "ln_vec": 250}
    assert new_type_counts("calflops") == per_sample
    assert new_type_counts("calflops", batch=2) == {k: 2 * v for k, v in per_sample.items()}
