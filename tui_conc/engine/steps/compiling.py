"""What compiling a step needs: the functions its expressions may call,
cached expression compilation, and small helpers shared by the step compilers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from time import monotonic_ns
from typing import TYPE_CHECKING, Any

from tui_conc.engine.primitives.queues import Queue
from tui_conc.scenario import model as m
from tui_conc.scenario.expr import (
    COMMON_FUNCTIONS,
    Expr,
    Template,
    compile_expr,
    compile_template,
)

if TYPE_CHECKING:
    from tui_conc.engine.steps.frame import Frame

#: A compiled step or block: run it on an actor's frame.
Block = Callable[["Frame"], None]


def give_up(handler: Block | None, error: Exception, f: Frame) -> None:
    """A call gave up (Full, Empty, nothing to read): run the step's block, or raise as Python."""
    if handler is None:
        raise error
    handler(f)


def _q(res: Any) -> Queue:
    if not hasattr(res, "qsize"):
        raise TypeError("expected a queue")
    return res  # a thread queue or a process queue


STEP_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "empty": lambda env, q: _q(q).empty(),
    "full": lambda env, q: _q(q).full(),
    "qsize": lambda env, q: _q(q).qsize(),
    "is_set": lambda env, e: e.is_set(),
    "locked": lambda env, lk: lk.locked(),
    "randint": lambda env, a, b: env.rng.randint(int(a), int(b)),
    "uniform": lambda env, a, b: env.rng.uniform(a, b),
    "alive": lambda env, name: env.run.alive(str(name)),
    "alive_count": lambda env: len(env.run.alive_names()),
    "alive_names": lambda env: env.run.alive_names(),
    "without": lambda env, items, x: [item for item in items if item is not x],
    "clock": lambda env: (monotonic_ns() - env.run.t0) / 1e9,
    **COMMON_FUNCTIONS,
}


@functools.lru_cache(maxsize=4096, typed=True)
def expr(value: Any) -> Expr:
    """Compile a step value (number, bool or expression); cached, as every copy of an
    actor compiles the same steps (10,000 greenlets parsed ``i`` 10,000 times)."""
    return compile_expr(value, STEP_FUNCTIONS)


def value_of(e: Expr) -> Callable[[Frame], Any]:
    """``e`` as a function of the frame, with a shortcut for a bare local name
    (``item: i``): one call instead of three on a step that may run millions of times."""
    name = e.source
    if e.names == {name} and not e.calls:

        def local(f: Frame) -> Any:
            loc = f.locals
            return loc[name] if name in loc else f[name]

        return local
    return e


@functools.lru_cache(maxsize=1024)
def template(text: str) -> Template:
    """Compile a log template; cached like :func:`expr`."""
    return compile_template(text, STEP_FUNCTIONS)


def timeout_of(value: Any) -> float | Callable[[Frame], float] | None:
    """A timeout: None (wait for ever), a constant, or a function of the frame."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return None if value is None else float(value)
    e = expr(value)
    return lambda f: float(e(f))


def at(value: float | Callable[[Frame], float] | None, f: Frame) -> float | None:
    return value(f) if callable(value) else value


def seconds_of(value: Any) -> Callable[[Frame], float]:
    if isinstance(value, m.RandomRange):
        lo, hi = expr(value.min), expr(value.max)
        return lambda f: f.rng.uniform(float(lo(f)), float(hi(f)))
    e = expr(value)
    return lambda f: float(e(f))
