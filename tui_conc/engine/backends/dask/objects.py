"""The scenario's resources on Dask's distributed primitives.

Each adapter is pickled by name and finds its Dask object in whatever
process unpickles it (a worker's task, or the runner for ``runs_in: main``):
Dask's primitives live on the scheduler, and every process names the same
one. The adapters give the instrumented wrappers of
:mod:`tui_conc.engine.primitives` the ``multiprocessing``-like calls they
make, so an actor on Dask reports the same events as one on threads.

Differences a lesson may show (Dask's, not ours): a lock or semaphore hold is a
*lease* that its holder's worker must keep refreshing, and only the object
that took it can give it back; a queue has no ``task_done`` / ``join`` and
no non-blocking ``get`` (its size is asked first).

A run must not leave its actors blocked on someone else's cluster: waits on
locks, semaphores and events are cut into slices (:data:`SLICE_S`) that
check whether the run is over (:class:`RunState`); a get blocked on a queue
receives an end-of-run marker instead (a queue's timeouts are logged as
errors by the scheduler, so it is not sliced).
"""

from __future__ import annotations

import queue
from time import monotonic_ns
from typing import Any

from tui_conc.engine.backends.dask.named import Named
from tui_conc.engine.backends.dask.runstate import RunOver, RunState, sliced
from tui_conc.engine.primitives.locks import LockLike
from tui_conc.engine.primitives.shared import ProcessVariable
from tui_conc.engine.primitives.sync import Event
from tui_conc.engine.steps.frame import Family
from tui_conc.engine.wire import events as ev
from tui_conc.scenario import model as m
from tui_conc.scenario.resources import expand, initial
from tui_conc.scenario.sizes import built_resources

#: Dask has no non-blocking get or put: the shortest wait stands in for one.
NO_WAIT_S = 0.01
#: What the runner puts in a queue at the end of a run, for each actor still waiting.
END_OF_RUN = "\x00tui-conc: the run is over\x00"


class DaskSemaphore(Named):
    """A ``distributed.Semaphore`` (``Lock`` is one with one lease) as a raw lock.

    ``lease``: seconds a holder may go without refreshing its lease (None: Dask's
    default, 30 s); set for this semaphore when it registers with the scheduler.
    """

    def __init__(self, name: str, value: int, lease: float | None, run_id: str) -> None:
        super().__init__(name, value, lease, run_id)
        self.name, self.value, self.lease = name, value, lease
        self.run = RunState(run_id)
        #: (emit, actor, resource index): where to say which lease a hold is
        self.report: tuple[Any, int, int] | None = None

    def _make(self, name: str, value: int, lease: float | None, run_id: str) -> Any:
        import dask
        from distributed import Semaphore

        settings = {} if lease is None else {"distributed.scheduler.locks.lease-timeout": lease}
        with dask.config.set(settings):
            sem = Semaphore(max_leases=value, name=name)
            sem.register()
        return sem

    def register(self) -> None:
        """Register with the scheduler now (its lease timeout is fixed then)."""
        _ = self.obj

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        sem = self.obj
        if blocking:
            ok = sliced(lambda s: bool(sem.acquire(timeout=s)), timeout, self.run)
        else:
            ok = bool(sem.acquire(timeout=0))
        if ok and self.report is not None:  # which lease is this actor's hold
            emit, actor, index = self.report
            emit((ev.LEASE, actor, index, monotonic_ns(), self.obj._leases[-1]))
        return ok

    def release(self) -> None:
        self.obj.release()

    def locked(self) -> bool:
        return self.get_value() >= self.value

    def get_value(self) -> int:
        """Leases held now (the scheduler's count)."""
        return int(self.obj.get_value())

    def lease_ids(self) -> list[str]:
        """This process's leases on it, oldest first (what the scheduler knows them by)."""
        return list(self.obj._leases)


class DaskEvent(Named):
    """A ``distributed.Event``: already ``set`` / ``clear`` / ``is_set`` / ``wait``."""

    def __init__(self, name: str, run_id: str) -> None:
        super().__init__(name, run_id)
        self.run = RunState(run_id)

    def _make(self, name: str, run_id: str) -> Any:
        from distributed import Event as DistributedEvent

        return DistributedEvent(name)

    def set(self) -> None:
        self.obj.set()

    def clear(self) -> None:
        self.obj.clear()

    def is_set(self) -> bool:
        return bool(self.obj.is_set())

    def wait(self, timeout: float | None = None) -> bool:
        event = self.obj
        return sliced(lambda s: bool(event.wait(s)), timeout, self.run)


class DaskValue(Named):
    """A ``distributed.Variable`` with a ``value`` (what :class:`ProcessVariable` reads)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)

    def _make(self, name: str) -> Any:
        from distributed import Variable

        return Variable(name)

    @property
    def value(self) -> Any:
        return self.obj.get()

    @value.setter
    def value(self, value: Any) -> None:
        self.obj.set(value)


class DaskQueueRaw(Named):
    """A ``distributed.Queue``; get and put wait with timeouts, raising ``queue.Empty``
    / ``queue.Full`` as the standard library's do."""

    def __init__(self, name: str, maxsize: int, run_id: str) -> None:
        super().__init__(name, maxsize, run_id)
        self.maxsize = maxsize
        self.run = RunState(run_id)

    def _make(self, name: str, maxsize: int, run_id: str) -> Any:
        from distributed import Queue

        return Queue(name, maxsize=maxsize)

    def put(self, item: Any, timeout: float | None = None) -> None:
        try:
            self.obj.put(item, timeout=timeout)
        except TimeoutError:
            raise queue.Full from None

    def get(self, timeout: float | None = None) -> Any:
        try:
            item = self.obj.get(timeout=timeout)
        except TimeoutError:
            raise queue.Empty from None
        if isinstance(item, str) and item == END_OF_RUN:
            raise RunOver("the run is over")
        return item

    def qsize(self) -> int:
        return int(self.obj.qsize())


class DaskQueue:
    """A queue resource on a ``distributed.Queue``: puts and gets report events.

    A put is dated before it is sent and a get after it returns, so no get of
    an item comes before its put in the merged stream. A put that waited on a
    full queue is dated when it returns: a fast consumer may have taken its
    item a moment before (the queue shows one fewer for that moment).
    """

    def __init__(self, index: int, emit: Any, raw: DaskQueueRaw) -> None:
        self.index = index
        self._emit = emit
        self.raw = raw

    def put(self, actor: int, step: int, item: Any, block: bool, timeout: float | None) -> bool:
        emit, index = self._emit, self.index
        maxsize = self.raw.maxsize
        if not maxsize or self.raw.qsize() < maxsize:
            t = monotonic_ns()
            try:
                self.raw.put(item, NO_WAIT_S if maxsize else None)
            except queue.Full:
                pass  # filled meanwhile: wait below
            else:
                emit((ev.PUT, actor, index, t))
                return True
        if not block:
            emit((ev.FULL, actor, index, monotonic_ns()))
            return False
        emit((ev.WAIT, actor, index, monotonic_ns(), step, "put", timeout))
        self.raw.run.check()
        try:
            self.raw.put(item, timeout)
        except queue.Full:
            emit((ev.WAKE, actor, index, monotonic_ns(), False))
            emit((ev.FULL, actor, index, monotonic_ns()))
            return False
        t = monotonic_ns()
        emit((ev.WAKE, actor, index, t, True))
        emit((ev.PUT, actor, index, t))
        return True

    def get(self, actor: int, step: int, block: bool, timeout: float | None) -> tuple[bool, Any]:
        emit, index = self._emit, self.index
        try:
            if not self.raw.qsize():  # (a get that times out is an error in the log)
                raise queue.Empty
            item = self.raw.get(NO_WAIT_S)
        except queue.Empty:
            if not block:
                emit((ev.EMPTY, actor, index, monotonic_ns()))
                return False, None
            emit((ev.WAIT, actor, index, monotonic_ns(), step, "get", timeout))
            try:
                item = self.raw.get(timeout)
            except queue.Empty:
                emit((ev.WAKE, actor, index, monotonic_ns(), False))
                emit((ev.EMPTY, actor, index, monotonic_ns()))
                return False, None
            t = monotonic_ns()
            emit((ev.WAKE, actor, index, t, True))
            emit((ev.GOT_ITEM, actor, index, t, item))
            return True, item
        emit((ev.GOT_ITEM, actor, index, monotonic_ns(), item))
        return True, item

    def task_done(self, actor: int) -> None:
        raise TypeError("a distributed.Queue has no task_done")

    def join(self, actor: int, step: int) -> None:
        raise TypeError("a distributed.Queue has no join")

    def qsize(self) -> int:
        return self.raw.qsize()

    def empty(self) -> bool:
        return self.qsize() == 0

    def full(self) -> bool:
        return bool(self.raw.maxsize) and self.qsize() >= self.raw.maxsize


def make_raws(
    scenario: m.Scenario, env: dict[str, Any], run_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Dask-backed objects behind each resource (named after the run, so runs on
    one cluster never share one), and the header's resource info. Called in the
    runner, with a client: initial values go to the scheduler here."""
    raws: dict[str, Any] = {}
    infos: list[dict[str, Any]] = []
    for slot, size, info in built_resources(scenario, env):
        name, res = slot.name, slot.res
        key = f"tui-conc-{run_id}-{name}"
        raw: Any
        if res.local:  # a threading.Lock in each process: nothing on the scheduler
            raw = None
            info["local"] = True
        elif res.type in ("lock", "semaphore"):
            value = size.get("value", 1)
            raw = DaskSemaphore(key, value, size.get("lease"), run_id)
            raw.register()  # now, with its lease timeout
            if res.type == "semaphore":
                info["value"] = value
            if size.get("lease") is not None:
                info["lease"] = size["lease"]
        elif res.type == "event":
            raw = DaskEvent(key, run_id)
            if initial(res, env):
                raw.set()
            info["value"] = raw.is_set()
        elif res.type == "queue":
            maxsize = size["maxsize"]
            raw = DaskQueueRaw(key, maxsize, run_id)
            info.update(kind="fifo", maxsize=maxsize, initial=0)
        elif res.type == "variable":
            info["value"] = value = initial(res, env)
            raw = DaskValue(key)
            raw.value = value
        else:  # refused at load (scenario.process_checks.check_dask)
            raise ValueError(f"a {res.type} ({name!r}) has no Dask counterpart")
        raws[name] = raw
        infos.append(info)
    return raws, infos


def wrap_resources(
    scenario: m.Scenario, raws: dict[str, Any], emit: Any, env: dict[str, Any], actor: int = -1
) -> dict[str, Any]:
    """The instrumented wrappers around ``raws`` for one actor (a family's members
    under its name too); its holds report their leases."""
    out: dict[str, Any] = {}
    for index, slot in enumerate(expand(scenario, env)):
        name, res = slot.name, slot.res
        raw = raws[name]
        obj: Any
        if res.local:
            obj = LockLike(index, emit, "lock")
        elif res.type in ("lock", "semaphore"):
            obj = LockLike(index, emit, res.type, raw.value, raw=raw)
            if actor >= 0:
                raw.report = (emit, actor, index)
        elif res.type == "event":
            obj = Event(index, emit, raw=raw)
        elif res.type == "queue":
            obj = DaskQueue(index, emit, raw)
        else:
            obj = ProcessVariable(index, emit, raw)
        out[name] = obj
        if slot.family is not None:
            out.setdefault(slot.family, Family()).append(obj)
    return out
