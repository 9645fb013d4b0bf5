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
        try:
            ok = self.raw.wait(timeout)
        except RuntimeError:
            emit((ev.WAKE, actor, self.index, monotonic_ns(), False))
            raise
        emit((ev.WAKE, actor, self.index, monotonic_ns(), ok))
        emit((ev.ACQUIRED, actor, self.lock.index))
        return ok

    def notify(self, actor: int, n: int) -> None:
        self._emit((ev.NOTIFY, actor, self.index, monotonic_ns(), n))
        self.raw.notify(n)

    def notify_all(self, actor: int) -> None:
        self._emit((ev.NOTIFY, actor, self.index, monotonic_ns(), -1))
        self.raw.notify_all()


class Event:
    """``threading.Event`` reporting set, clear and waits; ``initially`` set, or not."""

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
        ok = self.raw.wait(timeout)
        self._emit((ev.WAKE, actor, self.index, monotonic_ns(), ok))
        return ok


class Barrier:
    """``threading.Barrier`` (or ``multiprocessing.Barrier``): every arrival reports a
    wait, even the last one (its wait ends at once); a broken barrier wakes everyone."""

    def __init__(self, index: int, emit: Emit, parties: int, raw: Any = None) -> None:
        self.index = index
        self._emit = emit
        self.raw = raw if raw is not None else threading.Barrier(parties)

    def wait(self, actor: int, step: int, timeout: float | None) -> int:
        """Arrive and wait for the others; returns the arrival index (0 … parties-1)."""
        emit = self._emit
        emit((ev.WAIT, actor, self.index, monotonic_ns(), step, "barrier", timeout))
        try:
            arrived = self.raw.wait(timeout)
        except threading.BrokenBarrierError:
            emit((ev.WAKE, actor, self.index, monotonic_ns(), False))
            raise
        emit((ev.WAKE, actor, self.index, monotonic_ns(), True))
        return arrived
