"""A traced program's ``threading`` Semaphore, BoundedSemaphore, Event, Condition and
Barrier: CPython's classes, subclassed to report their holds, waits and signals;
made by the library for its own use, they stay CPython's (``ProgramOnly``)."""

from __future__ import annotations

import threading
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument, locks
from tui_conc.tracing.instrument import ProgramOnly

_Semaphore, _BoundedSemaphore = threading.Semaphore, threading.BoundedSemaphore
_Event, _Condition, _Barrier = threading.Event, threading.Condition, threading.Barrier


class Semaphore(ProgramOnly, threading.Semaphore):
    """``threading.Semaphore`` reporting each permit taken and given back."""

    _kind = "semaphore"
    _bare = _Semaphore

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._index = instrument._resource(
            type(self).__name__, {"type": self._kind, "value": value}
        )

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        index = self._index
        if index < 0:
            return super().acquire(blocking, timeout)
        if super().acquire(False):
            instrument._emit((ev.ACQUIRED, instrument._me(), index))
            return True
        if not blocking:
            return False
        actor = instrument._me()
        instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "acquire", timeout))
        ok = super().acquire(True, timeout)
        instrument._emit((ev.WAKE, actor, index, monotonic_ns(), ok))
        if ok:
            instrument._emit((ev.ACQUIRED, actor, index))
        return ok

    __enter__ = acquire

    def release(self, n: int = 1) -> None:
        if self._index >= 0:
            self._check(n)
            actor = instrument._me()
            for _ in range(n):
                instrument._emit((ev.RELEASED, actor, self._index))
        super().release(n)

    def _check(self, n: int) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self.release()


class BoundedSemaphore(Semaphore):
    """``threading.BoundedSemaphore``: a release past its value raises, before any event."""

    _kind = "bounded_semaphore"
    _bare = _BoundedSemaphore

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._initial_value = value

    def _check(self, n: int) -> None:
        if self._value + n > self._initial_value:  # type: ignore[attr-defined]
            raise ValueError("Semaphore released too many times")


class Event(ProgramOnly, threading.Event):
    """``threading.Event`` reporting set, clear and waits."""

    _bare = _Event

    def __init__(self) -> None:
        super().__init__()
        self._index = instrument._resource("Event", {"type": "event"})

    def set(self) -> None:
        if self._index >= 0:
            instrument._emit((ev.SET, instrument._me(), self._index, monotonic_ns()))
        super().set()

    def clear(self) -> None:
        if self._index >= 0:
            instrument._emit((ev.CLEAR, instrument._me(), self._index, monotonic_ns()))
        super().clear()

    def wait(self, timeout: float | None = None) -> bool:
        if self._index < 0 or self.is_set():
            return super().wait(timeout)
        wait = super().wait
        return bool(
            instrument.waited(instrument._me(), self._index, "event", timeout, wait, timeout)
        )


class Condition(ProgramOnly, threading.Condition):
    """``threading.Condition`` reporting waits and notifies. Over a lock of the
    program's, that lock reports its own holds; over its own lock, the condition
    is the lock (as a scenario's condition is)."""

    _bare = _Condition

    def __init__(self, lock: Any = None) -> None:
        super().__init__(lock)
        self._index = instrument._resource("Condition", {"type": "condition"})
        self._own = not isinstance(lock, locks.traced_types())
        if self._own:
            self.acquire = self._traced_acquire  # type: ignore[method-assign]
            self.release = self._traced_release  # type: ignore[method-assign]

    def _traced_acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        lock = self._lock  # type: ignore[attr-defined]
        if lock.acquire(False):
            instrument._emit((ev.ACQUIRED, instrument._me(), self._index))
            return True
        if not blocking:
            return False
        return locks._wait_for(lock, self._index, timeout)

    def _traced_release(self) -> None:
        if not self._is_owned():  # type: ignore[attr-defined]
            raise RuntimeError("cannot release un-acquired lock")
        instrument._emit((ev.RELEASED, instrument._me(), self._index))
        self._lock.release()  # type: ignore[attr-defined]

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def wait(self, timeout: float | None = None) -> bool:
        if self._index < 0:
            return super().wait(timeout)
        if not self._is_owned():  # type: ignore[attr-defined]
            raise RuntimeError("cannot wait on un-acquired lock")
        actor = instrument._me()
        if self._own:
            instrument._emit((ev.RELEASED, actor, self._index))
        try:
            return bool(
                instrument.waited(actor, self._index, "cond", timeout, super().wait, timeout)
            )
        finally:
            if self._own:
                instrument._emit((ev.ACQUIRED, actor, self._index))

    def notify(self, n: int = 1) -> None:
        if self._index >= 0:
            instrument._emit((ev.NOTIFY, instrument._me(), self._index, monotonic_ns(), n))
        super().notify(n)

    def notify_all(self) -> None:
        if self._index >= 0:
            instrument._emit((ev.NOTIFY, instrument._me(), self._index, monotonic_ns(), -1))
        super().notify(len(self._waiters))  # type: ignore[attr-defined]


class Barrier(ProgramOnly, threading.Barrier):
    """``threading.Barrier``: every arrival a wait (the last one's ends at once)."""

    _bare = _Barrier

    def __init__(self, parties: int, action: Any = None, timeout: float | None = None) -> None:
        super().__init__(parties, action, timeout)
        self._index = instrument._resource("Barrier", {"type": "barrier", "parties": parties})

    def wait(self, timeout: float | None = None) -> int:
        if self._index < 0:
            return super().wait(timeout)
        actor = instrument._me()
        limit = timeout if timeout is not None else self._timeout  # type: ignore[attr-defined]
        instrument._emit((ev.WAIT, actor, self._index, *instrument._now_site(), "barrier", limit))
        try:
            n = super().wait(timeout)
        except threading.BrokenBarrierError:
            instrument._emit((ev.WAKE, actor, self._index, monotonic_ns(), False))
            raise
        instrument._emit((ev.WAKE, actor, self._index, monotonic_ns(), True))
        return n
