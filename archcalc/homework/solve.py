"""Solve for the unknown layer: which (kernel, stride, padding) turn an input size into a wanted
output size, by a bounded search over the same size formulas the analysis uses."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ..layers.base import conv_output_size

MAX_SIZE = 1 << 20
DEFAULT_MAX_KERNEL = 11
DEFAULT_MAX_STRIDE = 8
MAX_KERNEL_LIMIT = 64


@dataclass(frozen=True)
class Choice:
    kernel: int
    stride: int
    padding: int
    dilation: int = 1
    output_padding: int = 0
    dropped: int = 0  # input rows/columns the last window never reaches (conv only)

    def as_dict(self) -> dict:
        return {"kernel": self.kernel, "stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "output_padding": self.output_padding, "dropped": self.dropped}


def _bounded(name: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise UsageError(f"{name} must be from {low} to {high:,}, got {value}")


def _check_search(size_in, size_out, kernel, stride, padding, dilation, max_kernel, max_stride) -> None:
    """Every size and limit of a search within bounds (the search is kernels x strides x paddings)."""
    _check_sizes(size_in, size_out)
    _bounded("--kernel", kernel, 1, MAX_KERNEL_LIMIT)
    _bounded("--max-kernel", max_kernel, 1, MAX_KERNEL_LIMIT)
    _bounded("--stride", stride, 1, MAX_SIZE)
    _bounded("--max-stride", max_stride, 1, 1024)
    _bounded("--padding", padding, 0, MAX_SIZE)
    _bounded("--dilation", dilation, 1, MAX_KERNEL_LIMIT)


def conv_choices(size_in: int, size_out: int, kernel: int | None = None, stride: int | None = None,
                 padding: int | None = None, dilation: int = 1, max_kernel: int = DEFAULT_MAX_KERNEL,
                 max_stride: int = DEFAULT_MAX_STRIDE) -> list[Choice]:
    """Every (kernel, stride, padding) within the limits with
    floor((in + 2p - d(k-1) - 1) / s) + 1 == out; padding at most half the (dilated) kernel.
    Sorted simplest first: no dropped input rows, then smaller stride, kernel, padding."""
    _check_search(size_in, size_out, kernel, stride, padding, dilation, max_kernel, max_stride)
    kernels = [kernel] if kernel else range(1, max_kernel + 1)
    strides = [stride] if stride else range(1, max_stride + 1)
    found = []
    for k in kernels:
        span = dilation * (k - 1) + 1
        paddings = [padding] if padding is not None else range(0, span // 2 + 1)
        for s in strides:
            for p in paddings:
                if conv_output_size(size_in, k, s, p, p, dilation) == size_out:
                    # rows past the last window, less the right padding: real input never read
                    dropped = max(0, (size_in + 2 * p - span) % s - p)
                    found.append(Choice(k, s, p, dilation, 0, dropped))
    return sorted(found, key=lambda c: (c.dropped > 0, c.stride, c.kernel, c.padding))


def transposed_choices(size_in: int, size_out: int, kernel: int | None = None, stride: int | None = None,
                       padding: int | None = None, dilation: int = 1, max_kernel: int = DEFAULT_MAX_KERNEL,
                       max_stride: int = DEFAULT_MAX_STRIDE) -> list[Choice]:
    """(kernel, stride, padding, output_padding) with
    (in - 1)s - 2p + d(k-1) + output_padding + 1 == out; output_padding < stride (or dilation),
    padding at most half the (dilated) kernel. Sorted without output_padding first, then by kernel,
    stride, padding."""
    _check_search(size_in, size_out, kernel, stride, padding, dilation, max_kernel, max_stride)
    kernels = [kernel] if kernel else range(1, max_kernel + 1)
    strides = [stride] if stride else range(1, max_stride + 1)
    found = []
    for k in kernels:
        for s in strides:
            paddings = [padding] if padding is not None else range(0, dilation * (k - 1) // 2 + 1)
            for p in paddings:
                extra = size_out - ((size_in - 1) * s - 2 * p + dilation * (k - 1) + 1)
                if 0 <= extra < max(s, dilation):
                    found.append(Choice(k, s, p, dilation, extra))
    return sorted(found, key=lambda c: (c.output_padding > 0, c.kernel, c.stride, c.padding))


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """Left and right padding that keep the size at stride 1 (PyTorch's 'same': odd one right)."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def _check_sizes(size_in: int, size_out: int) -> None:
    for name, value in (("input size", size_in), ("output size", size_out)):
        if not 1 <= value <= MAX_SIZE:
            raise UsageError(f"{name} must be from 1 to {MAX_SIZE:,}, got {value}")


def describe(choice: Choice, transposed: bool = False) -> str:
    text = f"kernel {choice.kernel}, stride {choice.stride}, padding {choice.padding}"
    if choice.dilation != 1:
        text += f", dilation {choice.dilation}"
    if transposed and choice.output_padding:
        text += f", output_padding {choice.output_padding}"
    if choice.dropped:
        text += f"  (the last {choice.dropped} input row(s) are never read)"
    return text


def explain(size_in: int, size_out: int, choices: list[Choice], transposed: bool, kernel: int | None,
            dilation: int, limit: int) -> list[str]:
    """Lines answering the question, simplest choices first."""
    kind = "transposed conv" if transposed else "conv/pool"
    formula = ("out = (in - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1" if transposed
               else "out = floor((in + 2*padding - dilation*(kernel-1) - 1) / stride) + 1")
    lines = [f"{kind} from {size_in} to {size_out}: {formula}"]
    if size_in == size_out and kernel and not transposed:
        left, right = same_padding(kernel, dilation)
        if left == right:
            lines.append(f"padding {left} keeps the size with kernel {kernel} at stride 1 ('same')")
        else:
            lines.append(f"no symmetric padding keeps the size with the even kernel {kernel}; "
                         f"'same' pads {left} before and {right} after")
    if not choices:
        hint = ""
        if size_out > size_in and not transposed:
            hint = "; the output is larger than the input: try --transposed"
        lines.append(f"no choice within the limits gives {size_out}{hint}")
        return lines
    shown = choices[:limit]
    lines += [f"  {i}. {describe(c, transposed)}" for i, c in enumerate(shown, start=1)]
    if len(choices) > limit:
        lines.append(f"  ... and {len(choices) - limit} more (--limit)")
    return lines


@dataclass(frozen=True)
class Question:
    """`archcalc solve IN OUT [fixed parts and limits]`."""

    size_in: int
    size_out: int
    kernel: int | None = None
    stride: int | None = None
    padding: int | None = None
    dilation: int = 1
    transposed: bool = False
    max_kernel: int = DEFAULT_MAX_KERNEL
    max_stride: int = DEFAULT_MAX_STRIDE

    def choices(self) -> list[Choice]:
        search = transposed_choices if self.transposed else conv_choices
        return search(self.size_in, self.size_out, self.kernel, self.stride, self.padding, self.dilation,
                      self.max_kernel, self.max_stride)


CHOICE_FIELDS = ("kernel", "stride", "padding", "dilation", "output_padding", "dropped")


def render_solution(question: Question, found: list[Choice], limit: int, fmt: str) -> str:
    """The explanation (table: plain lines), or the first ``limit`` choices as JSON, CSV or a
    Markdown table under the explanation's formula."""
    from ..render.escape import markdown_text
    from ..render.writers import csv_text, json_text, markdown_table

    shown = found[:limit]
    if fmt == "json":
        return json_text({"in": question.size_in, "out": question.size_out, "transposed": question.transposed,
                          "choices": [c.as_dict() for c in shown], "total": len(found)})
    if fmt == "csv":
        return csv_text(CHOICE_FIELDS, [[getattr(c, f) for f in CHOICE_FIELDS] for c in shown])
    lines = explain(question.size_in, question.size_out, found, question.transposed, question.kernel,
                    question.dilation, limit)
    if fmt == "markdown":
        notes = [line for line in lines if not line.startswith("  ")]  # the numbered choices become the table
        table = markdown_table(CHOICE_FIELDS, [True] * len(CHOICE_FIELDS),
                               [[str(getattr(c, f)) for f in CHOICE_FIELDS] for c in shown]) if shown else []
        more = [f"- ... and {len(found) - limit} more (--limit)"] if len(found) > limit else []
        return "\n".join([f"- {markdown_text(line)}" for line in notes] + [""] + table + more) + "\n"
    return "".join(line + "\n" for line in lines)
