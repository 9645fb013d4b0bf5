"""A scenario's resources as a run has them: families expanded, initial values computed.

A resource with ``count: n`` is a *family*: ``fork: {type: lock, count: 5}`` is
five locks, ``fork[0]`` … ``fork[4]``, and a step names a member with an
expression (``with: "fork[(i + 1) % n]"``). Every backend, the run's header
and the fold see the same list, in the same order, so a child process
numbers the resources exactly as its parent does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tui_conc.scenario import model as m
from tui_conc.scenario.expr import COMMON_FUNCTIONS, compile_expr

#: At most this many members in one family.
MAX_FAMILY = 1_000
_REF = re.compile(r"^\s*([A-Za-z_]\w*)\s*\[(.+)\]\s*$", re.S)


@dataclass(frozen=True, slots=True)
class Slot:
    """One resource of the run: a plain resource, or one member of a family."""

    name: str  #: ``mutexA``, or ``fork[2]`` for a member
    res: m.Resource
    family: str | None = None  #: the family's name, for a member


def family_ref(target: Any) -> tuple[str, str] | None:
    """``"fork[(i + 1) % n]"`` → ``("fork", "(i + 1) % n")``; None for a plain name."""
    if not isinstance(target, str):
        return None
    match = _REF.match(target)
    return (match.group(1), match.group(2)) if match else None


def member(family: str, k: int) -> str:
    """The name of a family's k-th member."""
    return f"{family}[{k}]"


def evaluate(value: Any, knobs: Mapping[str, Any]) -> Any:
    """A value given as a number, a boolean or an expression over knobs."""
    if isinstance(value, str):
        return compile_expr(value, COMMON_FUNCTIONS)(knobs)
    return value


def family_size(res: m.Resource, knobs: Mapping[str, Any]) -> int:
    """How many members a family has, for these knobs (a clear error past the limits)."""
    n = evaluate(res.count, knobs)
    if not isinstance(n, int) or isinstance(n, bool):
        raise ValueError(f"count must be a whole number, got {n!r}")
    if not 0 <= n <= MAX_FAMILY:
        raise ValueError(f"count must be between 0 and {MAX_FAMILY:,}, got {n:,}")
    return n


def expand(sc: m.Scenario, knobs: Mapping[str, Any]) -> list[Slot]:
    """Every resource of a run of ``sc``, families expanded, in order."""
    out: list[Slot] = []
    for name, res in sc.resources.items():
        if res.count is None:
            out.append(Slot(name, res))
        else:
            out.extend(Slot(member(name, k), res, name) for k in range(family_size(res, knobs)))
    return out


def initial(res: m.Resource, knobs: Mapping[str, Any]) -> Any:
    """A resource's initial value: a variable's, dict's or list's (an expression over
    knobs when written as text), an event's (set or not)."""
    if res.type == "event":
        return bool(evaluate(res.value, knobs)) if res.value is not None else False
    if res.type in ("dict", "list"):
        value = evaluate(res.value, knobs)
        empty: Any = {} if res.type == "dict" else []
        return empty if value is None else (dict(value) if res.type == "dict" else list(value))
    return evaluate(res.value, knobs)
