"""Issue 10: the reads timm's attention units need, on small modules of this file's own (no timm):
torch.stack, x.sum(dim=1), a @ b, a transpose of size-1 axes, unsqueeze, views of a range of axes,
y.expand_as(x) and a broadcast add import and equal the module exactly (parameters, FlopCounterMode
FLOPs, output); the written spec analyses to the same figures at another input size; what archcalc
cannot express stops with the op named. timm's own modules: tests/pytorch/test_import_timm.py."""

import pytest
import torch
from torch import nn

import archcalc
from archcalc.errors import ArchcalcError


class Units(nn.Module):
    """Selective kernel, split attention, global context and ECA in miniature."""

    def __init__(self, channels=8):
        super().__init__()
        self.paths = nn.ModuleList([nn.Conv2d(channels // 2, channels, 3, padding=1),
                                    nn.Conv2d(channels // 2, channels, 3, padding=2, dilation=2)])
        self.select = nn.Conv2d(channels, 2 * channels, 1)
        self.radix_conv = nn.Conv2d(channels, 2 * channels, 3, padding=1, groups=2)
        self.fc = nn.Conv2d(channels, 2 * channels, 1)
        self.attn = nn.Conv2d(channels, 1, 1)
        self.mlp = nn.Conv2d(channels, channels, 1)
        self.eca = nn.Conv1d(1, 1, 3, padding=1, bias=False)

    def forward(self, x):
        b, c, h, w = x.shape
        # selective kernel: paths over halves, stacked, softmax over the paths, weighted sum
        halves = torch.split(x, c // 2, 1)
        stacked = torch.stack([path(halves[i]) for i, path in enumerate(self.paths)], dim=1)
        gate = self.select(stacked.sum(1).mean((2, 3), keepdim=True)).view(b, 2, c, 1, 1)
        x = torch.sum(stacked * torch.softmax(gate, dim=1), dim=1)
        # split attention: radix groups split off the channels, radix softmax through a transpose
        y = self.radix_conv(x).reshape(b, 2, c, h, w)
        attn = self.fc(y.sum(dim=1).mean((2, 3), keepdim=True)).view(b, 1, 2, -1).transpose(1, 2)
        attn = torch.nn.functional.softmax(attn, dim=1).reshape(b, -1).view(b, -1, 1, 1)
        x = (y * attn.reshape(b, 2, c, 1, 1)).sum(dim=1).contiguous()
        # global context: attention pooling by a matrix product, the context added back
        score = torch.nn.functional.softmax(self.attn(x).reshape(b, 1, h * w), dim=-1).unsqueeze(3)
        context = (x.reshape(b, c, h * w).unsqueeze(1) @ score).view(b, c, 1, 1)
        x = x + self.mlp(context)
        # ECA: a 1-D convolution over the pooled channels
        e = torch.sigmoid(self.eca(x.mean((2, 3)).view(b, 1, -1))).view(b, -1, 1, 1)
        return x * e.expand_as(x)


def figures(module, shape):
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = module.eval()(torch.zeros(1, *shape))
    return sum(p.numel() for p in module.parameters()), counter.get_total_flops(), tuple(out.shape[1:])


def test_attention_units_import_exactly_and_the_spec_holds_at_other_sizes(tmp_path):
    module = Units()
    report = archcalc.analyze(module, input_shape=(8, 12, 10))
    assert (report.total.params, report.total.flops, tuple(report.output)) == figures(module, (8, 12, 10))
    types = {row.type for row in report.rows}
    assert {"stack_maps", "channel_sum", "matmul", "reshape"} <= types
    from archcalc.pytorch.importer import import_module

    text = import_module(module, (8, 12, 10), name="units").text
    spec = tmp_path / "units.yaml"
    spec.write_text(text)
    assert "-1" in text  # the sizes that follow the input are written -1
    for shape in ((8, 12, 10), (8, 7, 9)):
        again = archcalc.analyze(archcalc.load(str(spec), input_shape=shape))
        assert (again.total.params, again.total.flops, tuple(again.output)) == figures(module, shape)


class Moves(nn.Module):
    def forward(self, x):
        return x.transpose(2, 3)


class SumsAll(nn.Module):
    def forward(self, x):
        return x * x.sum()


class StacksFirst(nn.Module):
    def forward(self, x):
        return torch.stack([x, x], dim=0).sum(0)


@pytest.mark.parametrize("module, message", [
    (Moves(), "Tensor.transpose .*moves the elements"),
    (SumsAll(), "Tensor.sum .*a sum of every element"),
    (StacksFirst(), "torch.stack .*dimension 0"),
])
def test_what_archcalc_cannot_express_is_named(module, message):
    with pytest.raises(ArchcalcError, match=message):
        archcalc.analyze(module, input_shape=(4, 6, 5))
