"""Instrumented queues: ``queue.Queue`` (FIFO, LIFO, priority) reporting puts and gets.

Queue events are emitted under the queue's own mutex, so depth never goes
negative in the stream.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from time import monotonic, monotonic_ns
from typing import Any

from tui_conc.engine import native
from tui_conc.engine.primitives.base import Emit, Step
from tui_conc.engine.wire import events as ev

_QUEUE_KINDS = {"fifo": "Queue", "lifo": "LifoQueue", "priority": "PriorityQueue"}


class Queue:
    """A ``queue.Queue`` (FIFO, LIFO or priority) whose put / get / join report events.

    The bodies follow CPython's ``Queue.put`` / ``Queue.get`` over the same
    internals (``not_full``, ``not_empty``, ``_put``, ``_get``), with events
    emitted while the queue's mutex is held.
    """

    sched: Any = None  #: a controlled run's scheduler, set by the backend
    name: str = ""

    def __init__(self, index: int, emit: Emit, kind: str, maxsize: int, items: list[Any]) -> None:
        self.index = index
        self._emit = emit
        # The stdlib classes, even under gevent (which swaps in its own C queue):
        # their locks come from the patched threading, so they are cooperative there.
        self.raw: queue.Queue = native.original("queue", _QUEUE_KINDS[kind])(maxsize)
        for item in items:
            self.raw.put_nowait(item)
        self.raw.unfinished_tasks = 0

    def put(self, actor: int, step: int, item: Any, block: bool, timeout: float | None) -> bool:
        """Put ``item``; False (after an ``FULL`` event) when it gave up."""
        q, emit, index = self.raw, self._emit, self.index
        if (
            self.sched is not None
            and block
            and q.full()
            and not self._controlled_wait(actor, step, "put", timeout, lambda: not q.full())
        ):
            emit((ev.FULL, actor, index, monotonic_ns()))
            return False
        with q.mutex:  # the mutex under not_full / not_empty
            if q.maxsize > 0 and q._qsize() >= q.maxsize:
                if not block:
                    emit((ev.FULL, actor, index, monotonic_ns()))
                    return False
                emit((ev.WAIT, actor, index, monotonic_ns(), step, "put", timeout))
                deadline = None if timeout is None else monotonic() + timeout
                while q._qsize() >= q.maxsize:
                    remaining = None if deadline is None else deadline - monotonic()
                    if remaining is not None and remaining <= 0:
                        emit((ev.WAKE, actor, index, monotonic_ns(), False))
                        emit((ev.FULL, actor, index, monotonic_ns()))
                        return False
                    q.not_full.wait(remaining)
                emit((ev.WAKE, actor, index, monotonic_ns(), True))
            q._put(item)
            q.unfinished_tasks += 1
            emit((ev.PUT, actor, index))
            if q.not_empty._waiters:  # notify() costs a lock probe even with no waiter
                q.not_empty.notify()
        return True

    def get(self, actor: int, step: int, block: bool, timeout: float | None) -> tuple[bool, Any]:
        """Take an item: ``(True, item)``, or ``(False, None)`` after an ``EMPTY`` event."""
        q, emit, index = self.raw, self._emit, self.index
        if (
            self.sched is not None
            and block
            and not q.qsize()
            and not self._controlled_wait(actor, step, "get", timeout, q.qsize)
        ):
            emit((ev.EMPTY, actor, index, monotonic_ns()))
            return False, None
        with q.mutex:
            if not q._qsize():
                if not block:
                    emit((ev.EMPTY, actor, index, monotonic_ns()))
                    return False, None
                emit((ev.WAIT, actor, index, monotonic_ns(), step, "get", timeout))
                deadline = None if timeout is None else monotonic() + timeout
                while not q._qsize():
                    remaining = None if deadline is None else deadline - monotonic()
                    if remaining is not None and remaining <= 0:
                        emit((ev.WAKE, actor, index, monotonic_ns(), False))
                        emit((ev.EMPTY, actor, index, monotonic_ns()))
                        return False, None
                    q.not_empty.wait(remaining)
                emit((ev.WAKE, actor, index, monotonic_ns(), True))
            item = q._get()
            emit((ev.GOT, actor, index))
            if q.not_full._waiters:
                q.not_full.notify()
        return True, item

    def task_done(self, actor: int) -> None:
        q = self.raw
        with q.all_tasks_done:
            if q.unfinished_tasks <= 0:
                raise ValueError("task_done() called too many times")
            self._emit((ev.TASK_DONE, actor, self.index))
            q.unfinished_tasks -= 1
            if q.unfinished_tasks == 0:
                q.all_tasks_done.notify_all()

    def _controlled_wait(
        self, actor: int, step: int, how: str, timeout: float | None, ready: Any
    ) -> bool:
        """A controlled run's wait for room or an item: the scheduler parks the actor
        (no thread blocks in the OS); False when it was chosen to time out."""
        emit = self._emit
        emit((ev.WAIT, actor, self.index, monotonic_ns(), step, how, timeout))
        ok = self.sched.block(lambda: bool(ready()), self.name, timeout)
        emit((ev.WAKE, actor, self.index, monotonic_ns(), ok))
        return ok

    def join(self, actor: int, step: int) -> None:
        q = self.raw
        if self.sched is not None:
            if q.unfinished_tasks:
                self._emit((ev.WAIT, actor, self.index, monotonic_ns(), step, "qjoin", None))
                self.sched.block(lambda: not q.unfinished_tasks, self.name)
                self._emit((ev.WAKE, actor, self.index, monotonic_ns(), True))
            return
        with q.all_tasks_done:
            if not q.unfinished_tasks:
                return
            self._emit((ev.WAIT, actor, self.index, monotonic_ns(), step, "qjoin", None))
            while q.unfinished_tasks:
                q.all_tasks_done.wait()
            self._emit((ev.WAKE, actor, self.index, monotonic_ns(), True))

    def qsize(self) -> int:
        return self.raw.qsize()

    def empty(self) -> bool:
        return self.raw.empty()

    def full(self) -> bool:
        return self.raw.full()


class CooperativeQueue(Queue):
    """The same queue for greenlets (gevent, eventlet): a compiled blocking put or
    get (ten thousand greenlets put millions of items) skips the mutex when it can.

    All actors share one OS thread and switch only where they block, so a
    put that finds room (or a get that finds an item) runs to its end
    uninterrupted: as atomic as the mutex would make it (gevent's own
    ``Queue`` has no mutex at all). It takes that path only when nobody waits
    and the mutex is free: a greenlet can be switched out *inside* the
    critical section (gevent's lock operations in ``Condition.wait`` may
    yield before it is registered as a waiter). Anything else, and every
    put or get with a timeout or without blocking, takes the mutex path above.
    """

    def put_step(self, actor: int, step: int, item_of: Callable[[Any], Any]) -> Step:
        """The compiled step ``put`` (blocking, no timeout)."""
        q, emit, event, slow = self.raw, self._emit, (ev.PUT, actor, self.index), super().put
        waiters, locked, place, size, maxsize = (
            q.not_empty._waiters,
            q.mutex.locked,
            q._put,
            q._qsize,
            q.maxsize,
        )

        def put(frame: Any) -> None:
            item = item_of(frame)
            if not waiters and not locked() and (maxsize <= 0 or size() < maxsize):
                place(item)
                q.unfinished_tasks += 1
                emit(event)
            else:
                slow(actor, step, item, True, None)

        return put

    def get_step(self, actor: int, step: int, name: str | None) -> Step:
        """The compiled step ``get`` (blocking, no timeout); the item goes to local ``name``."""
        q, emit, event, slow = self.raw, self._emit, (ev.GOT, actor, self.index), super().get
        waiters, locked, take, size = q.not_full._waiters, q.mutex.locked, q._get, q._qsize

        def get(frame: Any) -> None:
            if size() and not waiters and not locked():
                item = take()
                emit(event)
            else:
                item = slow(actor, step, True, None)[1]
            if name:
                frame.locals[name] = item

        return get
