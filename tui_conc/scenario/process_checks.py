"""Load-time checks for the multiprocessing parts of the format: pipes, pools and tasks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tui_conc.scenario import model as m

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_POOL_STEPS = (m.Submit, m.Map, m.Terminate)
_NOT_SHAREABLE = frozenset({"listener", "selector", "http_server"})


def check_process_resources(sc: m.Scenario, problem: Callable[..., Exception]) -> set[str]:
    """Check pipes, pools and where pool steps run; returns the pipe end names."""
    ends: set[str] = set()
    taken = set(sc.resources) | set(sc.actors) | set(sc.knobs)
    for name, res in sc.resources.items():
        path = ("resources", name)
        if res.type == "pipe":
            if len(res.ends) != 2 or not all(_IDENT.match(e) for e in res.ends):
                raise problem((*path, "ends"), f"pipe {name!r}: ends must name its two ends")
            for end in res.ends:
                if end in taken or end in ends or end in m.BACKENDS:
                    raise problem((*path, "ends"), f"pipe {name!r}: the name {end!r} is taken")
                ends.add(end)
        elif res.type == "pool" and "process" not in sc.supported:
            raise problem((*path, "type"), f"pool {name!r} needs the process backend")
        if "process" in sc.supported:
            if res.type in _NOT_SHAREABLE:
                raise problem(
                    (*path, "type"),
                    f"a {res.type} ({name!r}) cannot be shared between processes"
                    " (this scenario lists the process backend)",
                )
            if res.type == "queue" and res.kind != "fifo":
                raise problem(
                    (*path, "kind"),
                    f"queue {name!r}: a multiprocessing queue is FIFO only"
                    " (this scenario lists the process backend)",
                )
    if "process" in sc.supported:
        for group, actor in sc.actors.items():
            if actor.runs_in != "main" and _uses_pool(actor.steps):
                raise problem(
                    ("actors", group),
                    f"actor {group!r} uses a pool: a pool belongs to the process that made it"
                    " (add runs_in: main)",
                )
    return ends


def task_args(sc: m.Scenario, task: str) -> set[str]:
    """The names a task receives: the args of every submit of it, ``item`` for a map."""
    out: set[str] = set()

    def walk(steps: list[Any]) -> None:
        for step in steps:
            if isinstance(step, m.Submit) and step.task == task and step.args:
                out.update(step.args)
            elif isinstance(step, m.Map) and step.task == task:
                out.add("item")
            for key in m.NESTED.get(m.STEP_KIND[type(step)], ()):
                walk(getattr(step, {"else": "else_"}.get(key, key)) or [])

    for actor in sc.actors.values():
        walk(actor.steps)
    return out


def _uses_pool(steps: list[Any]) -> bool:
    for step in steps:
        if isinstance(step, _POOL_STEPS):
            return True
        for key in m.NESTED.get(m.STEP_KIND[type(step)], ()):
            if _uses_pool(getattr(step, {"else": "else_"}.get(key, key)) or []):
                return True
    return False
