"""Every bundled spec: its parameter count and output shape (published figures), its layer names
(torchvision's state_dict key prefixes) and the figures the course notes quote."""

from fractions import Fraction

import pytest

import archcalc
from archcalc.spec.bundled import bundled

# name -> (parameters, output shape). torchvision's published counts where the net is torchvision's.
EXPECTED = {
    "alexnet": (61_100_840, (1000,)),
    "alexnet_lecture": (200_425_832, (1000,)),
    "alexnet_paper": (60_965_224, (1000,)),
    "densenet121": (7_978_856, (1000,)),
    "densenet169": (14_149_480, (1000,)),
    "fcn32s": (136_152_917, (21, 224, 224)),
    # torchvision's segmentation nets without their aux heads (aux_loss=None, its default)
    "fcn_resnet50": (32_957_013, (21, 520, 520)),
    "deeplabv3_resnet50": (39_638_869, (21, 520, 520)),
    "lraspp_mobilenet_v3_large": (3_221_538, (21, 520, 520)),
    "googlenet": (13_004_888, (1000,)),  # with its auxiliary heads, as torchvision builds it
    "inception_v3": (27_161_264, (1000,)),
    "lenet5": (61_706, (10,)),
    "mobilenet_v2": (3_504_872, (1000,)),
    "resnet18": (11_689_512, (1000,)),
    "resnet34": (21_797_672, (1000,)),
    "resnet50": (25_557_032, (1000,)),
    "resnet101": (44_549_160, (1000,)),
    "resnet152": (60_192_808, (1000,)),
    "rpn_vgg16": (17_102_198, (54, 14, 14)),
    "squeezenet1_0": (1_248_424, (1000,)),
    "squeezenet1_1": (1_235_496, (1000,)),
    "vgg11": (132_863_336, (1000,)),
    "vgg13": (133_047_848, (1000,)),
    "vgg16": (138_357_544, (1000,)),
    "vgg16_bn": (138_365_992, (1000,)),
    "vgg19": (143_667_240, (1000,)),
    "yolov1": (271_703_550, (30, 7, 7)),
    # the zoo of torchvision's CNNs (issue 9): torchvision's published num_params of its weights
    "densenet161": (28_681_000, (1000,)),
    "densenet201": (20_013_928, (1000,)),
    "efficientnet_b0": (5_288_548, (1000,)),
    "efficientnet_b1": (7_794_184, (1000,)),
    "efficientnet_b2": (9_109_994, (1000,)),
    "efficientnet_b3": (12_233_232, (1000,)),
    "efficientnet_b4": (19_341_616, (1000,)),
    "efficientnet_b5": (30_389_784, (1000,)),
    "efficientnet_b6": (43_040_704, (1000,)),
    "efficientnet_b7": (66_347_960, (1000,)),
    "efficientnet_v2_l": (118_515_272, (1000,)),
    "efficientnet_v2_m": (54_139_356, (1000,)),
    "efficientnet_v2_s": (21_458_488, (1000,)),
    "mnasnet0_5": (2_218_512, (1000,)),
    "mnasnet0_75": (3_170_208, (1000,)),
    "mnasnet1_0": (4_383_312, (1000,)),
    "mnasnet1_3": (6_282_256, (1000,)),
    "mobilenet_v3_large": (5_483_032, (1000,)),
    "mobilenet_v3_small": (2_542_856, (1000,)),
    "regnet_x_16gf": (54_278_536, (1000,)),
    "regnet_x_1_6gf": (9_190_136, (1000,)),
    "regnet_x_32gf": (107_811_560, (1000,)),
    "regnet_x_3_2gf": (15_296_552, (1000,)),
    "regnet_x_400mf": (5_495_976, (1000,)),
    "regnet_x_800mf": (7_259_656, (1000,)),
    "regnet_x_8gf": (39_572_648, (1000,)),
    "regnet_y_128gf": (644_812_894, (1000,)),
    "regnet_y_16gf": (83_590_140, (1000,)),
    "regnet_y_1_6gf": (11_202_430, (1000,)),
    "regnet_y_32gf": (145_046_770, (1000,)),
    "regnet_y_3_2gf": (19_436_338, (1000,)),
    "regnet_y_400mf": (4_344_144, (1000,)),
    "r3d_18": (33_371_472, (400,)),
    "convnext_tiny": (28_589_128, (1000,)), "convnext_small": (50_223_688, (1000,)),
    "convnext_base": (88_591_464, (1000,)), "convnext_large": (197_767_336, (1000,)),  # published; a video net over 3x16x112x112 clips
    "regnet_y_800mf": (6_432_512, (1000,)),
    "regnet_y_8gf": (39_381_472, (1000,)),
    "resnext101_32x8d": (88_791_336, (1000,)),
    "resnext101_64x4d": (83_455_272, (1000,)),
    "resnext50_32x4d": (25_028_904, (1000,)),
    "shufflenet_v2_x0_5": (1_366_792, (1000,)),
    "shufflenet_v2_x1_0": (2_278_604, (1000,)),
    "shufflenet_v2_x1_5": (3_503_624, (1000,)),
    "shufflenet_v2_x2_0": (7_393_996, (1000,)),
    "vgg11_bn": (132_868_840, (1000,)),
    "vgg13_bn": (133_053_736, (1000,)),
    "vgg19_bn": (143_678_248, (1000,)),
    "wide_resnet101_2": (126_886_696, (1000,)),
    "wide_resnet50_2": (68_883_240, (1000,)),
}

_REPORTS = {}


def report(name):
    if name not in _REPORTS:
        _REPORTS[name] = archcalc.analyze(name)
    return _REPORTS[name]


def keys(name):
    """state_dict-style keys of the spec's parameters: 'layer1.0.conv1.weight', ..."""
    return {f"{r.name}.{t.name}" for r in report(name).rows for t in r.param_tensors}


def weights(name, layer):
    return next(r for r in report(name).rows if r.name == layer).weights


def test_every_bundled_spec_has_expected_figures():
    assert set(bundled()) == set(EXPECTED), "add new bundled nets to EXPECTED (and docs/zoo.md)"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parameter_count_and_output_shape(name):
    params, output = EXPECTED[name]
    rep = report(name)
    assert rep.total.params == params
    assert rep.total.trainable == params
    assert tuple(rep.output) == output


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_spec_header_states_source_and_count(name):
    text = bundled()[name].read_text()
    header = "".join(line for line in text.splitlines() if line.startswith("#"))
    assert f"{EXPECTED[name][0]:,}" in header, "the header comment must state the parameter count"


def test_alexnet_lecture_weights_match_the_course_table():
    layers = [r for r in report("alexnet_lecture").rows if r.params]
    assert [r.weights for r in layers] == [
        34_848, 307_200, 884_736, 663_552, 442_368, 177_209_344, 16_777_216, 4_096_000,
    ]
    # conv2/4/5 are the lecture's "x2": one group per GPU
    grouped = [n.name for n in archcalc.load("alexnet_lecture").nodes if n.args.get("groups") == 2]
    assert grouped == ["layer2.conv", "layer4.conv", "layer5.conv"]
    flatten = next(r for r in report("alexnet_lecture").rows if r.name == "flatten")
    assert flatten.output == (13 * 13 * 256,)


def test_alexnet_paper_grouped_convs_lrn_and_6x6_into_fc6():
    rep = report("alexnet_paper")
    assert weights("alexnet_paper", "fc6.fc") == 6 * 6 * 256 * 4096 == 37_748_736
    assert weights("alexnet_paper", "conv2.conv") == 5 * 5 * 48 * 256  # groups=2
    assert weights("alexnet_paper", "conv4.conv") == 3 * 3 * 192 * 384
    assert weights("alexnet_paper", "conv5.conv") == 3 * 3 * 192 * 256
    assert weights("alexnet_paper", "conv3.conv") == 3 * 3 * 256 * 384  # reads both GPUs
    assert [r.name for r in rep.rows if r.type == "local_response_norm"] == ["conv1.lrn", "conv2.lrn"]
    assert next(r for r in rep.rows if r.name == "pool5").output == (256, 6, 6)


def test_vgg16_receptive_field_after_last_maxpool():
    row = next(r for r in report("vgg16").rows if r.name == "features.30")
    assert row.type == "maxpool2d" and row.output == (512, 7, 7)
    assert row.rf.size == (212, 212)
    assert row.rf.stride == (32, 32)
    assert row.rf.padding == (90, 90)


def test_rpn_outputs_54_values_per_location_with_the_papers_228_field():
    rep = report("rpn_vgg16")
    assert rep.output[0] == 9 * (2 + 4) == 54
    assert rep.final_rf.size == (228, 228) and rep.final_rf.stride == (16, 16)
    assert next(r for r in rep.rows if r.name == "rpn.cls_logits").output == (18, 14, 14)
    assert next(r for r in rep.rows if r.name == "rpn.bbox_pred").output == (36, 14, 14)


def test_yolov1_has_24_convs_and_a_7x7x30_head():
    rep = report("yolov1")
    assert sum(r.type == "conv2d" for r in rep.rows) == 24
    fc2 = next(r for r in rep.rows if r.name == "fc2")
    assert fc2.output == (1470,) and 1470 == 7 * 7 * (2 * 5 + 20)
    assert rep.output == (30, 7, 7) and rep.rows[-1].params == rep.rows[-1].flops == 0  # read as 30x7x7 (CxHxW)
    assert next(r for r in rep.rows if r.name == "conv6.1.conv").output == (1024, 7, 7)


def test_fcn32s_upsamples_by_32_back_to_the_input():
    rep = report("fcn32s")
    score = next(r for r in rep.rows if r.name == "score_fr")
    assert score.output == (21, 7, 7)
    assert rep.output == (21, 224, 224)
    assert weights("fcn32s", "fc6") == 7 * 7 * 512 * 4096  # the dense fc6 it replaces
    assert rep.final_rf.stride == (Fraction(1), Fraction(1))


def test_lenet5_shapes():
    rep = report("lenet5")
    assert next(r for r in rep.rows if r.name == "flatten").output == (400,)


# a few keys of torchvision's state_dict per net (names of every param-bearing layer must match)
TORCHVISION_KEYS = {
    "alexnet": ["features.0.weight", "features.10.bias", "classifier.1.weight", "classifier.6.bias"],
    "vgg16": ["features.0.weight", "features.28.weight", "classifier.0.weight", "classifier.3.weight", "classifier.6.bias"],
    "vgg16_bn": ["features.1.running_mean", "features.41.weight", "features.40.bias", "classifier.6.weight"],
    "vgg11": ["features.18.weight", "classifier.6.weight"],
    "vgg19": ["features.34.weight", "classifier.6.weight"],
    "resnet18": ["conv1.weight", "bn1.bias", "layer1.0.conv1.weight", "layer1.1.bn2.weight", "layer2.0.downsample.0.weight",
                 "layer2.0.downsample.1.running_var", "layer4.1.conv2.weight", "fc.weight"],
    "resnet152": ["layer3.35.conv3.weight", "layer1.0.downsample.0.weight", "layer4.2.bn3.bias", "fc.bias"],
    "densenet121": ["features.conv0.weight", "features.norm0.weight", "features.denseblock1.denselayer1.norm1.weight",
                    "features.denseblock1.denselayer1.conv1.weight", "features.denseblock4.denselayer16.conv2.weight",
                    "features.transition3.norm.weight", "features.transition3.conv.weight", "features.norm5.running_mean",
                    "classifier.weight"],
    "densenet169": ["features.denseblock4.denselayer32.conv2.weight", "features.denseblock3.denselayer32.norm2.bias"],
    "mobilenet_v2": ["features.0.0.weight", "features.0.1.weight", "features.1.conv.0.0.weight", "features.1.conv.1.weight",
                     "features.1.conv.2.weight", "features.2.conv.0.0.weight", "features.2.conv.1.0.weight",
                     "features.2.conv.2.weight", "features.2.conv.3.bias", "features.17.conv.3.weight",
                     "features.18.0.weight", "classifier.1.weight"],
    "squeezenet1_0": ["features.0.weight", "features.3.squeeze.weight", "features.3.expand1x1.weight",
                      "features.12.expand3x3.bias", "classifier.1.weight", "classifier.1.bias"],
    "squeezenet1_1": ["features.0.weight", "features.12.expand3x3.weight", "classifier.1.weight"],
    "googlenet": ["conv1.conv.weight", "conv1.bn.running_mean", "conv3.bn.weight", "inception3a.branch1.conv.weight",
                  "inception3a.branch2.0.conv.weight", "inception3a.branch2.1.bn.bias", "inception3a.branch3.1.conv.weight",
                  "inception3a.branch4.1.conv.weight", "inception5b.branch4.1.bn.weight", "fc.weight",
                  "aux1.conv.conv.weight", "aux1.conv.bn.running_var", "aux2.fc1.weight", "aux2.fc2.bias"],
    "inception_v3": ["Conv2d_1a_3x3.conv.weight", "Conv2d_4a_3x3.bn.running_var", "Mixed_5b.branch5x5_2.conv.weight",
                     "Mixed_5b.branch_pool.conv.weight", "Mixed_6a.branch3x3.conv.weight", "Mixed_6e.branch7x7dbl_5.conv.weight",
                     "Mixed_7a.branch7x7x3_4.bn.weight", "Mixed_7c.branch3x3_2b.conv.weight",
                     "Mixed_7c.branch3x3dbl_3a.conv.weight", "fc.weight", "AuxLogits.conv0.conv.weight",
                     "AuxLogits.conv1.bn.weight", "AuxLogits.fc.weight"],
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_KEYS))
def test_layer_names_match_torchvision_state_dict(name):
    missing = set(TORCHVISION_KEYS[name]) - keys(name) - {
        f"{r.name}.{t.name}" for r in report(name).rows for t in r.buffer_tensors
    }
    assert not missing


def test_googlenet_aux_heads_own_parameters_but_run_only_in_training():
    """torchvision's googlenet() has 13,004,888 parameters with aux1/aux2; its published 6,624,904
    is without them (--set aux_logits=false). In eval mode the heads run nothing."""
    aux = """
    input: {c}x14x14
    layers:
      - {{type: adaptive_avgpool2d, output_size: 4}}
      - {{name: conv, type: conv2d, out_channels: 128, kernel_size: 1, bias: false}}
      - {{name: bn, type: batchnorm2d, eps: 0.001}}
      - relu
      - flatten
      - {{name: fc1, type: linear, out_features: 1024}}
      - relu
      - {{type: dropout, p: 0.7}}
      - {{name: fc2, type: linear, out_features: 1000}}
    """
    heads = [archcalc.analyze_text(aux.format(c=c).replace("\n    ", "\n")) for c in (512, 528)]
    assert [h.total.params for h in heads] == [3_188_968, 3_191_016]
    without = archcalc.analyze("googlenet", args={"aux_logits": False})
    assert without.total.params == 6_624_904
    assert report("googlenet").total.params == without.total.params + sum(h.total.params for h in heads) == 13_004_888
    assert report("googlenet").total.flops == without.total.flops  # eval: the heads run nothing
    assert report("googlenet").total.activations == without.total.activations
    train = archcalc.analyze("googlenet", mode="train")
    assert train.total.flops == without.total.flops + sum(h.total.flops for h in heads)
    # torchvision's inception branch3 is a 3x3 conv, and its max-pools round up
    assert weights("googlenet", "inception3a.branch3.1.conv") == 3 * 3 * 16 * 32
    assert next(r for r in report("googlenet").rows if r.name == "maxpool1").output == (64, 56, 56)


def test_inception_v3_auxlogits_owns_parameters_but_runs_only_in_training():
    aux = """
input: 768x17x17
layers:
  - {type: avgpool2d, kernel_size: 5, stride: 3}
  - {name: conv0, type: conv2d, out_channels: 128, kernel_size: 1, bias: false}
  - {type: batchnorm2d, eps: 0.001}
  - relu
  - {name: conv1, type: conv2d, out_channels: 768, kernel_size: 5, bias: false}
  - {type: batchnorm2d, eps: 0.001}
  - relu
  - global_avgpool2d
  - flatten
  - {name: fc, type: linear, out_features: 1000}
"""
    aux_params = archcalc.analyze_text(aux).total.params
    assert aux_params == 3_326_696
    without = archcalc.analyze("inception_v3", args={"aux_logits": False})
    assert without.total.params + aux_params == report("inception_v3").total.params == 27_161_264
    assert without.total.params == 23_834_568 and without.total.flops == report("inception_v3").total.flops
    rows = {r.name: r for r in report("inception_v3").rows}
    assert rows["Mixed_6b.branch7x7_2.conv"].param_tensors[0].count == 1 * 7 * 128 * 128
    assert rows["Conv2d_1a_3x3.conv"].output == (32, 149, 149)  # 'valid' stem
    assert rows["maxpool2"].output == (192, 35, 35)
    assert rows["Mixed_7c.cat"].output == (2048, 8, 8)
