"""The expression evaluator bounds every operation in its result and its work (issue 13): each
hostile expression is a SpecError naming it, fast; ordinary ones keep their values."""

import time

import pytest

from archcalc.errors import SpecError
from archcalc.spec.expr import MAX_STRING, evaluate
from cli_checks import assert_clean_error, run_spec

HOSTILE = {
    "round(5, -(2**62))": "digits",          # would compute 10**(2**62)
    "round(5, 10**6)": "digits",
    "0 ** -1": "division by zero",           # ZeroDivisionError
    "0.0 ** -1": "division by zero",
    "10.0 ** 300 * 10.0 ** 300": "finite",   # inf
    "1.5 ** (2**62)": "out of range",        # OverflowError
    "1e999": "finite",
    "-1e999": "finite",
    "(-8) ** 0.5": "not a real number",      # a complex result
    "-'text'": "needs a number",             # TypeError
    "+[1, 2]": "needs a number",
    "2 ** 63": "too large",
    "2 ** 2 ** 64": "too large",
    "3 ** 1000": "exponent too large",
    "2**62 * 2**62": "too large",
    "ceil(1e300)": "too large",
    "int(1e300)": "too large",
    "int('9' * 1)": "arithmetic needs numbers",
    "int('" + "9" * 400 + "')": "too large",
    "int('x')": "invalid literal",
    "int([1])": "int() takes",
    "abs('x')": "abs() takes",
    "min()": "min() takes",
    "min([])": "min() takes",
    "max('a', 'b')": "max() takes",
    "floor(None)": "floor() takes",
    "round('x')": "round() takes",
    "round(1, 2, 3)": "round() takes",
    "1 // 0": "division by zero",
    "1 % 0": "division by zero",
    "1.5 / 0.0": "division by zero",
    "1 < 'a'": "cannot compare",
    "'a' * 3": "arithmetic needs numbers",
    "[1] + [2]": "arithmetic needs numbers",
    "max(*[1, 2])": "not allowed",
    "x.y": "not allowed",
    "x[0]": "not allowed",
    "__import__('os')": "may be called",
    "(lambda: 1)()": "may be called",
    "1j": "not allowed",
    "-" * 480 + "1": "",                     # deep but legal: evaluates or is refused, never crashes
    "(" * 150 + "1" + ")" * 150: "",
}


@pytest.mark.parametrize("text", sorted(HOSTILE))
def test_hostile_expression_is_a_spec_error_quoting_it(text):
    start = time.perf_counter()
    try:
        value = evaluate(text, {"x": 3})
    except SpecError as exc:
        assert HOSTILE[text] in exc.message, exc.message
        assert text[:20] in exc.message or "expression is longer" in exc.message
        assert len(exc.message) < 400
    else:
        assert HOSTILE[text] == "", f"{text!r} gave {value!r}"
    assert time.perf_counter() - start < 1


def test_string_length_is_bounded_when_joining():
    assert evaluate("a + a", {"a": "x" * (MAX_STRING // 2)}) == "x" * MAX_STRING
    with pytest.raises(SpecError, match="longer than 1,000 characters"):
        evaluate("a + a + 'y'", {"a": "x" * (MAX_STRING // 2)})


def test_doubling_a_string_through_net_arguments_stops(tmp_path):
    # each net argument sees the ones before it: 40 doublings would be a 2^39-character string
    args = "\n".join(["  s0: \"'ab'\""] + [f"  s{i}: s{i - 1} + s{i - 1}" for i in range(1, 40)])
    start = time.perf_counter()
    assert_clean_error(run_spec(tmp_path, f"input: 3x8x8\nargs:\n{args}\nlayers: [relu]\n"),
                       "argument 's9'", "longer than 1,000 characters")
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("text, expected", [
    ("width * 4", 256), ("width / 2", 32), ("width / 3", 64 / 3), ("2 ** 62", 2**62), ("-(2 ** 62)", -(2**62)),
    ("round(2.567, 2)", 2.57), ("round(1234, -2)", 1200), ("round(2.5)", 2), ("int('12')", 12), ("int(7.9)", 7),
    ("min(width, 3)", 3), ("max([1, 5, 2])", 5), ("ceil(width / 3)", 22), ("floor(-0.5)", -1), ("abs(-3.5)", 3.5),
    ("'conv' + 'x'", "convx"), ("not width", False), ("width if width > 8 else 8", 64), ("0 or 'a'", "a"),
    ("1 < 2 < 3", True), ("[width, 3]", [64, 3]), ("2 ** -1", 0.5), ("0 ** 0", 1), ("(-2) ** 3", -8),
])
def test_ordinary_expressions_keep_their_values(text, expected):
    assert evaluate(text, {"width": 64}) == expected


def test_expression_error_in_a_layer_is_one_line(tmp_path):
    text = "input: 3x8x8\nlayers:\n  - {name: c, type: conv2d, out: 'round(5, -(2**62))', kernel: 3}\n"
    assert_clean_error(run_spec(tmp_path, text), "net.yaml:3:", "layer 'c'", "argument 'out'", "digits")


def test_unknown_name_lists_at_most_a_dozen_known_names():
    names = {f"n{i}": i for i in range(5000)}
    with pytest.raises(SpecError) as caught:
        evaluate("nope", names)
    assert "5000 in all" in caught.value.message and len(caught.value.message) < 400
