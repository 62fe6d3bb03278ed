"""The specs that are not torchvision's, cross-checked against plain-PyTorch builds of the same nets:
parameter count, per-layer weight shapes and output shape. Built on the 'meta' device: no memory,
no arithmetic, so even YOLO's 272M parameters cost nothing."""

import pytest

import archcalc

torch = pytest.importorskip("torch")
nn = torch.nn


def conv_relu(cin, cout, k=3, s=1, p=1, groups=1):
    return [nn.Conv2d(cin, cout, k, s, p, groups=groups), nn.ReLU()]


def vgg16_trunk(pool5=True):
    layers, cin = [], 3
    for width, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(convs):
            layers += conv_relu(cin, width)
            cin = width
        layers.append(nn.MaxPool2d(2, 2))
    return layers if pool5 else layers[:-1]


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def alexnet_lecture():
    return nn.Sequential(
        *conv_relu(3, 96, 11, 4, 0), nn.MaxPool2d(3, 2), *conv_relu(96, 256, 5, 1, 2, groups=2), nn.MaxPool2d(3, 2),
        *conv_relu(256, 384), *conv_relu(384, 384, groups=2), *conv_relu(384, 256, groups=2),
        nn.Flatten(), nn.Linear(13 * 13 * 256, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Dropout(), nn.Linear(4096, 1000),
    )


def alexnet_paper():
    lrn = lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)  # noqa: E731
    return nn.Sequential(
        *conv_relu(3, 96, 11, 4, 0), lrn(), nn.MaxPool2d(3, 2),
        *conv_relu(96, 256, 5, 1, 2, groups=2), lrn(), nn.MaxPool2d(3, 2),
        *conv_relu(256, 384), *conv_relu(384, 384, groups=2), *conv_relu(384, 256, groups=2), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Dropout(), nn.Linear(6 * 6 * 256, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096),
        nn.ReLU(), nn.Linear(4096, 1000),
    )


def yolov1():
    layers, cin = [], 3

    def conv(cout, k=3, s=1):
        nonlocal cin
        layers.extend([nn.Conv2d(cin, cout, k, s, (k - 1) // 2), nn.LeakyReLU(0.1)])
        cin = cout

    conv(64, 7, 2); layers.append(nn.MaxPool2d(2))  # noqa: E702
    conv(192); layers.append(nn.MaxPool2d(2))  # noqa: E702
    conv(128, 1); conv(256); conv(256, 1); conv(512); layers.append(nn.MaxPool2d(2))  # noqa: E702
    for _ in range(4):
        conv(256, 1); conv(512)  # noqa: E702
    conv(512, 1); conv(1024); layers.append(nn.MaxPool2d(2))  # noqa: E702
    for _ in range(2):
        conv(512, 1); conv(1024)  # noqa: E702
    conv(1024); conv(1024, s=2); conv(1024); conv(1024)  # noqa: E702
    assert sum(isinstance(m, nn.Conv2d) for m in layers) == 24
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(7 * 7 * 1024, 4096), nn.LeakyReLU(0.1), nn.Dropout(),
                         nn.Linear(4096, 7 * 7 * 30), nn.Unflatten(1, (30, 7, 7)))


def fcn32s():
    return nn.Sequential(
        *vgg16_trunk(), nn.Conv2d(512, 4096, 7, padding=3), nn.ReLU(), nn.Dropout(), nn.Conv2d(4096, 4096, 1), nn.ReLU(),
        nn.Dropout(), nn.Conv2d(4096, 21, 1), nn.ConvTranspose2d(21, 21, 64, stride=32, padding=16, bias=False),
    )


class RPN(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(*vgg16_trunk(pool5=False))
        self.conv = nn.Conv2d(512, 512, 3, padding=1)
        self.cls_logits = nn.Conv2d(512, 9 * 2, 1)
        self.bbox_pred = nn.Conv2d(512, 9 * 4, 1)

    def forward(self, x):
        x = torch.relu(self.conv(self.backbone(x)))
        return torch.cat([self.cls_logits(x), self.bbox_pred(x)], 1)


REFERENCES = {
    "lenet5": lenet5, "alexnet_lecture": alexnet_lecture, "alexnet_paper": alexnet_paper,
    "yolov1": yolov1, "fcn32s": fcn32s, "rpn_vgg16": RPN,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_spec_matches_plain_torch(name):
    with torch.device("meta"):
        model = REFERENCES[name]()
        report = archcalc.analyze(name)
        output = model(torch.empty(1, *report.input)).shape[1:]
    assert report.total.params == sum(p.numel() for p in model.parameters())
    assert tuple(report.output) == tuple(output)
    # the same weight tensors, layer by layer, in the same order
    torch_weights = [p.numel() for n, p in model.named_parameters() if n.endswith("weight")]
    spec_weights = [t.count for r in report.rows for t in r.param_tensors if t.name == "weight"]
    assert spec_weights == torch_weights
