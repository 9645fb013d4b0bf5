"""Instrumented conditions and events."""

from __future__ import annotations

import threading
from time import monotonic_ns
from typing import Any

from tui_conc.engine.primitives.base import Emit
from tui_conc.engine.primitives.locks import LockHandle, LockLike
from tui_conc.engine.wire import events as ev


class Condition:
    """A condition variable over its own lock or a named lock / rlock resource."""

    sched: Any = None  #: a controlled run's scheduler, set by the backend
    name: str = ""

    def __init__(self, index: int, emit: Emit, lock: LockLike, raw: Any = None) -> None:
        self.index = index
        self.lock = lock
        self._emit = emit
        self.raw = raw if raw is not None else threading.Condition(lock.raw)

    def bind(self, actor: int) -> LockHandle:
        return self.lock.bind(actor)

    def wait(self, actor: int, step: int, timeout: float | None) -> bool:
        emit = self._emit
        emit((ev.RELEASED, actor, self.lock.index))
        emit((ev.WAIT, actor, self.index, monotonic_ns(), step, "cond", timeout))
        if self.sched is not None:
            ok = self._controlled_wait(timeout)
            emit((ev.WAKE, actor, self.index, monotonic_ns(), ok))
            emit((ev.ACQUIRED, actor, self.lock.index))
            return ok
        try:
            ok = self.raw.wait(timeout)
        except RuntimeError:
            emit((ev.WAKE, actor, self.index, monotonic_ns(), False))
            raise
        emit((ev.WAKE, actor, self.index, monotonic_ns(), ok))
        emit((ev.ACQUIRED, actor, self.lock.index))
        return ok

    def _controlled_wait(self, timeout: float | None) -> bool:
        """``wait`` in a controlled run: let go of the lock, park until notified
        (or chosen to time out), then park until the lock is free and take it back.

        The same steps as ``threading.Condition.wait``, with the scheduler in
        place of its waiter lock, so that no thread ever blocks in the OS.
        """
        if not self.raw._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        token = [False]
        waiters: list[list[bool]] = self.__dict__.setdefault("_sched_waiters", [])
        waiters.append(token)
        saved = self.raw._release_save()
        ok = self.sched.block(lambda: token[0], self.name, timeout)
        if not ok:
            waiters.remove(token)
        ident = threading.get_ident()
        self.sched.block(lambda: self.lock.free_for(ident), self.lock.name)
        self.raw._acquire_restore(saved)
        return ok

    def notify(self, actor: int, n: int) -> None:
        self._emit((ev.NOTIFY, actor, self.index, monotonic_ns(), n))
        self.raw.notify(n)
        if self.sched is not None:
            self._wake(n)

    def notify_all(self, actor: int) -> None:
        self._emit((ev.NOTIFY, actor, self.index, monotonic_ns(), -1))
        self.raw.notify_all()
        if self.sched is not None:
            self._wake(-1)

    def _wake(self, n: int) -> None:
        """Mark the first ``n`` (all: -1) waiters of a controlled run notified."""
        waiters: list[list[bool]] = self.__dict__.get("_sched_waiters", [])
        woken = waiters if n < 0 else waiters[:n]
        for token in woken:
            token[0] = True
        del waiters[: len(woken)]


class Event:
    """``threading.Event`` reporting set, clear and waits; ``initially`` set, or not."""

    sched: Any = None  #: a controlled run's scheduler, set by the backend
    name: str = ""

    def __init__(self, index: int, emit: Emit, raw: Any = None, initially: bool = False) -> None:
        self.index = index
        self._emit = emit
        self.raw = raw if raw is not None else threading.Event()
        if initially and raw is None:
            self.raw.set()

    def is_set(self) -> bool:
        return self.raw.is_set()

    def set(self, actor: int) -> None:
        self._emit((ev.SET, actor, self.index, monotonic_ns()))
        self.raw.set()

    def clear(self, actor: int) -> None:
        self._emit((ev.CLEAR, actor, self.index, monotonic_ns()))
        self.raw.clear()

    def wait(self, actor: int, step: int, timeout: float | None) -> bool:
        if self.raw.is_set():
            return True
        self._emit((ev.WAIT, actor, self.index, monotonic_ns(), step, "event", timeout))
        if self.sched is not None:
            ok = self.sched.block(self.raw.is_set, self.name, timeout)
        else:
            ok = self.raw.wait(timeout)
        self._emit((ev.WAKE, actor, self.index, monotonic_ns(), ok))
        return ok


class Barrier:
    """``threading.Barrier`` (or ``multiprocessing.Barrier``): every arrival reports a
    wait, even the last one (its wait ends at once); a broken barrier wakes everyone."""

    sched: Any = None  #: a controlled run's scheduler, set by the backend
    name: str = ""

    def __init__(self, index: int, emit: Emit, parties: int, raw: Any = None) -> None:
        self.index = index
        self._emit = emit
        self.raw = raw if raw is not None else threading.Barrier(parties)

    def wait(self, actor: int, step: int, timeout: float | None) -> int:
        """Arrive and wait for the others; returns the arrival index (0 … parties-1)."""
        emit = self._emit
        emit((ev.WAIT, actor, self.index, monotonic_ns(), step, "barrier", timeout))
        if self.sched is not None:
            return self._controlled_wait(actor, timeout)
        try:
            arrived = self.raw.wait(timeout)
        except threading.BrokenBarrierError:
            emit((ev.WAKE, actor, self.index, monotonic_ns(), False))
            raise
        emit((ev.WAKE, actor, self.index, monotonic_ns(), True))
        return arrived

    def _controlled_wait(self, actor: int, timeout: float | None) -> int:
        """``wait`` in a controlled run: count arrivals; the last one lets the others go
        (a timeout breaks the barrier for everyone, as ``threading.Barrier`` does)."""
        state = self.__dict__.setdefault("_sched_state", {"count": 0, "gen": 0, "broken": False})
        if state["broken"]:
            raise threading.BrokenBarrierError
        index, gen = state["count"], state["gen"]
        state["count"] += 1
        if state["count"] == self.raw.parties:
            state["count"], state["gen"] = 0, gen + 1
        else:
            ok = self.sched.block(
                lambda: state["gen"] != gen or state["broken"], self.name, timeout
            )
            if not ok or state["broken"]:
                state["broken"] = True
                self._emit((ev.WAKE, actor, self.index, monotonic_ns(), False))
                raise threading.BrokenBarrierError
        self._emit((ev.WAKE, actor, self.index, monotonic_ns(), True))
        return index
