"""A traced program's ``multiprocessing`` primitives: its Lock, RLock, Semaphore,
BoundedSemaphore, Event, Condition, Barrier, Queue, JoinableQueue and Pipe, made
by a context's methods, reporting from the parent and from every child (each
carries its resource index when it is pickled to a child)."""

from __future__ import annotations

import multiprocessing.connection as mp_connection
import multiprocessing.context as mp_context
import multiprocessing.queues as mp_queues
import multiprocessing.synchronize as mp_sync
import queue
import sys
import threading
import time
from multiprocessing.reduction import ForkingPickler as _ForkingPickler
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument, naming


def _program_made() -> bool:
    return naming.made_by_program(3) and instrument.REGISTRY is not None


def context_factory(name: str, traced: type) -> Any:
    """``multiprocessing.Lock()`` and its kin (a context's methods): traced when the
    program makes one; the library's own (a Queue's lock) stay CPython's, by name."""
    bare = getattr(mp_context.BaseContext, name)

    def make(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _program_made():
            return bare(self, *args, **kwargs)
        return traced(*args, ctx=self.get_context(), **kwargs)

    make.__name__ = name
    return make


class _Traced:
    """A ``SemLock`` (Lock, RLock, Semaphore, BoundedSemaphore) reporting its holds; its
    resource index goes with it to a child."""

    _tui_index = -1
    _kind = "lock"

    def _register(self, info: dict[str, Any]) -> None:
        self._tui_index = instrument._resource(type(self).__name__, {"type": self._kind, **info})

    def _make_methods(self) -> None:
        super()._make_methods()  # type: ignore[misc]
        self._raw_acquire, self._raw_release = self.acquire, self.release
        self.acquire = self._traced_acquire  # type: ignore[method-assign]
        self.release = self._traced_release  # type: ignore[method-assign]

    def _traced_acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        index = self._tui_index
        if index < 0:
            return bool(self._raw_acquire(block, timeout))
        if self._raw_acquire(False):
            instrument._emit((ev.ACQUIRED, instrument._me(), index))
            return True
        if not block:
            return False
        actor = instrument._me()
        instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "acquire", timeout))
        ok = bool(self._raw_acquire(True, timeout))
        instrument._emit((ev.WAKE, actor, index, monotonic_ns(), ok))
        if ok:
            instrument._emit((ev.ACQUIRED, actor, index))
        return ok

    def _traced_release(self) -> None:
        if self._tui_index >= 0:
            instrument._emit((ev.RELEASED, instrument._me(), self._tui_index))
        self._raw_release()

    def __enter__(self) -> bool:
        return self._traced_acquire()

    def __exit__(self, *exc: object) -> None:
        self._traced_release()

    def __getstate__(self) -> Any:
        return (super().__getstate__(), self._tui_index)  # type: ignore[misc]

    def __setstate__(self, state: Any) -> None:
        super().__setstate__(state[0])  # type: ignore[misc]
        self._tui_index = state[1]


class Lock(_Traced, mp_sync.Lock):
    def __init__(self, *, ctx: Any) -> None:
        super().__init__(ctx=ctx)
        self._register({})


class RLock(_Traced, mp_sync.RLock):
    _kind = "rlock"

    def __init__(self, *, ctx: Any) -> None:
        super().__init__(ctx=ctx)
        self._register({})


class Semaphore(_Traced, mp_sync.Semaphore):
    _kind = "semaphore"

    def __init__(self, value: int = 1, *, ctx: Any) -> None:
        super().__init__(value, ctx=ctx)
        self._register({"value": value})


class BoundedSemaphore(_Traced, mp_sync.BoundedSemaphore):
    _kind = "bounded_semaphore"

    def __init__(self, value: int = 1, *, ctx: Any) -> None:
        super().__init__(value, ctx=ctx)
        self._register({"value": value})


class Event(mp_sync.Event):
    """``multiprocessing.Event`` reporting set, clear and waits, from any process."""

    def __init__(self, *, ctx: Any) -> None:
        super().__init__(ctx=ctx)
        self._tui_index = instrument._resource("Event", {"type": "event"})

    def set(self) -> None:
        instrument._emit((ev.SET, instrument._me(), self._tui_index, monotonic_ns()))
        super().set()

    def clear(self) -> None:
        instrument._emit((ev.CLEAR, instrument._me(), self._tui_index, monotonic_ns()))
        super().clear()

    def wait(self, timeout: float | None = None) -> bool:
        if self.is_set():
            return True
        actor, index = instrument._me(), self._tui_index
        return bool(instrument.waited(actor, index, "event", timeout, super().wait, timeout))


class Condition(mp_sync.Condition):
    """``multiprocessing.Condition`` reporting waits and notifies from any process.
    Over a traced lock of the program's, that lock reports its holds; over its own
    lock, the condition is the lock (as the threading one is)."""

    _tui_index = -1
    _tui_own = True

    def __init__(self, lock: Any = None, *, ctx: Any) -> None:
        self._tui_index = instrument._resource("Condition", {"type": "condition"})
        self._tui_own = not isinstance(lock, _Traced)
        super().__init__(lock, ctx=ctx)

    def _make_methods(self) -> None:
        super()._make_methods()
        if self._tui_own and self._tui_index >= 0:
            self._raw_acquire, self._raw_release = self.acquire, self.release
            self.acquire = self._traced_acquire  # type: ignore[method-assign]
            self.release = self._traced_release  # type: ignore[method-assign]

    # over its own lock the condition is that lock: its holds are reported as a lock's
    _traced_acquire = _Traced._traced_acquire
    _traced_release = _Traced._traced_release

    def __enter__(self) -> bool:  # whichever lock it is over
        return bool(self.acquire())

    def __exit__(self, *exc: object) -> None:
        self.release()

    def wait(self, timeout: float | None = None) -> bool:
        index = self._tui_index
        if index < 0:
            return bool(super().wait(timeout))
        actor, own = instrument._me(), self._tui_own
        holds = self._lock._semlock._count() if own else 0  # type: ignore[attr-defined]
        for _ in range(holds):
            instrument._emit((ev.RELEASED, actor, index))
        try:
            return bool(instrument.waited(actor, index, "cond", timeout, super().wait, timeout))
        finally:
            for _ in range(holds):
                instrument._emit((ev.ACQUIRED, actor, index))

    def notify(self, n: int = 1) -> None:
        if self._tui_index >= 0:
            instrument._emit((ev.NOTIFY, instrument._me(), self._tui_index, monotonic_ns(), n))
        super().notify(n)

    def notify_all(self) -> None:
        if self._tui_index >= 0:
            instrument._emit((ev.NOTIFY, instrument._me(), self._tui_index, monotonic_ns(), -1))
        super().notify(sys.maxsize)

    def __getstate__(self) -> Any:
        return (super().__getstate__(), self._tui_index, self._tui_own)

    def __setstate__(self, state: Any) -> None:
        self._tui_index, self._tui_own = state[1], state[2]
        super().__setstate__(state[0])


class Barrier(mp_sync.Barrier):
    """``multiprocessing.Barrier``: every arrival a wait (the last one's ends at once)."""

    _tui_index = -1

    def __init__(
        self, parties: int, action: Any = None, timeout: float | None = None, *, ctx: Any
    ) -> None:
        super().__init__(parties, action, timeout, ctx=ctx)
        self._tui_index = instrument._resource("Barrier", {"type": "barrier", "parties": parties})

    def wait(self, timeout: float | None = None) -> int:
        index = self._tui_index
        if index < 0:
            return int(super().wait(timeout))
        actor = instrument._me()
        limit = timeout if timeout is not None else self._timeout  # type: ignore[attr-defined]
        instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "barrier", limit))
        try:
            n = super().wait(timeout)
        except threading.BrokenBarrierError:
            instrument._emit((ev.WAKE, actor, index, monotonic_ns(), False))
            raise
        instrument._emit((ev.WAKE, actor, index, monotonic_ns(), True))
        return int(n)

    def __getstate__(self) -> Any:
        return (super().__getstate__(), self._tui_index)

    def __setstate__(self, state: Any) -> None:
        if len(state) == 2:  # ours (the base's own __init__ passes its five-tuple)
            super().__setstate__(state[0])
            self._tui_index = state[1]
        else:
            super().__setstate__(state)


class Queue(mp_queues.Queue):
    """``multiprocessing.Queue``: CPython's code, with a put dated when it takes its slot
    and a get when it gives the slot back, so that across processes no get comes
    before its put (as the process backend's queues do)."""

    _label = "Queue"

    def __init__(self, maxsize: int = 0, *, ctx: Any) -> None:
        super().__init__(maxsize, ctx=ctx)
        self._tui_index = instrument._resource(
            self._label, {"type": "queue", "kind": "fifo", "maxsize": max(maxsize, 0)}
        )

    def __getstate__(self) -> Any:
        return (super().__getstate__(), self._tui_index)

    def __setstate__(self, state: Any) -> None:
        super().__setstate__(state[0])
        self._tui_index = state[1]

    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        if self._closed:  # type: ignore[attr-defined]
            raise ValueError(f"Queue {self!r} is closed")
        actor, index = instrument._me(), self._tui_index
        sem = self._sem  # type: ignore[attr-defined]
        if not sem.acquire(False):
            if not block:
                instrument._emit((ev.FULL, actor, index, monotonic_ns()))
                raise queue.Full
            instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "put", timeout))
            ok = sem.acquire(True, timeout)
            instrument._emit((ev.WAKE, actor, index, monotonic_ns(), bool(ok)))
            if not ok:
                instrument._emit((ev.FULL, actor, index, monotonic_ns()))
                raise queue.Full
        instrument._emit((ev.PUT, actor, index))  # dated now: it holds its slot
        self._tui_enqueue(obj)

    def _tui_enqueue(self, obj: Any) -> None:
        """The rest of CPython's ``put``, once the slot is taken."""
        with self._notempty:  # type: ignore[attr-defined]
            if self._thread is None:  # type: ignore[attr-defined]
                self._start_thread()  # type: ignore[attr-defined]
            self._buffer.append(obj)  # type: ignore[attr-defined]
            self._notempty.notify()  # type: ignore[attr-defined]

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if self._closed:  # type: ignore[attr-defined]
            raise ValueError(f"Queue {self!r} is closed")
        actor, index = instrument._me(), self._tui_index
        waited = False
        if not self._poll():  # type: ignore[attr-defined]
            if not block:
                instrument._emit((ev.EMPTY, actor, index, monotonic_ns()))
                raise queue.Empty
            instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "get", timeout))
            waited = True
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._rlock.acquire(True, timeout):  # type: ignore[attr-defined]
            return self._gave_up(actor, index, waited)
        try:
            left = None if deadline is None else deadline - time.monotonic()
            if not self._poll(left):  # type: ignore[attr-defined]
                return self._gave_up(actor, index, waited)
            res = self._recv_bytes()  # type: ignore[attr-defined]
            if waited:
                instrument._emit((ev.WAKE, actor, index, monotonic_ns(), True))
            instrument._emit((ev.GOT, actor, index))  # dated before its slot is given back
            self._sem.release()  # type: ignore[attr-defined]
        finally:
            self._rlock.release()  # type: ignore[attr-defined]
        return _ForkingPickler.loads(res)

    @staticmethod
    def _gave_up(actor: int, index: int, waited: bool) -> Any:
        if waited:
            instrument._emit((ev.WAKE, actor, index, monotonic_ns(), False))
        instrument._emit((ev.EMPTY, actor, index, monotonic_ns()))
        raise queue.Empty


class JoinableQueue(Queue, mp_queues.JoinableQueue):
    """``multiprocessing.JoinableQueue``: the traced Queue, with ``task_done`` reported
    and ``join`` a wait (for every task to be done, by any process)."""

    _label = "JoinableQueue"

    def _tui_enqueue(self, obj: Any) -> None:
        with self._notempty, self._cond:  # type: ignore[attr-defined]
            if self._thread is None:  # type: ignore[attr-defined]
                self._start_thread()  # type: ignore[attr-defined]
            self._buffer.append(obj)  # type: ignore[attr-defined]
            self._unfinished_tasks.release()  # type: ignore[attr-defined]
            self._notempty.notify()  # type: ignore[attr-defined]

    def task_done(self) -> None:
        instrument._emit((ev.TASK_DONE, instrument._me(), self._tui_index))
        mp_queues.JoinableQueue.task_done(self)

    def join(self) -> None:
        if self._unfinished_tasks._semlock._is_zero():  # type: ignore[attr-defined]
            return
        actor, index = instrument._me(), self._tui_index
        instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "qjoin", None))
        try:
            mp_queues.JoinableQueue.join(self)
        finally:
            instrument._emit((ev.WAKE, actor, index, monotonic_ns(), True))


class Connection(mp_connection.Connection):
    """One end of a traced ``multiprocessing.Pipe``: a send is a put into the pipe, a
    receive a get from it (a wait while nothing has come), in whichever process."""

    _tui_index = -1

    def send(self, obj: Any) -> None:
        self._tui_put()
        super().send(obj)

    def send_bytes(self, buf: Any, offset: int = 0, size: int | None = None) -> None:
        self._tui_put()
        super().send_bytes(buf, offset, size)

    def recv(self) -> Any:
        self._tui_wait()
        value = super().recv()
        self._tui_got()
        return value

    def recv_bytes(self, maxlength: int | None = None) -> bytes:
        self._tui_wait()
        value = super().recv_bytes(maxlength)
        self._tui_got()
        return value

    def _tui_put(self) -> None:
        if self._tui_index >= 0:  # before: the other end cannot have it first
            instrument._emit((ev.PUT, instrument._me(), self._tui_index))

    def _tui_got(self) -> None:
        if self._tui_index >= 0:
            instrument._emit((ev.GOT, instrument._me(), self._tui_index))

    def _tui_wait(self) -> None:
        """A receive that must wait is a WAIT until something (or the end) comes."""
        index = self._tui_index
        if index < 0 or self.closed or self.poll():
            return
        actor = instrument._me()
        instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "pipe", None))
        try:
            self.poll(None)
        finally:
            instrument._emit((ev.WAKE, actor, index, monotonic_ns(), True))


def reduce_connection(conn: Connection) -> Any:
    rebuild, args = mp_connection.reduce_connection(conn)  # type: ignore[attr-defined]
    return _rebuild_connection, (rebuild, args, conn._tui_index)


def _rebuild_connection(rebuild: Any, args: Any, index: int) -> Any:
    conn = rebuild(*args)
    conn.__class__ = Connection
    conn._tui_index = index
    return conn


def pipe(self: Any, duplex: bool = True) -> tuple[Any, Any]:
    """``multiprocessing.Pipe()``: both ends one resource, named by the two variables
    they are assigned to (``parent_conn/child_conn``)."""
    ends = _bare_pipe(self, duplex)
    if not _program_made():
        return ends
    index = instrument._resource("Pipe", {"type": "pipe", "duplex": duplex}, joined=True)
    for conn in ends:
        conn.__class__ = Connection
        conn._tui_index = index
    return ends


_bare_pipe = mp_context.BaseContext.Pipe
