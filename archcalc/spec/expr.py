"""A small whitelisted evaluator for block-parameter expressions such as ``width * 4``.

Only literals, names bound by the enclosing block, arithmetic, comparisons, boolean logic,
conditional expressions, tuples/lists and a few pure functions are allowed. Python's ``eval``
is never used: the expression is parsed with ``ast`` and walked node by node.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any, Mapping

from ..errors import SpecError

MAX_EXPRESSION_LENGTH = 500
# Integers beyond this are not layer sizes; refusing them keeps ``2**2**64`` from hanging.
MAX_INT = 2**62

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


def _int_div(a, b):
    """``/`` gives an int when the division is exact, so ``width / 2`` stays a layer size."""
    result = a / b
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return a // b
    return result


_FUNCTIONS = {
    "min": min,
    "max": max,
    "abs": abs,
    "int": int,
    "round": round,
    "ceil": math.ceil,
    "floor": math.floor,
}


def _check_number(value: Any, text: str) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise SpecError(f"expression '{text}' gives a number too large ({abs(value).bit_length()} bits)")
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(f"expression '{text}' is not a finite number")
    return value


def evaluate(text: str, names: Mapping[str, Any]) -> Any:
    """Evaluate ``text`` with the block parameters ``names`` in scope."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise SpecError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise SpecError(f"'{text}' is not a valid expression") from None
    return _Evaluator(text, names).visit(tree.body)


class _Evaluator:
    def __init__(self, text: str, names: Mapping[str, Any]) -> None:
        self.text = text
        self.names = names

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise SpecError(f"'{self.text}': {type(node).__name__} is not allowed in an expression")
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, (int, float, str, bool)) or node.value is None:
            return _check_number(node.value, self.text)
        raise SpecError(f"'{self.text}': constant {node.value!r} is not allowed")

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.names:
            return self.names[node.id]
        if node.id in ("true", "True"):
            return True
        if node.id in ("false", "False"):
            return False
        import difflib

        near = difflib.get_close_matches(node.id, list(self.names), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        known = ", ".join(sorted(self.names)) or "none"
        raise SpecError(f"unknown name '{node.id}' in expression '{self.text}'{hint}; known: {known}")

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
        if isinstance(node.op, ast.Not):
            return not value
        raise SpecError(f"'{self.text}': operator not allowed")

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        op = type(node.op)
        if op not in _BINARY:
            raise SpecError(f"'{self.text}': operator {op.__name__} is not allowed")
        left = self.visit(node.left)
        right = self.visit(node.right)
        for value in (left, right):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                if not (op is ast.Add and isinstance(left, str) and isinstance(right, str)):
                    raise SpecError(f"'{self.text}': arithmetic needs numbers, got {value!r}")
        if op is ast.Pow and (abs(right) > 64 or (isinstance(left, int) and abs(left) > 2**32 and right > 1)):
            raise SpecError(f"'{self.text}': exponent too large")
        if op in (ast.FloorDiv, ast.Mod, ast.Div) and right == 0:
            raise SpecError(f"'{self.text}': division by zero")
        if op is ast.Div:
            return _check_number(_int_div(left, right), self.text)
        return _check_number(_BINARY[op](left, right), self.text)

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        if isinstance(node.op, ast.And):
            result = True
            for value in node.values:
                result = self.visit(value)
                if not result:
                    return result
            return result
        result = False
        for value in node.values:
            result = self.visit(value)
            if result:
                return result
        return result

    def visit_Compare(self, node: ast.Compare) -> Any:
        left = self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators):
            if type(op) not in _COMPARE:
                raise SpecError(f"'{self.text}': comparison {type(op).__name__} is not allowed")
            right = self.visit(comparator)
            try:
                ok = _COMPARE[type(op)](left, right)
            except TypeError:
                raise SpecError(f"'{self.text}': cannot compare {left!r} with {right!r}") from None
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
            raise SpecError(f"'{self.text}': only {', '.join(sorted(_FUNCTIONS))} may be called")
        args = [self.visit(arg) for arg in node.args]
        try:
            return _check_number(_FUNCTIONS[node.func.id](*args), self.text)
        except (TypeError, ValueError, OverflowError) as exc:
            raise SpecError(f"'{self.text}': {exc}") from None
