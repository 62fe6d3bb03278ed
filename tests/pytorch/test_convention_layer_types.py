"""Every layer type archcalc has, counted by torchinfo, fvcore and thop on the spec's PyTorch twin
(archcalc.to_torch: one module per layer, named as the spec names it) against `flops
--convention`: totals and per-module counts, at batch 1 and 3 (thop rounds adaptive average
pooling's count over the whole batch; 13 -> 6 bins make that kernel a fraction). One branch
(``dead``) feeds nothing: the hooks still count it, fvcore's trace drops it."""

import logging

import pytest

import archcalc
from archcalc.figures.conventions import convention_counts, resolve_conventions

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")
thop = pytest.importorskip("thop")
flop_count = pytest.importorskip("fvcore.nn")

SPEC = """
name: every_type
input: 3x26x26
layers:
  - {name: conv, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {name: bn, type: batchnorm2d}
  - {name: relu, type: relu}
  - {name: pool, type: maxpool2d, kernel_size: 2}
  - {name: grouped, type: conv2d, out_channels: 8, kernel_size: 3, padding: 1, groups: 4, bias: false}
  - {name: bn_plain, type: batchnorm2d, affine: false}
  - {name: relu6, type: relu6}
  - {name: leaky, type: leaky_relu}
  - {name: elu, type: elu}
  - {name: sigmoid, type: sigmoid}
  - {name: tanh, type: tanh}
  - {name: gelu, type: gelu}
  - {name: silu, type: silu}
  - {name: hardswish, type: hardswish}
  - {name: hardsigmoid, type: hardsigmoid}
  - {name: lrn, type: local_response_norm, size: 3}
  - {name: drop, type: dropout}
  - {name: same, type: identity}
  - {name: avg, type: avgpool2d, kernel_size: 3, stride: 1, padding: 1}
  - {name: soft, type: softmax}
  - {name: add, type: add, inputs: [avg, soft]}
  - {name: mul, type: mul, inputs: [add, lrn]}
  - {name: pad_zero, type: pad, padding: [1, 0, 2, 1]}
  - {name: pad_const, type: pad, padding: 1, value: 0.5}
  - {name: pad_reflect, type: pad, padding: 1, mode: reflect}
  - {name: pad_replicate, type: pad, padding: [0, 1], mode: replicate}
  - {name: pad_circular, type: pad, padding: 1, mode: circular}
  - {name: conv_same, type: conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: tf_same}
  - {name: conv_asym, type: conv2d, out_channels: 8, kernel_size: 3, padding: [2, 3, 1, 2], bias: false}
  - {name: pool_same, type: maxpool2d, kernel_size: 3, stride: 1, padding: tf_same}
  - {name: avg_asym, type: avgpool2d, kernel_size: 2, stride: 1, padding: [0, 1, 1, 0]}
  - {name: pool_asym, type: maxpool2d, kernel_size: 2, stride: 1, padding: [1, 0, 0, 1]}
  - {name: conv_same_even, type: conv2d, out_channels: 8, kernel_size: 3, padding: tf_same, bias: false}
  - {name: conv_torch_same, type: conv2d, out_channels: 8, kernel_size: 2, padding: same}
  - {name: ln, type: layernorm}
  - {name: ln_plain, type: layernorm, elementwise_affine: false}
  - {name: ln_no_bias, type: layernorm, bias: false}
  - {name: gn, type: groupnorm, num_groups: 2}
  - {name: gn_plain, type: groupnorm, num_groups: 4, affine: false}
  - {name: inorm, type: instancenorm2d}
  - {name: inorm_affine, type: instancenorm2d, affine: true}
  - {name: inorm_tracked, type: instancenorm2d, track_running_stats: true}
  - {name: scale, type: layer_scale}
  - {name: sdepth, type: stochastic_depth, p: 0.1}
  - {name: shuffle, type: channel_shuffle, groups: 2}
  - {name: part, type: slice, start: 0, end: 4}
  - {name: up_nearest, type: upsample, scale_factor: 2}
  - {name: down_nearest, type: conv2d, out_channels: 4, kernel_size: 2, stride: 2}
  - {name: dead, type: conv2d, out_channels: 4, kernel_size: 1, inputs: up_nearest}
  - {name: up_bilinear, type: upsample, scale_factor: 2, mode: bilinear, inputs: mul}
  - {name: down, type: conv2d, out_channels: 8, kernel_size: 2, stride: 2, inputs: up_bilinear}
  - {name: cat, type: concat, inputs: [mul, down, down_nearest]}
  - {name: tconv, type: conv_transpose2d, out_channels: 4, kernel_size: 3, stride: 2, padding: 1}
  - {name: tconv_plain, type: conv_transpose2d, out_channels: 4, kernel_size: 2, bias: false}
  - {name: adaptive_avg, type: adaptive_avgpool2d, output_size: 6, inputs: cat}
  - {name: adaptive_max, type: adaptive_maxpool2d, output_size: 4}
  - {name: gap, type: global_avgpool2d, inputs: tconv_plain}
  - {name: gmp, type: global_maxpool2d, inputs: adaptive_avg}
  - {name: cat2, type: concat, inputs: [gap, gmp]}
  - {name: flatten, type: flatten}
  - {name: fc, type: linear, out_features: 10}
  - {name: bn1d, type: batchnorm1d}
  - {name: fc2, type: linear, out_features: 5, bias: false}
  - {name: ln_vec, type: layernorm}
  - {name: unflat, type: reshape, shape: [5, 1, 1]}
  - {name: seq_in, type: flatten, inputs: cat}
  - {name: seq, type: reshape, shape: [20, 169]}
  - {name: conv1d, type: conv1d, out_channels: 8, kernel_size: 3, padding: 1}
  - {name: bn_seq, type: batchnorm1d}
  - {name: pool1d, type: maxpool1d, kernel_size: 2}
  - {name: avg1d, type: avgpool1d, kernel_size: 3, stride: 2, padding: 1}
  - {name: tconv1d, type: conv_transpose1d, out_channels: 4, kernel_size: 2, stride: 2}
  - {name: conv1d_same, type: conv1d, out_channels: 4, kernel_size: 4, padding: same, bias: false}
  - {name: adaptive_avg1d, type: adaptive_avgpool1d, output_size: 7}
  - {name: adaptive_max1d, type: adaptive_maxpool1d, output_size: 1}
  - {name: seq_out, type: flatten}
  - {name: vol_in, type: flatten, inputs: cat}
  - {name: vol, type: reshape, shape: [5, 4, 13, 13]}
  - {name: conv3d, type: conv3d, out_channels: 6, kernel_size: 3, padding: 1}
  - {name: bn3d, type: batchnorm3d}
  - {name: pool3d, type: maxpool3d, kernel_size: 2, stride: [1, 2, 2]}
  - {name: avg3d, type: avgpool3d, kernel_size: [1, 3, 3], stride: 1, padding: [0, 1, 1]}
  - {name: tconv3d, type: conv_transpose3d, out_channels: 4, kernel_size: 2, stride: 2, bias: false}
  - {name: adaptive_avg3d, type: adaptive_avgpool3d, output_size: [3, 5, 5]}
  - {name: adaptive_max3d, type: adaptive_maxpool3d, output_size: 1}
  - {name: vol_out, type: flatten}
  - {name: s2d, type: space_to_depth, block_size: 2, inputs: conv}
  - {name: std_conv_same, type: scaled_std_conv2d, out_channels: 8, kernel_size: 4, stride: 2, padding: tf_same, gamma: 1.7}
  - {name: beta, type: scale, factor: 0.5}
  - {name: std_conv, type: scaled_std_conv2d, out_channels: 8, kernel_size: 3, padding: 1, groups: 2, bias: false}
  - {name: skipinit, type: scale, learnable: true}
  - {name: blur, type: blurpool2d}
  - {name: blur5, type: blurpool2d, filter_size: 5, stride: 1, pad_mode: constant}
  - {name: nf_out, type: flatten}
  - {name: unflat_out, type: flatten, inputs: unflat}
  - {name: cl_in, type: conv2d, out_channels: 6, kernel_size: 1, inputs: cat}
  - {name: to_last, type: permute, dims: [0, 2, 3, 1]}
  - {name: ln_last, type: layernorm, over: last, eps: 1.0e-6}
  - {name: fc_last, type: linear, out_features: 12}
  - {name: gelu_last, type: gelu}
  - {name: fc_last2, type: linear, out_features: 6, bias: false}
  - {name: to_first, type: permute, dims: [0, 3, 1, 2]}
  - {name: ln_rows, type: layernorm, over: last}
  - {name: cl_out, type: flatten}
  - {name: branch_a, type: conv2d, out_channels: 4, kernel_size: 1, inputs: cat}
  - {name: branch_b, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1, inputs: cat}
  - {name: stacked, type: stack_maps, inputs: [branch_a, branch_b]}
  - {name: summed, type: channel_sum}
  - {name: rows, type: reshape, shape: [1, 4, -1], dim: 0, end_dim: 2}
  - {name: score, type: conv2d, out_channels: 1, kernel_size: 1, inputs: summed}
  - {name: cols, type: reshape, shape: [-1, 1], dim: 1, end_dim: 2}
  - {name: pooled, type: matmul, inputs: [rows, cols]}
  - {name: pooled_map, type: reshape, shape: [4, 1, 1], dim: 0, end_dim: 2}
  - {name: context, type: add, inputs: [summed, pooled_map]}
  - {name: context_out, type: flatten}
  - {name: tail, type: concat, inputs: [unflat_out, seq_out, vol_out, nf_out, cl_out, context_out]}
"""


def ours(convention, batch):
    report = archcalc.analyze_text(SPEC, batch=batch)
    return convention_counts(report, resolve_conventions(convention))[0]


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "every_type.yaml"
    path.write_text(SPEC)
    return archcalc.to_torch(str(path)).eval()


def leaves(model):
    return [n for n, m in model.named_modules() if not list(m.children())]


def test_the_spec_has_every_layer_type():
    from archcalc.layers.base import REGISTRY

    used = {row.type for row in archcalc.analyze_text(SPEC).rows}
    assert used == set(REGISTRY)


@pytest.mark.parametrize("batch", [1, 3])
def test_torchinfo_every_type(twin, batch):
    stats = torchinfo.summary(twin, input_size=(batch, 3, 26, 26), verbose=0)
    counted = ours("torchinfo", batch)
    assert counted.total == stats.total_mult_adds
    tool = {info.var_name: info.macs for info in stats.summary_list if info.is_leaf_layer and info.depth == 1}
    assert tool == {name: counted.layers.get(name, 0) for name in tool}


@pytest.mark.parametrize("batch", [1, 3])
def test_thop_every_type(twin, batch):
    total, _params, tree = thop.profile(twin, (torch.zeros(batch, 3, 26, 26),), verbose=False, ret_layer_info=True)
    counted = ours("thop", batch)
    assert counted.total == total
    assert {name: int(tree[name][0]) for name in leaves(twin)} == {name: counted.layers[name] for name in leaves(twin)}


@pytest.mark.parametrize("batch", [1, 3])
def test_fvcore_every_type(twin, batch):
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with torch.no_grad():
        analysis = flop_count.FlopCountAnalysis(twin, torch.zeros(batch, 3, 26, 26))
        analysis.unsupported_ops_warnings(False)
        analysis.tracer_warnings("none")
        total, per_module = analysis.total(), analysis.by_module()
    counted = ours("fvcore", batch)
    assert counted.total == total
    assert {name: per_module[name] for name in leaves(twin)} == {name: counted.layers[name] for name in leaves(twin)}


def test_the_dead_branch_counts_for_hooks_not_for_the_trace():
    assert ours("fvcore", 1).layers["dead"] == 0
    assert ours("thop", 1).layers["dead"] > 0 and ours("torchinfo", 1).layers["dead"] > 0
