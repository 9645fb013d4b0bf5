"""Load-time checks for the multiprocessing parts of the format: pipes, pools and tasks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tui_conc.scenario import model as m
from tui_conc.scenario.expr import ExprError, compile_expr, compile_template

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_POOL_STEPS = (m.Submit, m.Map, m.Terminate)
_NOT_SHAREABLE = frozenset({"listener", "selector", "http_server"})
#: Functions about the run's actors: only the main process knows them.
_MAIN_ONLY_CALLS = frozenset({"alive", "alive_count", "alive_names"})


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


#: What the dask backend shares through Dask's own primitives.
_ON_DASK = frozenset({"lock", "semaphore", "event", "queue", "variable"})


def check_dask(sc: m.Scenario, problem: Callable[..., Exception]) -> None:
    """A scenario that lists the dask backend uses only what Dask shares between workers."""
    for name, res in sc.resources.items():
        if res.local and ("dask" not in sc.supported or "process" in sc.supported):
            raise problem(
                ("resources", name, "local"),
                f"lock {name!r}: local (a lock of each process's own) is for scenarios on"
                " the dask backend (and not on processes)",
            )
    if "dask" not in sc.supported:
        return
    for name, res in sc.resources.items():
        if res.type not in _ON_DASK:
            raise problem(
                ("resources", name, "type"),
                f"a {res.type} ({name!r}) has no Dask counterpart (the dask backend shares"
                f" {', '.join(sorted(_ON_DASK))})",
            )
        if res.type == "queue" and (res.kind != "fifo" or res.items):
            raise problem(
                ("resources", name),
                f"queue {name!r}: a distributed.Queue is FIFO and starts empty",
            )
    queues = {n for n, r in sc.resources.items() if r.type == "queue"}
    for group, actor in sc.actors.items():
        _dask_walk(actor.steps, ("actors", group, "steps"), queues, problem)


def _dask_walk(
    steps: list[Any], path: tuple[Any, ...], queues: set[str], problem: Callable[..., Exception]
) -> None:
    for n, step in enumerate(steps):
        here = (*path, n)
        if isinstance(step, m.TaskDone) or (isinstance(step, m.Join) and step.join in queues):
            kind = m.STEP_KIND[type(step)]
            raise problem(
                (*here, kind),
                f"{kind}: a distributed.Queue has no task_done / join (this scenario lists"
                " the dask backend)",
            )
        for key in m.NESTED.get(m.STEP_KIND[type(step)], ()):
            inner = getattr(step, {"else": "else_"}.get(key, key)) or []
            _dask_walk(inner, (*here, key), queues, problem)


def check_child_steps(sc: m.Scenario, problem: Callable[..., Exception]) -> None:
    """What a child process cannot do, refused at load: start or join an actor, or ask
    which actors are alive (only the main process holds them; add ``runs_in: main``)."""
    if not m.REMOTE_BACKENDS & set(sc.supported):
        return
    for group, actor in sc.actors.items():
        if actor.runs_in != "main":
            _child_walk(sc, actor.steps, ("actors", group, "steps"), problem, f"actor {group!r}")
    for name, task in sc.tasks.items():
        _child_walk(sc, task.steps, ("tasks", name, "steps"), problem, f"task {name!r}")


def _child_walk(
    sc: m.Scenario,
    steps: list[Any],
    path: tuple[Any, ...],
    problem: Callable[..., Exception],
    who: str,
) -> None:
    for n, step in enumerate(steps):
        here = (*path, n)
        kind = m.STEP_KIND[type(step)]
        where = f"{who} runs in a child process on the process and dask backends"
        if isinstance(step, m.Join) and step.join in sc.actors:
            raise problem(
                (*here, "join"),
                f"join: {step.join!r}: {where}; only the main process"
                " can join an actor (add runs_in: main)",
            )
        if isinstance(step, m.Start):
            raise problem(
                (*here, "start"),
                f"start: {step.start!r}: {where}; only the main"
                " process can start an actor (add runs_in: main)",
            )
        for key, value in _expressions(step):
            if "alive" not in value:
                continue  # the only calls this looks for: no need to compile
            used = sorted(_calls(value, key == "log") & _MAIN_ONLY_CALLS)
            if used:
                raise problem(
                    (*here, key),
                    f"{used[0]}(): {where}; only the main process"
                    " knows which actors are alive (add runs_in: main)",
                )
        for key in m.NESTED.get(kind, ()):
            inner = getattr(step, {"else": "else_"}.get(key, key)) or []
            _child_walk(sc, inner, (*here, key), problem, who)


def _expressions(step: Any) -> list[tuple[str, Any]]:
    out = []
    for field in step.__struct_fields__:
        value = getattr(step, field)
        key = field.rstrip("_")
        if isinstance(value, str):
            out.append((key, value))
        elif isinstance(value, dict):
            out.extend((key, v) for v in value.values() if isinstance(v, str))
    return out


def _calls(value: str, template: bool) -> set[str]:
    """The functions an expression (or a log template) calls; none if it does not compile."""
    funcs = _AnyFunction()
    try:
        compiled = compile_template(value, funcs) if template else compile_expr(value, funcs)
    except ExprError:
        return set()
    return set(compiled.calls)


class _AnyFunction(dict):  # type: ignore[type-arg]
    """Every name is a known function (only which ones are called matters here)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> None:
        return None


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
