"""The fixed list of convolutional timm models the importer is held to (issue 10): at least 150,
across timm's families. docs/import.md lists the ones refused and the operation that stops each;
REPRESENTATIVES is the subset the default test run imports (one or two per family), the full list
runs with ARCHCALC_TIMM_ALL=1."""

TIMM_MODELS = [
    # resnet / resnet-d / resnext / wide / se / eca / gc / seresnext
    "resnet10t", "resnet14t", "resnet18", "resnet18d", "resnet26", "resnet26d", "resnet34", "resnet34d", "resnet50",
    "resnet50d", "resnet101", "resnet152", "resnext26ts", "resnext50_32x4d", "resnext50d_32x4d", "resnext101_32x8d",
    "wide_resnet50_2", "seresnet18", "seresnet34", "seresnet50", "seresnext26d_32x4d", "seresnext50_32x4d",
    "ecaresnet26t", "ecaresnet50d", "ecaresnetlight", "gcresnet33ts", "gcresnext26ts", "legacy_seresnet18",
    "legacy_seresnet50", "legacy_seresnext26_32x4d", "legacy_senet154", "senet154",
    # resnetv2
    "resnetv2_18", "resnetv2_34", "resnetv2_50", "resnetv2_50d", "resnetv2_50x1_bit",
    # efficientnet / efficientnetv2 / tf_ variants / mixnet / mnasnet / mobilenet / fbnet / tinynet / lcnet
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_lite0",
    "efficientnet_es", "efficientnet_em", "efficientnetv2_rw_t", "efficientnetv2_rw_s", "efficientnetv2_s",
    "tf_efficientnet_b0", "tf_efficientnet_b1", "tf_efficientnet_lite0", "tf_efficientnetv2_s", "tf_efficientnetv2_b0",
    "mixnet_s", "mixnet_m", "mixnet_l", "tf_mixnet_s", "mnasnet_050", "mnasnet_100", "mnasnet_small", "semnasnet_100",
    "spnasnet_100", "mobilenetv2_050", "mobilenetv2_100", "mobilenetv2_140", "mobilenetv3_large_100",
    "mobilenetv3_small_100", "mobilenetv3_rw", "tf_mobilenetv3_large_100", "fbnetc_100", "fbnetv3_b",
    "tinynet_a", "tinynet_e", "lcnet_050", "lcnet_100", "hardcorenas_a", "hardcorenas_f",
    # regnet / regnetz
    "regnetx_002", "regnetx_004", "regnetx_016", "regnetx_032", "regnety_002", "regnety_004", "regnety_016",
    "regnety_032", "regnetz_005", "regnetz_b16",
    # convnext
    "convnext_atto", "convnext_femto", "convnext_pico", "convnext_nano", "convnext_tiny",
    # densenet / dla / dpn
    "densenet121", "densenet169", "densenetblur121d", "dla34", "dla46_c", "dla60", "dla60x", "dla102",
    "dla60_res2net", "dpn48b", "dpn68", "dpn92",
    # ghostnet / repghost / hrnet
    "ghostnet_050", "ghostnet_100", "ghostnetv2_100", "repghostnet_050", "repghostnet_100", "hrnet_w18_small",
    "hrnet_w18", "hrnet_w32",
    # inception / xception
    "inception_v3", "inception_v4", "inception_resnet_v2", "xception41", "xception65", "legacy_xception",
    # nfnet / nf_resnet / nf_regnet
    "nfnet_f0", "nfnet_l0", "dm_nfnet_f0", "eca_nfnet_l0", "nf_resnet26", "nf_resnet50", "nf_regnet_b0",
    # rexnet / repvgg / res2net / resnest
    "rexnet_100", "rexnet_130", "rexnetr_100", "repvgg_a0", "repvgg_a2", "repvgg_b0", "repvgg_b1g4",
    "res2net50_26w_4s", "res2net50_14w_8s", "res2net50d", "res2next50", "resnest14d", "resnest26d", "resnest50d",
    # selecsls / senet / skresnet / tresnet / vgg
    "selecsls42", "selecsls42b", "selecsls60", "skresnet18", "skresnet34", "skresnext50_32x4d", "tresnet_m",
    "tresnet_l", "vgg11", "vgg11_bn", "vgg13", "vgg16", "vgg16_bn", "vgg19",
    # csp / darknet / cs3 / gernet / vovnet / mobileone
    "cspresnet50", "cspdarknet53", "darknet53", "cs3darknet_s", "cs3darknet_m", "gernet_s", "gernet_m",
    "vovnet39a", "ese_vovnet19b_dw", "ese_vovnet39b", "mobileone_s0", "mobileone_s1",
]

# the models refused, with the op the unsupported-op message names (docs/import.md says why)
REFUSED = {
}

# the default run: small models, one or two per family, and one refused model per reason; the
# NF-Nets (ScaledStdConv2d, its SAME form, scales, skipinit), blur pooling and TResNet's stem
REPRESENTATIVES = [
    "resnet18", "resnet26d", "seresnet18", "legacy_seresnet18", "resnext26ts", "resnetv2_50x1_bit",
    "efficientnet_b0", "tf_efficientnet_b0", "mixnet_s", "mnasnet_small", "mobilenetv3_small_100", "lcnet_050",
    "regnetx_002", "regnety_002", "densenet121", "dla46_c", "dpn48b", "ghostnet_050", "hrnet_w18_small",
    "inception_v3", "xception41", "rexnet_100", "repvgg_a0", "res2net50_14w_8s", "selecsls42", "cspresnet50",
    "cs3darknet_s", "gernet_s", "ese_vovnet19b_dw", "mobileone_s0", "vgg11",
    "ecaresnetlight", "gcresnet33ts", "convnext_atto", "resnest14d", "skresnet18",
    "densenetblur121d", "nf_resnet26", "dm_nfnet_f0", "tresnet_m",
]
