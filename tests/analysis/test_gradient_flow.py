"""Backward FLOPs in the analysis: each layer type's two parts (gradient w.r.t. the input and
w.r.t. the weights, archcalc.layers) and which of them autograd computes (archcalc.analysis.backward).
tests/pytorch/test_backward.py proves the same figures against FlopCounterMode."""

import pytest
from conftest import row

from archcalc.layers.base import REGISTRY


def rows(spec, text, batch=1):
    report = spec(f"input: 8x10x10\nbatch: {batch}\n{text}")
    return report, {r.name: r for r in report.rows}


def test_conv_input_gradient_is_the_forward_and_weight_gradient_ignores_groups(spec):
    # x reads the net input (no input gradient); y's input depends on x's weights
    report, r = rows(spec, "layers:\n- {name: x, type: conv2d, out: 8, k: 3, padding: 1}\n"
                           "- {name: y, type: conv2d, out: 16, k: 3, groups: 4, stride: 2}", batch=3)
    assert (r["x"].backward_input_flops, r["x"].backward_weight_flops) == (0, r["x"].flops)
    assert not r["x"].input_needs_grad and r["y"].input_needs_grad
    assert r["y"].backward_input_flops == r["y"].flops == 3 * 2 * 3 * 3 * 2 * 16 * 4 * 4
    assert r["y"].backward_weight_flops == 4 * r["y"].flops  # FlopCounterMode: all channel pairs
    t = report.total
    assert t.backward_flops == t.backward_input_flops + t.backward_weight_flops == 5 * r["y"].flops + r["x"].flops
    assert t.train_flops == t.flops + t.backward_flops


def test_transposed_conv_and_linear(spec):
    _, r = rows(spec, "layers:\n- {name: s, type: conv2d, out: 8, k: 1}\n"
                      "- {name: t, type: conv_transpose2d, out: 4, k: 3, stride: 2, groups: 2}\n"
                      "- flatten\n- {name: fc, type: linear, out: 5}")
    assert r["t"].backward_input_flops == r["t"].flops == 2 * 8 * (4 // 2) * 9 * 100
    assert r["t"].backward_weight_flops == 2 * r["t"].flops
    assert r["fc"].backward_input_flops == r["fc"].backward_weight_flops == r["fc"].flops


def test_frozen_layers_compute_no_weight_gradient_and_a_frozen_stem_needs_no_input_gradient(spec):
    _, r = rows(spec, "layers:\n- {name: stem, type: conv2d, out: 8, k: 3, trainable: false}\n"
                      "- {name: bn, type: batchnorm2d, trainable: false}\n- relu\n"
                      "- {name: a, type: conv2d, out: 8, k: 3}\n"
                      "- {name: frozen, type: conv2d, out: 8, k: 3, trainable: false}\n- {name: b, type: conv2d, out: 8, k: 1}")
    assert r["stem"].backward_flops == 0 and r["bn"].backward_flops == 0  # nothing upstream needs a gradient
    assert not r["a"].input_needs_grad and r["a"].backward_flops == r["a"].flops  # weights only
    assert r["frozen"].input_needs_grad and (r["frozen"].backward_input_flops, r["frozen"].backward_weight_flops) == (r["frozen"].flops, 0)
    assert r["b"].backward_flops == 2 * r["b"].flops


def test_parameter_free_stem_and_a_join_of_a_branch_with_and_without_gradient(spec):
    _, r = rows(spec, "layers:\n- {name: pool, type: maxpool2d, k: 2}\n- {name: up, type: upsample, scale: 2}\n"
                      "- {name: c, type: conv2d, out: 8, k: 3, padding: 1}\n"
                      "- {name: join, type: add, inputs: [c, up]}\n- {name: d, type: conv2d, out: 8, k: 1}")
    assert not r["pool"].input_needs_grad and not r["up"].input_needs_grad and not r["c"].input_needs_grad
    assert r["c"].backward_input_flops == 0 and r["c"].backward_weight_flops == r["c"].flops
    assert r["join"].input_needs_grad and r["d"].backward_flops == 2 * r["d"].flops


def test_layers_the_output_does_not_use_run_no_backward(spec):
    report, r = rows(spec, "output: main\nlayers:\n- {name: main, type: conv2d, out: 8, k: 3}\n"
                           "- {name: after, type: conv2d, out: 8, k: 3}\n- {name: side, type: conv2d, out: 8, k: 1, inputs: input}")
    assert r["main"].backward_flops == r["main"].flops
    assert r["after"].input_needs_grad and r["after"].backward_flops == 0 and r["side"].backward_flops == 0
    assert report.total.backward_flops == r["main"].flops


def test_a_net_without_trainable_parameters_has_no_backward(spec):
    report, _ = rows(spec, "layers:\n- {type: conv2d, out: 8, k: 3, trainable: false}\n- relu\n- gap")
    assert report.total.backward_flops == 0 and report.total.train_flops == report.total.flops


def test_fold_sums_the_backward_parts(spec):
    from archcalc.analysis import fold

    report = spec("input: 3x8x8\nlayers:\n- {type: conv2d, out: 4, k: 3}\n- name: block\n  layers:\n"
                  "  - {type: conv2d, out: 4, k: 3}\n  - {type: conv2d, out: 4, k: 1}\n")
    block = next(r for r in fold(report, 1) if r.name == "block")
    inner = [r for r in report.rows if r.name.startswith("block.")]
    assert block.backward_input_flops == sum(r.backward_input_flops for r in inner) > 0
    assert block.backward_weight_flops == sum(r.backward_weight_flops for r in inner) > 0


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_layer_type_states_its_backward_rule(name):
    rule = REGISTRY[name].backward_rule
    assert rule and ("0" in rule or "FLOPs" in rule)


def test_only_convolutions_and_dense_layers_count_backward_flops(spec):
    """Every other type's backward runs no op FlopCounterMode counts (tests/pytorch proves it)."""
    report = spec("input: 3x8x8\nlayers:\n- {type: conv2d, out: 4, k: 3, padding: 1}\n- bn\n- relu\n- {type: maxpool2d, k: 2}\n"
                  "- {type: upsample, scale: 2, mode: bilinear}\n- {type: local_response_norm, size: 3}\n- gap\n- flatten\n"
                  "- {type: linear, out: 2}\n- {type: softmax}")
    counted = {r.type for r in report.rows if r.backward_flops}
    assert counted == {"conv2d", "linear"}
    assert row(report, report.rows[1].name).input_needs_grad


def test_counting_doc_resnet50_figures():
    """docs/counting.md's example: the figures, and a frozen stem saving exactly its weight gradient."""
    import archcalc

    graph = archcalc.load("resnet50")
    t = archcalc.analyze(graph).total
    assert (t.flops, t.backward_input_flops, t.backward_weight_flops, t.train_flops) == (
        8_178_368_512, 7_942_340_608, 8_178_368_512, 24_299_077_632)
    graph.nodes[0].trainable = False  # conv1
    frozen = archcalc.analyze(graph).total
    assert t.train_flops - frozen.train_flops == 236_027_904 == t.flops - t.backward_input_flops
