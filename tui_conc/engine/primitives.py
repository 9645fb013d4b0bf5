"""Instrumented primitives: real ``threading`` / ``queue`` objects that report events.

Rules that keep the event stream causal (the fold relies on them):

* a hold is reported *after* it is taken and its end *before* it is given up,
  so "B acquired" can never precede "A released";
* queue events are emitted under the queue's own mutex, so depth never goes
  negative in the stream;
* the uncontended path emits one prebuilt, untimed tuple; waiting emits
  timed ``WAIT`` / ``WAKE`` events.

Each primitive hands out per-actor *handles* (``bind(actor)``) whose fast
path does no lookups at all.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from time import monotonic, monotonic_ns
from typing import Any

from tui_conc.engine import events as ev
from tui_conc.engine import native

Emit = Callable[[tuple[Any, ...]], None]
#: A compiled step: runs on the actor's frame.
Step = Callable[[Any], None]


class LockLike:
    """A lock, rlock, semaphore or bounded semaphore with instrumented handles."""

    def __init__(self, index: int, emit: Emit, kind: str, value: int = 1, raw: Any = None) -> None:
        self.index = index
        self.kind = kind
        self._emit = emit
        self._bounded = kind == "bounded_semaphore"
        self._initial = value
        #: a multiprocessing primitive (shared between processes) instead of a threading one
        self._mp = raw is not None
        if raw is not None:
            self.raw: Any = raw
        elif kind == "lock":
            self.raw: Any = threading.Lock()
        elif kind == "rlock":
            self.raw = threading.RLock()
        else:
            self.raw = threading.Semaphore(value)

    def bind(self, actor: int) -> LockHandle:
        """A handle for ``actor``: its events are prebuilt (stamped, between processes)."""
        if self._mp and hasattr(self._emit, "append"):
            return StampedLockHandle(self, actor)
        return LockHandle(self, actor)

    def locked(self) -> bool:
        if self._mp:
            return bool(self.raw._semlock._is_zero())
        if self.kind == "lock":
            return self.raw.locked()
        if self.kind == "rlock":
            return "unlocked" not in repr(self.raw)
        return self.raw._value == 0

    def acquire_slow(self, actor: int, step: int, timeout: float | None) -> bool:
        """Wait for the primitive, reporting the wait; True once held."""
        emit = self._emit
        emit((ev.WAIT, actor, self.index, monotonic_ns(), step, "acquire", timeout))
        if self.kind in ("lock", "rlock") and not self._mp:
            ok = self.raw.acquire(True, -1 if timeout is None else timeout)
        else:
            ok = self.raw.acquire(True, timeout)
        emit((ev.WAKE, actor, self.index, monotonic_ns(), ok))
        if ok:
            emit((ev.ACQUIRED, actor, self.index))
        return ok

    def check_release(self) -> None:
        """Raise as Python would before a release that must fail (bounded semaphore)."""
        value = self.raw.get_value() if self._mp else self.raw._value
        if self._bounded and value >= self._initial:
            raise ValueError("Semaphore released too many times")


class LockHandle:
    """One actor's view of a :class:`LockLike`."""

    __slots__ = ("_emit", "_ev_acq", "_ev_rel", "_owner", "_release", "_try", "actor")

    def __init__(self, owner: LockLike, actor: int) -> None:
        self._owner = owner
        self.actor = actor
        self._try = owner.raw.acquire
        self._release = owner.raw.release
        self._emit = owner._emit
        self._ev_acq = (ev.ACQUIRED, actor, owner.index)
        self._ev_rel = (ev.RELEASED, actor, owner.index)

    def acquire(self, step: int, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take the primitive; False when non-blocking or timed out and not taken."""
        if self._try(False):
            self._emit(self._ev_acq)
            return True
        if not blocking:
            return False
        return self._owner.acquire_slow(self.actor, step, timeout)

    def release(self) -> None:
        """Give up one hold (the event goes first, so the stream stays causal)."""
        if self._owner._bounded:
            self._owner.check_release()
        self._emit(self._ev_rel)
        self._release()

    def acquire_step(self, step: int) -> Step:
        """The compiled step ``acquire: X`` (blocking, no timeout), fast path inline:
        a tight loop of acquires and releases pays one call per step, not two."""
        take, emit, event = self._try, self._emit, self._ev_acq
        actor, slow = self.actor, self._owner.acquire_slow

        def acquire(frame: Any) -> None:
            if take(False):
                emit(event)
            else:
                slow(actor, step, None)

        return acquire

    def release_step(self) -> Step:
        """The compiled step ``release: X``."""
        emit, event, give = self._emit, self._ev_rel, self._release
        if self._owner._bounded:
            return lambda frame: self.release()

        def release(frame: Any) -> None:
            emit(event)
            give()

        return release


class StampedLockHandle(LockHandle):
    """A handle on a multiprocessing primitive: its events carry their time.

    The methods stamp through the run's emit (:func:`tui_conc.engine.channel.stamped`);
    the compiled steps, a child's hot path, build the stamped tuple in one go.
    """

    __slots__ = ("_append",)

    def __init__(self, owner: LockLike, actor: int) -> None:
        super().__init__(owner, actor)
        self._append = owner._emit.append  # type: ignore[attr-defined]

    def acquire_step(self, step: int) -> Step:
        take, append, clock = self._try, self._append, monotonic_ns
        kind, actor, index, slow = (
            ev.ACQUIRED,
            self.actor,
            self._owner.index,
            self._owner.acquire_slow,
        )

        def acquire(frame: Any) -> None:
            if take(False):
                append((kind, actor, index, clock()))
            else:
                slow(actor, step, None)

        return acquire

    def release_step(self) -> Step:
        append, clock, give = self._append, monotonic_ns, self._release
        kind, actor, index = ev.RELEASED, self.actor, self._owner.index
        if self._owner._bounded:
            return lambda frame: self.release()

        def release(frame: Any) -> None:
            append((kind, actor, index, clock()))
            give()

        return release


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
    """``threading.Event`` reporting set, clear and waits."""

    def __init__(self, index: int, emit: Emit, raw: Any = None) -> None:
        self.index = index
        self._emit = emit
        self.raw = raw if raw is not None else threading.Event()

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


_QUEUE_KINDS = {"fifo": "Queue", "lifo": "LifoQueue", "priority": "PriorityQueue"}


class Queue:
    """A ``queue.Queue`` (FIFO, LIFO or priority) whose put / get / join report events.

    The bodies follow CPython's ``Queue.put`` / ``Queue.get`` over the same
    internals (``not_full``, ``not_empty``, ``_put``, ``_get``), with events
    emitted while the queue's mutex is held.
    """

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

    def join(self, actor: int, step: int) -> None:
        q = self.raw
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


class Variable:
    """A shared variable: reads and writes are reported with their values."""

    def __init__(self, index: int, emit: Emit, value: Any) -> None:
        self.index = index
        self._emit = emit
        self.value = value

    def read(self, actor: int) -> Any:
        value = self.value
        self._emit((ev.READ, actor, self.index, monotonic_ns(), value))
        return value

    def write(self, actor: int, value: Any) -> None:
        self.value = value
        self._emit((ev.WRITE, actor, self.index, monotonic_ns(), value))
