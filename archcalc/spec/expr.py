"""A small whitelisted evaluator for block-parameter expressions such as ``width * 4``.

Only literals, names bound by the enclosing block, arithmetic, comparisons, boolean logic,
conditional expressions, tuples/lists and a few pure functions are allowed. Python's ``eval``
is never used: the expression is parsed with ``ast`` and walked node by node.

Every operation is bounded in the size of its result and in the work it does, so an expression
can neither hang (``round(5, -(2**62))`` would compute 10**(2**62)) nor grow a value without
limit (a string doubled by forty net arguments): integers stay within 2^62, floats finite,
strings within MAX_STRING characters, and builtins take only the arguments they make sense for.
Every failure is a SpecError that quotes the expression.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from typing import Any, Callable, Mapping

from ..errors import SpecError, brief, clip, near_miss

MAX_EXPRESSION_LENGTH = 500
# Integers beyond this are not layer sizes; refusing them keeps ``2**2**64`` from hanging.
MAX_INT = 2**62
# Strings name layers and options; a longer one is a mistake (or an attack on memory).
MAX_STRING = 1000
# round()'s digits: beyond 2^62's 19 digits (either way) the answer no longer changes.
MAX_ROUND_DIGITS = 20

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _int_div(a, b):
    """``/`` gives an int when the division is exact, so ``width / 2`` stays a layer size."""
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return a // b
    return a / b


def _power_too_large(base, exponent) -> bool:
    """Whether an integer power would pass MAX_INT, judged from bit lengths before computing it."""
    if not (isinstance(base, int) and isinstance(exponent, int)) or exponent <= 0 or abs(base) <= 1:
        return False
    return (abs(base).bit_length() - 1) * exponent > MAX_INT.bit_length()


def _round(*args):
    """round(x) or round(x, digits), digits bounded: round(5, -(2**62)) would compute 10**(2**62)."""
    if not 1 <= len(args) <= 2 or not _is_number(args[0]):
        raise TypeError(f"round() takes a number and optionally its digits, got {brief(list(args))}")
    value, digits = args[0], (args[1] if len(args) == 2 else None)
    if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or abs(digits) > MAX_ROUND_DIGITS):
        raise TypeError(f"round()'s digits must be a whole number from -{MAX_ROUND_DIGITS} to {MAX_ROUND_DIGITS}")
    return round(value) if digits is None else round(value, digits)


def _int(value):
    if not (_is_number(value) or isinstance(value, str)):
        raise TypeError(f"int() takes a number or a text, not {brief(value)}")
    return int(value)


def _numbers_only(function: Callable, name: str, most: int) -> Callable:
    """``function`` refusing anything but 1..``most`` numbers (min/max: or one list of them)."""

    def checked(*args):
        values = args[0] if len(args) == 1 and isinstance(args[0], list) and most > 1 else args
        if not 1 <= len(args) <= most or not values or not all(_is_number(v) for v in values):
            raise TypeError(f"{name}() takes {'numbers' if most > 1 else 'one number'}, got {brief(list(args))}")
        return function(*args)

    return checked


_FUNCTIONS: dict[str, Callable] = {
    "min": _numbers_only(min, "min", MAX_EXPRESSION_LENGTH),
    "max": _numbers_only(max, "max", MAX_EXPRESSION_LENGTH),
    "abs": _numbers_only(abs, "abs", 1),
    "int": _int,
    "round": _round,
    "ceil": _numbers_only(math.ceil, "ceil", 1),
    "floor": _numbers_only(math.floor, "floor", 1),
}


def check_value(value: Any, text: str) -> Any:
    """The bounds every value in an expression keeps."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise SpecError(f"expression '{clip(text)}' gives a number too large ({abs(value).bit_length()} bits; the limit is 2^62)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(f"expression '{clip(text)}' is not a finite number")
    elif isinstance(value, str):
        if len(value) > MAX_STRING:
            raise SpecError(f"expression '{clip(text)}' gives a text longer than {MAX_STRING:,} characters")
    elif not isinstance(value, list):
        raise SpecError(f"expression '{clip(text)}' gives {brief(value)}, which is not a number, text or list")
    return value


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> ast.expr:
    """Parsed once per distinct text: a repeated block evaluates the same few expressions."""
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise SpecError(f"'{clip(text)}' is not a valid expression") from None


def evaluate(text: str, names: Mapping[str, Any]) -> Any:
    """Evaluate ``text`` with the block parameters ``names`` in scope."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise SpecError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    tree = _parse(text)
    try:
        return _Evaluator(text, names).visit(tree)
    except RecursionError:
        raise SpecError(f"expression '{clip(text)}' nests too deeply") from None


class _Evaluator:
    def __init__(self, text: str, names: Mapping[str, Any]) -> None:
        self.text = text
        self.names = names

    def fail(self, problem: str) -> SpecError:
        return SpecError(f"'{clip(self.text)}': {problem}")

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise self.fail(f"{type(node).__name__} is not allowed in an expression")
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, (int, float, str, bool)) or node.value is None:
            return check_value(node.value, self.text)
        raise self.fail(f"constant {brief(node.value)} is not allowed")

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.names:
            return check_value(self.names[node.id], self.text)
        if node.id in ("true", "True"):
            return True
        if node.id in ("false", "False"):
            return False
        near = near_miss(node.id, self.names)
        hint = f" (did you mean '{clip(near[0])}'?)" if near else ""
        names = sorted(self.names)
        known = ", ".join(clip(name, 30) for name in names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "") or "none"
        raise SpecError(f"unknown name '{clip(node.id)}' in expression '{clip(self.text)}'{hint}; known: {known}")

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise self.fail("operator not allowed")
        if not _is_number(value):
            raise self.fail(f"a sign needs a number, got {brief(value)}")
        return check_value(-value if isinstance(node.op, ast.USub) else value, self.text)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        op = type(node.op)
        if op not in _BINARY:
            raise self.fail(f"operator {op.__name__} is not allowed")
        left = self.visit(node.left)
        right = self.visit(node.right)
        if op is ast.Add and isinstance(left, str) and isinstance(right, str):
            if len(left) + len(right) > MAX_STRING:
                raise self.fail(f"the joined text would be longer than {MAX_STRING:,} characters")
            return left + right
        for value in (left, right):
            if not _is_number(value):
                raise self.fail(f"arithmetic needs numbers, got {brief(value)}")
        if op is ast.Pow and _power_too_large(left, right):
            raise self.fail("exponent too large")
        if op in (ast.FloorDiv, ast.Mod, ast.Div) and right == 0:
            raise self.fail("division by zero")
        try:
            result = _int_div(left, right) if op is ast.Div else _BINARY[op](left, right)
        except ZeroDivisionError:  # 0 ** -1
            raise self.fail("division by zero") from None
        except (OverflowError, ValueError):  # 10.0 ** 400
            raise self.fail("the result is out of range") from None
        if isinstance(result, complex):  # (-8) ** 0.5
            raise self.fail("the result is not a real number")
        return check_value(result, self.text)

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        stop_when = not isinstance(node.op, ast.And)  # `and` stops at a false value, `or` at a true one
        result = not stop_when
        for value in node.values:
            result = self.visit(value)
            if bool(result) == stop_when:
                return result
        return result

    def visit_Compare(self, node: ast.Compare) -> Any:
        left = self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators):
            if type(op) not in _COMPARE:
                raise self.fail(f"comparison {type(op).__name__} is not allowed")
            right = self.visit(comparator)
            try:
                ok = _COMPARE[type(op)](left, right)
            except TypeError:
                raise self.fail(f"cannot compare {brief(left)} with {brief(right)}") from None
            if not ok:
                return False
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_Tuple(self, node: ast.Tuple) -> Any:
        return [self.visit(element) for element in node.elts]

    visit_List = visit_Tuple

    def visit_Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords:
            raise self.fail(f"only {', '.join(sorted(_FUNCTIONS))} may be called")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self.fail("*arguments are not allowed")
        args = [self.visit(arg) for arg in node.args]
        try:
            return check_value(_FUNCTIONS[node.func.id](*args), self.text)
        except (TypeError, ValueError, OverflowError) as exc:
            raise self.fail(clip(str(exc), 120)) from None
