"""Resources shared between processes: made once by the parent, wrapped in every process.

:func:`make_raws` builds the ``multiprocessing`` objects (locks, queues,
pipes, Manager proxies) in the main process; each child receives them when
it is spawned and :func:`wrap_resources` puts the same instrumented wrappers
around them as a thread would use, reporting to that process's own emit.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from tui_conc.engine.backends.control import Control
from tui_conc.engine.primitives.base import Emit
from tui_conc.engine.primitives.locks import LockLike
from tui_conc.engine.primitives.shared import (
    PipeEnd,
    ProcessQueue,
    ProcessVariable,
    SharedDict,
    SharedList,
)
from tui_conc.engine.primitives.sync import Barrier, Condition, Event
from tui_conc.engine.steps.frame import Family
from tui_conc.scenario import model as m
from tui_conc.scenario.resources import expand, initial
from tui_conc.scenario.sizes import built_resources, resource_sizes

#: The start method: spawn (see the README). The runner has threads before any
#: child starts, so fork could copy a lock some thread holds; forkserver would
#: make every child's parent the fork server instead of the main process.
CTX = multiprocessing.get_context("spawn")


class SharedControl(Control):
    """Pause and back-pressure for every process of a run: one shared flag.

    Actors test the plain ``hold`` attribute at every step (reading shared
    memory through ctypes each time would cost more than the step); a child
    refreshes it from the flag every few milliseconds (:meth:`refresh`).
    """

    def __init__(self, flag: Any = None) -> None:
        super().__init__()
        self.flag = flag if flag is not None else CTX.RawValue("b", 0)
        self.refresh()

    def refresh(self) -> None:
        """Read the shared flag (a child's channel calls this every round)."""
        value = self.flag.value
        self.hold = bool(value)
        self.paused = value == 2

    def _update(self) -> None:
        super()._update()
        self.flag.value = 2 if self.paused else 1 if self.hold else 0

    def wait(self) -> None:
        while self.flag.value:
            time.sleep(0.005)
        self.hold = False


class NotShareable(ValueError):
    """A resource type that cannot live between processes (sockets, selectors)."""


def make_raws(
    scenario: m.Scenario, env: dict[str, Any], manager: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The multiprocessing objects behind each resource, and the header's resource info.

    ``manager`` is called (once) for a Manager when a dict, list or variable needs one.
    Pools are left to the caller (their raw entry is None).
    """
    raws: dict[str, Any] = {}
    infos: list[dict[str, Any]] = []
    for slot, size, info in built_resources(scenario, env):
        name, res = slot.name, slot.res
        kind = res.type
        raw: Any = None
        if kind == "lock":
            raw = CTX.Lock()
        elif kind == "rlock":
            raw = CTX.RLock()
        elif kind in ("semaphore", "bounded_semaphore"):
            value = size["value"]
            raw = (CTX.Semaphore if kind == "semaphore" else CTX.BoundedSemaphore)(value)
            info["value"] = value
        elif kind == "condition":
            lock = raws[res.lock] if res.lock else CTX.Lock()
            raw = (lock, CTX.Condition(lock))
            info["lock"] = res.lock
        elif kind == "event":
            raw = CTX.Event()
            if initial(res, env):
                raw.set()
            info["value"] = raw.is_set()
        elif kind == "barrier":
            info["parties"] = parties = size["parties"]
            raw = CTX.Barrier(parties)
        elif kind == "queue":
            if res.kind != "fifo":
                raise NotShareable(f"queue {name!r}: a multiprocessing queue is FIFO only")
            maxsize = size["maxsize"]
            raw = CTX.JoinableQueue(maxsize)
            for item in res.items:
                raw.put(item)
                raw._unfinished_tasks.acquire(False)  # initial items are not tasks
            info.update(kind="fifo", maxsize=maxsize, initial=len(res.items))
        elif kind == "pipe":
            raw = CTX.Pipe(res.duplex)
            info.update(ends=list(res.ends), duplex=res.duplex)
        elif kind == "dict":
            raw = manager().dict(initial(res, env))
            info["value"] = initial(res, env)
        elif kind == "list":
            raw = manager().list(initial(res, env))
            info["value"] = initial(res, env)
        elif kind == "variable":
            info["value"] = value = initial(res, env)
            raw = manager().Value("O", value)
        elif kind == "pool":
            info["workers"] = size["workers"]
        else:
            raise NotShareable(f"a {kind} ({name!r}) cannot be shared between processes")
        raws[name] = raw
        infos.append(info)
    return raws, infos


def wrap_resources(
    scenario: m.Scenario, raws: dict[str, Any], emit: Emit, env: dict[str, Any]
) -> dict[str, Any]:
    """The instrumented wrappers around ``raws``, for one process; pipe ends by their
    names, a family's members under its name too."""
    out: dict[str, Any] = {}
    for index, slot in enumerate(expand(scenario, env)):
        name, res = slot.name, slot.res
        raw, kind = raws.get(name), res.type
        obj: Any = None
        if kind in ("lock", "rlock", "semaphore", "bounded_semaphore"):
            value = resource_sizes(slot.family or name, res, env).get("value", 1)
            obj = LockLike(index, emit, kind, value, raw=raw)
        elif kind == "condition":
            lock_raw, cond_raw = raw
            base = out[res.lock] if res.lock else LockLike(index, emit, "lock", raw=lock_raw)
            obj = Condition(index, emit, base, raw=cond_raw)
        elif kind == "event":
            obj = Event(index, emit, raw=raw)
        elif kind == "barrier":
            obj = Barrier(index, emit, raw.parties, raw=raw)
        elif kind == "queue":
            obj = ProcessQueue(index, emit, raw)
        elif kind == "pipe":
            for end, conn in zip(res.ends, raw, strict=True):
                out[end] = PipeEnd(index, emit, conn, end)
        elif kind == "dict":
            obj = SharedDict(index, emit, raw)
        elif kind == "list":
            obj = SharedList(index, emit, raw)
        elif kind == "variable":
            obj = ProcessVariable(index, emit, raw)
        if obj is not None:
            out[name] = obj
            if slot.family is not None:
                out.setdefault(slot.family, Family()).append(obj)
    return out
