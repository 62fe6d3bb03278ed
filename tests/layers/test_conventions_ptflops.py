"""ptflops 0.7.5's two backends, counted by hand from ptflops/pytorch_ops.py and aten_ops.py."""

from archcalc.layers.conventions import lookup_convention

from conventions_specs import counts, one_layer

# per sample: conv 3*3*3*4 MACs at 64 positions + 256 bias; bn 2 per element (affine); relu and
# pool hooks 1 per output / input element; linear 64*10 + 10
HOOKS = {"conv": 6912 + 256, "bn": 512, "relu": 256, "pool": 256, "flatten": 0, "fc": 650}


def test_module_hooks_per_sample_and_patched_functionals_per_batch():
    # nn.ReLU -> F.relu and nn.MaxPool2d -> F.max_pool2d are patched: each counts its input again
    assert counts("ptflops") == {**HOOKS, "relu": 256 + 256, "pool": 256 + 256}
    # the hooks are divided by the batch, the patched functionals are not
    assert counts("ptflops", batch=2) == {**HOOKS, "relu": 256 + 2 * 256, "pool": 256 + 2 * 256}


def test_a_functional_call_counts_only_through_the_patch():
    assert counts("ptflops", batch=2, functional=frozenset({"relu", "pool"}))["relu"] == 2 * 256
    assert counts("ptflops", batch=2, functional=frozenset({"relu", "pool"}))["pool"] == 2 * 256
    # nn.ReLU6 calls F.hardtanh (not patched); F.relu6 is patched
    assert counts("ptflops", one_layer("type: relu6"))["x"] == 256
    assert counts("ptflops", one_layer("type: relu6"), functional=frozenset({"x"}))["x"] == 256
    # LeakyReLU's F.leaky_relu is not patched; the + operator is not either
    assert counts("ptflops", one_layer("type: leaky_relu"), batch=2)["x"] == 256


def test_ptflops_reports_one_sample_for_its_hooks():
    convention = lookup_convention("ptflops")
    assert convention.per_sample and convention.unit == "MACs"


def test_aten_backend_counts_convolution_and_addmm_for_the_whole_batch():
    assert counts("ptflops-aten") == {"conv": 6912 + 256, "bn": 0, "relu": 0, "pool": 0, "flatten": 0, "fc": 650}
    assert sum(counts("ptflops-aten", batch=2).values()) == 2 * (6912 + 256 + 650)


def test_transposed_conv_counts_per_input_position():
    text = one_layer("type: conv_transpose2d, out_channels: 2, kernel_size: 2, stride: 2, bias: false", "3x4x4")
    # k 2x2 * in 3 * out 2 per input position (16)
    assert counts("ptflops", text)["x"] == 4 * 3 * 2 * 16
    assert counts("ptflops-aten", text)["x"] == 4 * 3 * 2 * 16


def test_local_response_norm_counts_its_patched_tensor_ops():
    # input.mul(input), .mul(alpha), .add(k): 3 x 256; avg_pool3d over (4 + 5 - 1) x 8 x 8
    assert counts("ptflops", one_layer("type: local_response_norm, size: 5"))["x"] == 3 * 256 + 8 * 64


def test_the_new_types():
    from test_conventions_peers import new_type_counts

    # hooks by exact type: no PaddedConv2d / PaddedAvgPool2d / LayerNorm2d hook; GroupNorm and
    # InstanceNorm2d x2 when affine, nn.LayerNorm once (no `affine` attribute); the padded pool's
    # patched F.avg_pool2d reads the padded 4x6x6
    hooks = {"gn": 200, "inorm": 200, "ln_vec": 50}
    assert new_type_counts("ptflops") == {**hooks, "avg_asym": 144}
    assert new_type_counts("ptflops", batch=2) == {**hooks, "avg_asym": 2 * 144}
    assert new_type_counts("ptflops-aten") == {"conv_tf": 144 * 25 + 100}
