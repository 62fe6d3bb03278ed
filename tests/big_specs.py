"""Large specs for the scaling tests and benchmarks/big_chain.py: a chain of residual units
(conv, batchnorm, relu, add with the unit's input), then global pooling, flatten and a classifier.

Written out, every layer is its own YAML entry (the loader and the expander see each); compact,
the same layers come from one block repeated, as a spec of a deep net would be written."""

from __future__ import annotations

TAIL = ["  - {name: pool, type: global_avgpool2d}", "  - {name: flat, type: flatten}",
        "  - {name: fc, type: linear, out_features: 10}"]


def _units_and_padding(layers: int) -> tuple[int, int]:
    units = (layers - len(TAIL)) // 4
    return units, layers - len(TAIL) - 4 * units


def chain_spec(layers: int = 10_000, channels: int = 16, size: int = 32, *, written_out: bool = True) -> str:
    """A spec of exactly ``layers`` layers (at least 3)."""
    units, extra = _units_and_padding(layers)
    head = ["name: big_chain", f"input: {channels}x{size}x{size}"]
    if not written_out:
        head += ["blocks:", "  unit:", "    layers:",
                 f"      - {{name: conv, type: conv2d, out_channels: {channels}, kernel_size: 3, padding: 1, bias: false}}",
                 "      - {name: bn, type: batchnorm2d}", "      - {name: relu, type: relu}",
                 "      - {name: add, type: add, inputs: [relu, input]}",
                 "layers:", f"  - {{name: 'u{{i}}', type: unit, repeat: {units}}}"]
        if extra:
            head.append(f"  - {{name: 'x{{i}}', type: relu, repeat: {extra}}}")
        return "\n".join(head + TAIL) + "\n"
    body = ["layers:"]
    previous = "input"
    for unit in range(units):
        body += [
            f"  - {{name: c{unit}, type: conv2d, out_channels: {channels}, kernel_size: 3, padding: 1, bias: false}}",
            f"  - {{name: b{unit}, type: batchnorm2d}}",
            f"  - {{name: r{unit}, type: relu}}",
            f"  - {{name: a{unit}, type: add, inputs: [r{unit}, {previous}]}}",
        ]
        previous = f"a{unit}"
    body += [f"  - {{name: x{i}, type: relu}}" for i in range(extra)]
    return "\n".join(head + body + TAIL) + "\n"
