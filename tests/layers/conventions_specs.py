"""Small specs the convention tests count by hand from each tool's formulas."""

import dataclasses

import archcalc
from archcalc.figures.conventions import layer_facts
from archcalc.layers.conventions import lookup_convention

# 3x8x8 -> conv 4 (3x3, pad 1, bias) -> bn -> relu -> maxpool 2 -> flatten (64) -> linear 10
SMALL = """
name: small
input: 3x8x8
layers:
  - {name: conv, type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: bn, type: batchnorm2d}
  - {name: relu, type: relu}
  - {name: pool, type: maxpool2d, kernel_size: 2}
  - {name: flatten, type: flatten}
  - {name: fc, type: linear, out_features: 10}
"""


def counts(convention: str, text: str = SMALL, batch: int = 1, functional: frozenset = frozenset()) -> dict[str, int]:
    """Each row's count under a convention; rows named in ``functional`` called as functions."""
    conv = lookup_convention(convention)
    report = archcalc.analyze_text(text, batch=batch)
    return {row: conv.reported(dataclasses.replace(f, functional=row in functional), batch)
            for row, f in layer_facts(report)}


def one_layer(layer: str, input_shape: str = "4x8x8") -> str:
    return f"name: one\ninput: {input_shape}\nlayers:\n  - {{name: x, {layer}}}\n"
