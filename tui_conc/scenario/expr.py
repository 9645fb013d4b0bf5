"""Safe expressions and templates for scenario files.

A scenario may compute values (``temp - 1``), test conditions (``not ready``)
and format log lines (``"{actor} got {item}"``). Text from a file is never
passed to ``eval``: it is parsed with :mod:`ast`, checked against a small
whitelist of node kinds, and compiled into plain Python closures.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from string import Formatter
from typing import Any

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]


class ExprError(ValueError):
    """An expression or template that cannot be compiled."""


#: Plain functions every kind of expression may call (steps and expectations).
COMMON_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": lambda env, x: len(x),
    "min": lambda env, *a: min(*a) if len(a) > 1 else min(a[0]),
    "max": lambda env, *a: max(*a) if len(a) > 1 else max(a[0]),
    "abs": lambda env, x: abs(x),
    "int": lambda env, x: int(x),
    "float": lambda env, x: float(x),
    "str": lambda env, x: str(x),
    "round": lambda env, x, d=0: round(x, int(d)),
    "sorted": lambda env, items: sorted(items),
    "sum": lambda env, items: sum(items),
    "range": lambda env, *a: list(range(*(int(x) for x in a[:3]))),
}


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_MAX_POWER = 10_000


def _power(a: Any, b: Any) -> Any:
    if isinstance(b, int | float) and abs(b) > _MAX_POWER:
        raise ValueError("exponent too large")
    return a**b


_BINOPS[ast.Pow] = _power


@dataclass(frozen=True, slots=True)
class Expr:
    """A compiled expression: call it with an environment mapping."""

    source: str
    names: frozenset[str]
    calls: frozenset[str]
    _fn: Compiled

    def __call__(self, env: Env) -> Any:
        return self._fn(env)


def compile_expr(source: str | int | float | bool, functions: Mapping[str, Callable]) -> Expr:
    """Compile ``source`` into an :class:`Expr`; numbers and booleans are constants."""
    if isinstance(source, bool | int | float):
        value = source
        return Expr(repr(source), frozenset(), frozenset(), lambda env: value)
    text = source.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"bad expression {source!r}: {exc.msg}") from None
    names: set[str] = set()
    calls: set[str] = set()
    fn = _compile(tree.body, functions, names, calls, source)
    return Expr(text, frozenset(names), frozenset(calls), fn)


def _compile(
    node: ast.AST,
    functions: Mapping[str, Callable],
    names: set[str],
    calls: set[str],
    source: str,
) -> Compiled:
    def sub(n: ast.AST) -> Compiled:
        return _compile(n, functions, names, calls, source)

    if isinstance(node, ast.Constant):
        value = node.value
        if not isinstance(value, int | float | str | bool | type(None)):
            raise ExprError(f"bad expression {source!r}: unsupported constant")
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id
        if name in ("true", "false", "none"):
            const = {"true": True, "false": False, "none": None}[name]
            return lambda env: const
        names.add(name)
        return lambda env: env[name]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        op, left, right = _BINOPS[type(node.op)], sub(node.left), sub(node.right)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        uop, operand = _UNARY[type(node.op)], sub(node.operand)
        return lambda env: uop(operand(env))
    if isinstance(node, ast.BoolOp):
        parts = [sub(v) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: _all_and(parts, env)
        return lambda env: _any_or(parts, env)
    if isinstance(node, ast.Compare) and all(type(o) in _COMPARE for o in node.ops):
        first = sub(node.left)
        chain = [
            (_COMPARE[type(o)], sub(c)) for o, c in zip(node.ops, node.comparators, strict=True)
        ]
        return lambda env: _compare(first, chain, env)
    if isinstance(node, ast.IfExp):
        test, body, orelse = sub(node.test), sub(node.body), sub(node.orelse)
        return lambda env: body(env) if test(env) else orelse(env)
    if isinstance(node, ast.List | ast.Tuple):
        items = [sub(e) for e in node.elts]
        return lambda env: [item(env) for item in items]
    if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
        target, index = sub(node.value), sub(node.slice)
        return lambda env: target(env)[index(env)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        fname = node.func.id
        if fname not in functions:
            known = ", ".join(sorted(functions)) or "none"
            raise ExprError(f"unknown function {fname!r} in {source!r} (known: {known})")
        calls.add(fname)
        func = functions[fname]
        args = [sub(a) for a in node.args]
        return lambda env: func(env, *[a(env) for a in args])
    raise ExprError(f"bad expression {source!r}: {type(node).__name__} is not allowed")


def _all_and(parts: list[Compiled], env: Env) -> Any:
    value: Any = True
    for part in parts:
        value = part(env)
        if not value:
            return value
    return value


def _any_or(parts: list[Compiled], env: Env) -> Any:
    value: Any = False
    for part in parts:
        value = part(env)
        if value:
            return value
    return value


def _compare(first: Compiled, chain: list[tuple[Callable, Compiled]], env: Env) -> bool:
    left = first(env)
    for op, right_fn in chain:
        right = right_fn(env)
        if not op(left, right):
            return False
        left = right
    return True


@dataclass(frozen=True, slots=True)
class Template:
    """A log template: literal text with ``{expression[:spec]}`` fields."""

    source: str
    names: frozenset[str]
    calls: frozenset[str]
    _parts: tuple[tuple[str, Expr | None, str, str | None], ...]

    def __call__(self, env: Env) -> str:
        out: list[str] = []
        for literal, expr, spec, conversion in self._parts:
            out.append(literal)
            if expr is not None:
                value = expr(env)
                if conversion == "r":
                    value = repr(value)
                elif conversion == "s":
                    value = str(value)
                out.append(format(value, spec))
        return "".join(out)


def compile_template(source: str, functions: Mapping[str, Callable]) -> Template:
    """Compile a ``{field}`` template; each field is a safe expression."""
    parts: list[tuple[str, Expr | None, str, str | None]] = []
    names: set[str] = set()
    calls: set[str] = set()
    try:
        parsed = list(Formatter().parse(source))
    except ValueError as exc:
        raise ExprError(f"bad template {source!r}: {exc}") from None
    for literal, field, spec, conversion in parsed:
        expr = None
        if field is not None:
            if not field.strip():
                raise ExprError(f"bad template {source!r}: empty {{}} field")
            if conversion not in (None, "r", "s"):
                raise ExprError(f"bad template {source!r}: conversion !{conversion}")
            expr = compile_expr(field, functions)
            names |= expr.names
            calls |= expr.calls
        parts.append((literal, expr, spec or "", conversion))
    return Template(source, frozenset(names), frozenset(calls), tuple(parts))
