"""Who could wake whom: what each actor group's steps may do to each resource.

A deadlock verdict must be certain (see the README's rule): an actor blocked
on a semaphore is stuck for good only if nobody who could still release it
is able to run. Any thread may release a semaphore or a plain ``Lock``, so
"who holds it" is not enough; what decides is who *could* release it. The
answer comes from the scenario itself: an actor can give a lock back only
through a ``release`` step or the end of a ``with`` block, put to a queue
only through a ``put`` step, and so on. Every step counts, reachable or
not, so the sets over-approximate: a verdict drawn from them is sound.

The result goes into the run's header (the fold reads traces too, without
the scenario): per group, a list of ``[verb, resource]`` pairs, where a
lock-like resource is named by the resource whose index its events carry
(a condition's own lock, or the lock it was given).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tui_conc.scenario import model as m
from tui_conc.scenario.resources import family_ref

#: Verbs that may end another actor's wait, by the kind of wait they end.
RELEASE, WITH, PUT, GET, TASK_DONE, SET, NOTIFY, SEND, ARRIVE, SUBMIT = (
    "release",
    "with",
    "put",
    "get",
    "task_done",
    "set",
    "notify",
    "send",
    "arrive",
    "submit",
)
#: The resource name of an effect on every resource of its kind (an expression target).
ANY = "*"


def _indices(index: dict[str, list[int]], res: str) -> list[int]:
    """The resources an effect's target names: one, a whole family, or any (-1)."""
    if res == ANY:
        return [-1]
    ref = family_ref(res)
    return index.get(ref[0] if ref else res, [])


def lock_of(sc: m.Scenario, name: str) -> str:
    """The resource whose index a lock-like's events carry (a condition's lock)."""
    ref = family_ref(name)
    res = sc.resources.get(ref[0] if ref else name)
    if res is not None and res.type == "condition" and res.lock:
        return res.lock
    return name


def _walk(steps: list[Any]) -> Iterator[Any]:
    for step in steps:
        yield step
        for key in m.NESTED.get(m.STEP_KIND[type(step)], ()):
            yield from _walk(getattr(step, {"else": "else_"}.get(key, key)) or [])


def _step_effects(sc: m.Scenario, step: Any) -> Iterator[tuple[str, str]]:
    if isinstance(step, m.Release):
        yield RELEASE, lock_of(sc, step.release)
    elif isinstance(step, m.With):
        yield WITH, lock_of(sc, step.with_)
    elif isinstance(step, m.Put):
        yield PUT, step.put
    elif isinstance(step, m.Get):
        yield GET, step.get
    elif isinstance(step, m.TaskDone):
        yield TASK_DONE, step.task_done
    elif isinstance(step, m.SetEvent):
        yield SET, step.set
    elif isinstance(step, m.Notify):
        yield NOTIFY, step.notify
    elif isinstance(step, m.NotifyAll):
        yield NOTIFY, step.notify_all
    elif isinstance(step, m.Wait):
        ref = family_ref(step.wait)
        res = sc.resources.get(ref[0] if ref else step.wait)
        if res is not None and res.type == "barrier":
            yield ARRIVE, step.wait
    elif isinstance(step, m.Submit):
        yield SUBMIT, step.submit
    elif isinstance(step, m.Map):
        yield SUBMIT, step.map
    elif isinstance(step, m.Send | m.Close):
        target = step.send if isinstance(step, m.Send) else step.close
        yield SEND, _pipe_of(sc, target)


def _pipe_of(sc: m.Scenario, target: Any) -> str:
    """The pipe a send or close targets, when its target names a pipe end; else ANY."""
    if isinstance(target, str):
        for name, res in sc.resources.items():
            if res.type == "pipe" and target.strip() in res.ends:
                return name
    return ANY


def group_effects(sc: m.Scenario) -> dict[str, list[tuple[str, str]]]:
    """Actor group (and pool: its workers run every task) → its (verb, resource) pairs."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name, actor in sc.actors.items():
        out[name] = sorted({e for s in _walk(actor.steps) for e in _step_effects(sc, s)})
    pools = [n for n, r in sc.resources.items() if r.type == "pool"]
    if pools:
        tasks = sorted(
            {e for t in sc.tasks.values() for s in _walk(t.steps) for e in _step_effects(sc, s)}
        )
        for pool in pools:
            out[pool] = tasks
    return out


def starters(sc: m.Scenario) -> dict[str, list[str]]:
    """Group → the groups whose steps start it (``start: group``)."""
    out: dict[str, set[str]] = {name: set() for name in sc.actors}
    for name, actor in sc.actors.items():
        for step in _walk(actor.steps):
            if isinstance(step, m.Start) and step.start in out:
                out[step.start].add(name)
    return {group: sorted(by) for group, by in out.items()}


def header_info(sc: m.Scenario, names: list[str]) -> dict[str, Any]:
    """What the run's header carries for the fold's analyses, resources by their index
    in ``names`` (the run's resources; a family's members are ``fork[0]`` …)."""
    index: dict[str, list[int]] = {}
    for k, name in enumerate(names):
        index.setdefault(name, []).append(k)
        ref = family_ref(name)
        if ref is not None:
            index.setdefault(ref[0], []).append(k)
    effects = {
        group: sorted({(verb, k) for verb, res in pairs for k in _indices(index, res)})
        for group, pairs in group_effects(sc).items()
    }
    return {
        "effects": {group: [list(e) for e in pairs] for group, pairs in effects.items()},
        "starters": starters(sc),
        "autostart": {name: actor.autostart for name, actor in sc.actors.items()},
    }
