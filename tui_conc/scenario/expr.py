"""Safe expressions and templates for scenario files.

A scenario may compute values (``temp - 1``), test conditions (``not ready``)
and format log lines (``"{actor} got {item}"``). Text from a file is never
passed to ``eval``: it is parsed with :mod:`ast`, checked against a small
whitelist of node kinds, and compiled into plain Python closures.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from string import Formatter
from typing import Any

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]


class ExprError(ValueError):
    """An expression or template that cannot be compiled."""


class LimitError(ValueError):
    """An evaluation that would grow past the limits below (raised while evaluating)."""


#: The limits of one evaluation: whole numbers of at most this many bits (printable:
#: Python refuses to print more than 4,300 digits), strings and lists of at most this
#: many items, expressions nested at most this deep and this long.
MAX_INT_BITS = 14_000
MAX_ITEMS = 1_000_000
MAX_DEPTH = 60
MAX_SOURCE = 5_000
#: The widest a template field may be formatted.
MAX_WIDTH = 1_000


def _sized(value: Any) -> Any:
    """``value``, unless it is past the limits."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INT_BITS:
            raise LimitError(f"a number of over {MAX_INT_BITS:,} bits")
    elif isinstance(value, str | list | tuple) and len(value) > MAX_ITEMS:
        raise LimitError(f"over {MAX_ITEMS:,} items")
    return value


def _items(iterable: Any) -> list[Any]:
    """The items of ``iterable``, at most MAX_ITEMS of them."""
    if isinstance(iterable, str | list | tuple | dict) and len(iterable) <= MAX_ITEMS:
        return list(iterable)
    out = []
    for item in iterable:
        out.append(item)
        if len(out) > MAX_ITEMS:
            raise LimitError(f"over {MAX_ITEMS:,} items")
    return out


def _extreme(pick: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """min / max of several values, or of the items of one."""
    values = _items(args[0]) if len(args) == 1 else list(args)
    if not values:
        raise ValueError(f"{pick.__name__}() of nothing")
    return pick(values)


def _range(*args: Any) -> list[int]:
    bounds = range(*(int(x) for x in args[:3]))
    if len(bounds) > MAX_ITEMS:
        raise LimitError(f"range of {len(bounds):,} numbers (at most {MAX_ITEMS:,})")
    return list(bounds)


#: Plain functions every kind of expression may call (steps and expectations).
COMMON_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": lambda env, x: len(x),
    "min": lambda env, *a: _extreme(min, a),
    "max": lambda env, *a: _extreme(max, a),
    "abs": lambda env, x: abs(x),
    "int": lambda env, x: int(x),
    "float": lambda env, x: float(x),
    "str": lambda env, x: str(x),
    "round": lambda env, x, d=0: round(x, int(d)),
    "sorted": lambda env, items: sorted(_items(items)),
    "sum": lambda env, items: _sized(sum(_items(items))),
    "range": lambda env, *a: _range(*a),
    "all": lambda env, items: all(_items(items)),
    "any": lambda env, items: any(_items(items)),
}


_SEQ = str | list | tuple


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQ) and isinstance(b, _SEQ) and len(a) + len(b) > MAX_ITEMS:
        raise LimitError(f"over {MAX_ITEMS:,} items")
    return _sized(a + b)


def _mul(a: Any, b: Any) -> Any:
    for seq, n in ((a, b), (b, a)):
        if isinstance(seq, _SEQ) and isinstance(n, int) and len(seq) * n > MAX_ITEMS:
            raise LimitError(f"over {MAX_ITEMS:,} items")
    if (
        isinstance(a, int)
        and isinstance(b, int)
        and a.bit_length() + b.bit_length() > MAX_INT_BITS + 1
    ):
        raise LimitError(f"a number of over {MAX_INT_BITS:,} bits")
    return a * b


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: _add,
    ast.Sub: operator.sub,
    ast.Mult: _mul,
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


def _power(a: Any, b: Any) -> Any:
    """``a ** b``, refused when the result would be past the limits (before computing it)."""
    if isinstance(a, int | float) and isinstance(b, int | float) and b > 0:
        size = abs(a)
        if size > 1 and b * math.log2(size) > MAX_INT_BITS:
            raise LimitError(f"{a!r} ** {b!r} is past {MAX_INT_BITS:,} bits")
    try:
        return a**b
    except OverflowError:
        raise LimitError(f"{a!r} ** {b!r} is too large") from None


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
    if len(text) > MAX_SOURCE:
        raise ExprError(f"expression too long ({len(text):,} characters, at most {MAX_SOURCE:,})")
    shown = text if len(text) <= 60 else text[:57] + "..."
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"bad expression {shown!r}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError(f"bad expression {shown!r}: nested too deeply") from None
    # each level of nesting takes a character at least: a short text cannot be deep
    if len(text) > MAX_DEPTH and _depth(tree.body) > MAX_DEPTH:
        raise ExprError(f"expression {shown!r} is nested too deeply (at most {MAX_DEPTH} levels)")
    names: set[str] = set()
    calls: set[str] = set()
    fn = _compile(tree.body, functions, names, calls, shown)
    return Expr(text, frozenset(names), frozenset(calls), fn)


def _depth(root: ast.AST) -> int:
    """How deep ``root`` nests (without recursion: the input may be deep)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


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
    if isinstance(node, ast.ListComp | ast.GeneratorExp):
        return _comprehension(node, functions, names, calls, source)
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


def _comprehension(
    node: ast.ListComp | ast.GeneratorExp,
    functions: Mapping[str, Callable],
    names: set[str],
    calls: set[str],
    source: str,
) -> Compiled:
    """``[f(x) for x in items if cond(x)]``: one ``for`` over a plain name, with ifs."""
    if len(node.generators) != 1:
        raise ExprError(f"bad expression {source!r}: one 'for' per comprehension")
    gen = node.generators[0]
    if not isinstance(gen.target, ast.Name) or gen.is_async:
        raise ExprError(f"bad expression {source!r}: 'for' takes one plain name")
    var = gen.target.id
    items = _compile(gen.iter, functions, names, calls, source)
    inner: set[str] = set()
    elt = _compile(node.elt, functions, inner, calls, source)
    conds = [_compile(c, functions, inner, calls, source) for c in gen.ifs]
    names |= inner - {var}

    def comprehension(env: Env) -> list[Any]:
        scope = _Scope(env, var)
        out = []
        for item in _items(items(env)):
            scope.value = item
            if all(c(scope) for c in conds):
                out.append(elt(scope))
        return out

    return comprehension


class _Scope(Mapping[str, Any]):
    """``env`` with one more name (a comprehension's variable); attributes pass through
    (functions read the actor's random stream or the run's snapshot from ``env``)."""

    def __init__(self, env: Env, name: str) -> None:
        self._env, self._name = env, name
        self.value: Any = None

    def __getitem__(self, key: str) -> Any:
        return self.value if key == self._name else self._env[key]

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._env, attr)

    def __iter__(self) -> Any:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)


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
            if any(int(n) > MAX_WIDTH for n in re.findall(r"\d+", spec or "")):
                raise ExprError(f"bad template {source!r}: fields are at most {MAX_WIDTH} wide")
            expr = compile_expr(field, functions)
            names |= expr.names
            calls |= expr.calls
        parts.append((literal, expr, spec or "", conversion))
    return Template(source, frozenset(names), frozenset(calls), tuple(parts))
