"""Would a step block? Probes for the controlled scheduler (step mode, exploration).

A probe looks at the real primitives (a lock's owner, a queue's size, an
event's flag) without touching them, while every actor is parked: the
scheduler offers only the actors whose next step can go, and says what
stops the others. A step with a timeout never blocks for good (it may time
out), so it has no probe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_conc.engine.primitives.locks import LockLike
from tui_conc.engine.primitives.queues import Queue
from tui_conc.engine.primitives.sync import Condition, Event
from tui_conc.engine.steps.compiling import expr
from tui_conc.engine.steps.context import RunContext
from tui_conc.scenario.resources import member

if TYPE_CHECKING:
    from tui_conc.engine.scheduler.controlled import Probe
    from tui_conc.scenario import model as m


def probe_of(
    run: RunContext, s: m.Step, kind: str, field: str | None, ref: tuple[str, str] | None
) -> Probe | None:
    """The probe of step ``s`` (``None``: it never blocks for good)."""
    if field is None or getattr(s, "timeout", None) is not None:
        return None
    if kind == "acquire" and not s.blocking:  # type: ignore[attr-defined]
        return None
    if kind in ("put", "get") and not s.block:  # type: ignore[attr-defined]
        return None
    if kind not in ("acquire", "with", "wait", "get", "put", "join"):
        return None
    target = resolver(run, getattr(s, field), ref)

    def probe(actor: int, frame: Any) -> str | None:
        res, name = target(frame)
        if isinstance(res, Condition):
            if kind == "wait":
                return None  # it lets go of the lock first; the wait inside is the scheduler's
            res = res.lock
        if isinstance(res, LockLike):
            thread = run.actors[actor].thread  # type: ignore[attr-defined]
            return None if res.free_for(getattr(thread, "ident", None)) else name
        if isinstance(res, Event):
            return None if res.is_set() else name
        if isinstance(res, Queue):
            if kind == "get":
                return f"{name} (empty)" if not res.raw.qsize() else None
            if kind == "put":
                return f"{name} (full)" if res.raw.full() else None
            return f"{name} (unfinished tasks)" if res.raw.unfinished_tasks else None
        if kind == "join" and res is None:  # a group of actors
            left = [a for a in run.groups.get(name, ()) if a.thread is not None and not a.finished]
            return f"join {left[0].name}" if left else None
        return None

    return probe


def resolver(run: RunContext, target: str, ref: tuple[str, str] | None) -> Any:
    """``frame -> (resource or None, name)``: a family member is picked as the step would."""
    if ref is None:
        res = run.by_name.get(target)
        return lambda frame: (res, target)
    family, index_source = ref
    index = expr(index_source)
    members = run.by_name[family]

    def pick(frame: Any) -> tuple[Any, str]:
        k = index(frame)
        if isinstance(k, bool) or not isinstance(k, int) or not -len(members) <= k < len(members):
            return None, target  # the step itself will fail, and say why
        return members[k], member(family, k % len(members))

    return pick
