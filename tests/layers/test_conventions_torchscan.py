"""torchscan 0.2.0's module-formula FLOPs, counted by hand from torchscan/modules/flops.py."""

from conventions_specs import counts, one_layer

# conv: 256 outputs * (2 * 27 - 1 + 1); bn: 4 per element (eval, affine); relu 1 per element;
# maxpool 2: 64 outputs * (2 - 1), the int kernel taken as is; linear 10 * (2 * 64 - 1) + 10
PER_SAMPLE = {"conv": 256 * 54, "bn": 1024, "relu": 256, "pool": 64, "flatten": 0, "fc": 1270 + 10}


def test_module_formulas_whole_batch_and_batchnorm_per_call():
    assert counts("torchscan") == {**PER_SAMPLE, "bn": 1024 + 2 * 4}
    assert counts("torchscan", batch=2) == {**{k: 2 * v for k, v in PER_SAMPLE.items()}, "bn": 2 * 1024 + 2 * 4}


def test_functional_calls_are_not_seen():
    assert counts("torchscan", functional=frozenset({"relu", "pool"}))["relu"] == 0


def test_pooling_kernels():
    # a square kernel is torchvision's int: k - 1 comparisons per output, not k*k - 1
    assert counts("torchscan", one_layer("type: maxpool2d, kernel_size: 3, stride: 2"))["x"] == 4 * 3 * 3 * 2
    assert counts("torchscan", one_layer("type: maxpool2d, kernel_size: [2, 1]"))["x"] == 4 * 4 * 8 * 1
    assert counts("torchscan", one_layer("type: avgpool2d, kernel_size: 2"))["x"] == 4 * 4 * 4 * 3
    # adaptive: kernel in // out per axis (8 // 1), plus 2 for the division
    assert counts("torchscan", one_layer("type: global_avgpool2d"))["x"] == 4 * (64 - 1 + 2)
    # 8 -> 3 bins: 8 % 3 + 1 = 3 per axis
    assert counts("torchscan", one_layer("type: adaptive_avgpool2d, output_size: 3"))["x"] == 36 * (9 - 1 + 2)


def test_activations_and_unsupported_modules():
    assert counts("torchscan", one_layer("type: relu6"))["x"] == 2 * 256
    assert counts("torchscan", one_layer("type: sigmoid"))["x"] == 4 * 256
    assert counts("torchscan", one_layer("type: gelu"))["x"] == 0  # "Module type not supported"
    assert counts("torchscan", one_layer("type: dropout, p: 0.5"))["x"] == 256  # eval mode too
    assert counts("torchscan", one_layer("type: dropout, p: 0"))["x"] == 0


def test_transposed_conv_adds_its_padding_arithmetic_once_per_call():
    text = one_layer("type: conv_transpose2d, out_channels: 2, kernel_size: 2, stride: 2, bias: false", "3x4x4")
    # 2 x 8 x 8 outputs * (2 * (4 * 3) - 1), + 8 per spatial axis
    assert counts("torchscan", text, batch=2)["x"] == 2 * 128 * 23 + 16


def test_the_new_types():
    from test_conventions_peers import new_type_counts

    # conv 100 outputs * (2 * 36 - 1 + 1); avg pool (2, 2) taken as the int 2: 100 * (2 - 1 + 2);
    # flops_layernorm: 6 + weight + bias per element, 2 per row of C (25 rows on the map, 1 on the
    # vector); group and instance norm, pads, layer scale, slices: unsupported
    assert new_type_counts("torchscan") == {"conv_tf": 7200, "avg_asym": 300, "ln": 800 + 50, "ln_vec": 350 + 2}
