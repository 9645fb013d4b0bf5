"""A traced program's ``asyncio``: every task it creates is an actor, from its creation
to its end, and where each one waits is sampled (as a profiler samples), never
judged: any task, timer or callback may cancel the one awaited."""

from __future__ import annotations

import _thread
import os
import sys
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument, naming

#: The program's live tasks → (actor, the state last reported: "run", a task's actor, "future")
_tasks: dict[Any, tuple[int, Any]] = {}


def patch_asyncio(tasks: Any) -> None:
    """``asyncio.tasks.Task`` (what ``create_task`` makes) becomes a subclass that is an
    actor from its creation to its end; where it waits is sampled (``sample_tasks``)."""
    base = tasks.Task
    if getattr(base, "_tui_traced", False):
        return

    class Task(base):  # type: ignore[misc, valid-type]
        _tui_traced = True

        def __init__(self, coro: Any, *args: Any, **kwargs: Any) -> None:
            super().__init__(coro, *args, **kwargs)
            code = getattr(coro, "cr_code", None)
            if instrument.REGISTRY is None or instrument.REGISTRY.child or code is None:
                return
            if naming.is_library(code.co_filename):
                return  # asyncio's own (shutting down async generators…)
            _tasks[self] = (-1, "run")  # an actor once its name is final (create_task names
            self.add_done_callback(_task_done)  # it after making it)

    Task.__name__ = Task.__qualname__ = "Task"
    tasks.Task = Task


_task_lock = _thread.allocate_lock()  #: the loop's thread and the sampler both make task actors


def _task_actor(task: Any, end: bool = False) -> int:
    """The task's actor, made the first time it is needed (-1: not a live traced task);
    ``end``: it is done, forget it."""
    assert instrument.REGISTRY is not None
    with _task_lock:
        entry = _tasks.pop(task, None) if end else _tasks.get(task)
        if entry is None:
            return -1
        actor, state = entry
        if actor < 0:
            coro = task.get_coro()
            label = getattr(coro, "__qualname__", type(coro).__name__)
            actor = instrument.REGISTRY.new_actor(f"{task.get_name()} ({label})", True)
            t = monotonic_ns()
            instrument._emit((ev.ACTOR_SPAWNED, actor, -1, t))
            instrument._emit((ev.ACTOR_START, actor, -1, t, actor))
            if not end:
                _tasks[task] = (actor, state)
        return actor


def task_writer() -> int | None:
    """The actor of the task running now on this thread, if any (its prints are its own)."""
    if not _tasks:
        return None
    asyncio = sys.modules.get("asyncio")
    try:
        task = asyncio.current_task() if asyncio is not None else None
    except RuntimeError:
        return None
    return _task_actor(task) if task in _tasks else None


def _task_done(task: Any) -> None:
    actor, t = _task_actor(task, end=True), monotonic_ns()
    if actor < 0:
        return
    if task.cancelled():
        instrument._emit((ev.ACTOR_KILLED, actor, -1, t, "cancelled"))
    elif task.exception() is not None:
        exc = task.exception()
        instrument._emit((ev.ACTOR_FAILED, actor, -1, t, f"{type(exc).__name__}: {exc}"))
    else:
        instrument._emit((ev.ACTOR_DONE, actor, -1, t))


def sample_tasks() -> None:
    """Report each live task's state when it changed: running (or ready), awaiting a
    task, awaiting any other future (a timer, IO, a lock's waiter). Called from the
    runner's flusher: a sample, as py-spy's, so the program's own code is untouched."""
    for task, (actor, last) in list(_tasks.items()):
        actor = _task_actor(task)
        waiter = getattr(task, "_fut_waiter", None)
        if waiter is None:
            now: Any = "run"
        else:
            now = _task_actor(waiter) if waiter in _tasks else -1
            now = "future" if now < 0 else now
        with _task_lock:
            if now == last or task not in _tasks or task.done():
                continue
            _tasks[task] = (actor, now)
        t = monotonic_ns()
        if now == "run":
            instrument._emit((ev.RUN, actor, -1, t))
            continue
        frame = getattr(task.get_coro(), "cr_frame", None)
        registry = instrument.REGISTRY
        site = registry.site(frame) if registry is not None and frame is not None else -1
        if now == "future":
            instrument._emit((ev.WAIT, actor, -1, t, site, "future", None))
        else:
            instrument._emit((ev.WAIT, actor, now, t, site, "await", None))


def writer() -> int:
    """Who is writing now (for the runner's log taps): the running task, else the thread."""
    task = task_writer()
    return instrument._me() if task is None else task


os.register_at_fork(after_in_child=_tasks.clear)  # a forked child reports nothing
