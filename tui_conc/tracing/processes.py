"""A traced program's ``multiprocessing``: its processes as actors, its shared locks,
semaphores and events as resources, reporting from the parent and from the children.

Parent side: ``Process.start`` makes the process an actor (its index travels in the
process object), ``join`` is a wait on it, and the runner turns its stream into merged
sources the first time a process starts (children send their batches to its relay, as
the process backend's children do). Child side: the child attaches to the relay when
it is unpickled (spawn, forkserver) or bootstraps (fork); every thread in it is the
process's actor. Shared primitives carry their resource index when pickled; what a
child makes itself gets its index from the runner (a question on its connection).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection as mp_connection
import multiprocessing.context as mp_context
import multiprocessing.process as mp_process
import multiprocessing.queues as mp_queues
import multiprocessing.synchronize as mp_sync
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler as _ForkingPickler
from time import monotonic_ns
from typing import Any

import msgspec

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument, locks, managed, naming, pools

#: The parent's: called once, at the first process started (the runner's relay address).
_enable: Callable[[], str] | None = None
_address = ""
#: The parent's processes still running → their actors (the runner polls their ends).
processes: dict[Any, int] = {}
_start = mp_process.BaseProcess.start
_join = mp_process.BaseProcess.join
_bootstrap = mp_process.BaseProcess._bootstrap  # type: ignore[attr-defined]


class _Attach:
    """Rides in a process object to its child: unpickled there, it attaches the child."""

    def __init__(self, address: str, actor: int) -> None:
        self.address, self.actor = address, actor

    def __reduce__(self) -> Any:
        return (attach_child, (self.address, self.actor))


def _process_start(self: Any) -> None:
    global _address
    if managed.is_server(self):  # a Manager's server runs none of the program's code
        _start(self)
        return
    if instrument.REGISTRY is not None and getattr(self, "_tui_actor", None) is None:
        if not _address and _enable is not None:
            _address = _enable()
        actor = instrument.REGISTRY.new_process(self.name, bool(self.daemon))
        if actor < 0:  # a child that could not ask the runner
            _start(self)
            return
        self._tui_actor = actor
        self._tui_child = _Attach(_address, actor)
        instrument._emit((ev.ACTOR_SPAWNED, actor, -1, monotonic_ns()))
        _start(self)
        processes[self] = actor
        return
    _start(self)


def _process_join(self: Any, timeout: float | None = None) -> None:
    target = getattr(self, "_tui_actor", None)
    me = instrument._me() if instrument.REGISTRY is not None else -1
    if target is None or me < 0 or self._popen is None or self.exitcode is not None:
        _join(self, timeout)
        return
    instrument._emit((ev.WAIT, me, target, *instrument._now_site(), "join", timeout))
    try:
        _join(self, timeout)
    finally:
        instrument._emit((ev.WAKE, me, target, monotonic_ns(), self.exitcode is not None))


def _process_bootstrap(self: Any, *args: Any, **kwargs: Any) -> int:
    """In the child (fork: the object was not pickled, so attach here)."""
    hook = self.__dict__.get("_tui_child")
    if isinstance(hook, _Attach) and _child_actor < 0:
        attach_child(hook.address, hook.actor)
    code = _bootstrap(self, *args, **kwargs)
    _end_child(code)
    return code


def poll_ends() -> None:
    """The parent's: a process killed by a signal could not say so itself."""
    for process, actor in list(processes.items()):
        popen = getattr(process, "_popen", None)
        code = popen.poll() if popen is not None else None
        if code is None:
            continue
        processes.pop(process, None)
        if code < 0:
            from tui_conc.engine.backends.child import exit_reason

            instrument._emit((ev.ACTOR_KILLED, actor, -1, monotonic_ns(), exit_reason(code)))


# -- the child's side --------------------------------------------------------------------------

_child_actor = -1
_channel: Any = None
_WAITS = (ev.WAIT, ev.WAKE)


def attach_child(address: str, actor: int) -> None:
    """Report this process's events to the parent's relay, every thread as ``actor``."""
    global _child_actor, _channel, _address
    if _child_actor >= 0 or not address:
        return
    from tui_conc.engine.wire.channel import Channel

    try:
        channel = Channel(address)
    except OSError:
        return  # the runner is gone: run on, unreported
    channel.start()
    _child_actor, _channel = actor, channel
    _address = address  # its own children attach to the same relay
    os.register_at_fork(after_in_child=_forget_channel)
    send = channel.emit

    def emit(event: tuple[Any, ...]) -> None:
        """Every thread of a child is its process: once the program has more than one
        there, a wait of one is not the process's (the others may run), so it is not
        reported; the holds are."""
        registry = instrument.REGISTRY
        if event[0] in _WAITS and getattr(registry, "threads", False):
            return
        send(event)

    def ask(question: Any) -> Any:
        return _decode(channel.request(_encode(question)))

    instrument.install_in_child(emit, actor, ask)
    from tui_conc.tracing.taps import LineTap  # its prints are its own lines in the Log

    sys.stdout = LineTap(emit, lambda: actor)
    sys.stderr = LineTap(emit, lambda: actor, prefix="[stderr] ")
    channel.emit((ev.ACTOR_START, actor, -1, monotonic_ns(), os.getpid(), os.getpid(),
                  os.getppid()))  # fmt: skip
    real_exit = os._exit

    def exit_now(status: int) -> None:
        _end_child(status)
        real_exit(status)

    os._exit = exit_now


def _forget_channel() -> None:
    """A child forked by this child: the connection is this one's (its own child
    process, if it is one, attaches anew as it bootstraps)."""
    global _child_actor, _channel
    _child_actor, _channel = -1, None


def _end_child(code: int) -> None:
    global _channel
    channel = _channel
    if channel is None:
        return
    _channel = None
    for tap in (sys.stdout, sys.stderr):
        if hasattr(tap, "close_lines"):
            tap.close_lines()
    locks.publish_holds()  # the child's locks' counts of holds
    t = monotonic_ns()
    if code == 0:
        channel.emit((ev.ACTOR_DONE, _child_actor, -1, t))
    else:
        channel.emit((ev.ACTOR_FAILED, _child_actor, -1, t, f"exit code {code}"))
    channel.close()


def _encode(question: Any) -> bytes:
    return msgspec.msgpack.encode(question, enc_hook=repr)


def _decode(answer: bytes) -> Any:
    return msgspec.msgpack.decode(answer)


def serve_child(question: bytes) -> bytes:
    """The runner's side of a child's question (see ``_ChildRegistry``): the index of a
    resource it made, or of a place where it waits; -1 when it cannot be answered."""
    registry = instrument.REGISTRY
    try:
        kind, *args = _decode(question)
        if registry is None:
            answer = -1
        elif kind == "resource":
            base, info, actor = args
            answer = registry.add_resource(str(base), dict(info), int(actor))
        elif kind == "actor":
            name, daemon = args
            answer = registry.new_actor(str(name), bool(daemon))
        elif kind == "site":
            (filename, line_no), line, text = args
            answer = registry.add_site((str(filename), int(line_no)), int(line), str(text))
        else:
            answer = -1
    except (msgspec.DecodeError, TypeError, ValueError):
        answer = -1
    return _encode(answer)


# -- shared primitives --------------------------------------------------------------------------


def _program_made() -> bool:
    return naming.made_by_program(3) and instrument.REGISTRY is not None


def _context_factory(name: str, traced: type) -> Any:
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
        instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "event", timeout))
        ok = False
        try:
            ok = bool(super().wait(timeout))
        finally:
            instrument._emit((ev.WAKE, actor, index, monotonic_ns(), ok))
        return ok


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
        instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "cond", timeout))
        ok = False
        try:
            ok = bool(super().wait(timeout))
        finally:
            instrument._emit((ev.WAKE, actor, index, monotonic_ns(), ok))
            for _ in range(holds):
                instrument._emit((ev.ACQUIRED, actor, index))
        return ok

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


def _reduce_connection(conn: Connection) -> Any:
    rebuild, args = mp_connection.reduce_connection(conn)  # type: ignore[attr-defined]
    return _rebuild_connection, (rebuild, args, conn._tui_index)


def _rebuild_connection(rebuild: Any, args: Any, index: int) -> Any:
    conn = rebuild(*args)
    conn.__class__ = Connection
    conn._tui_index = index
    return conn


def _pipe(self: Any, duplex: bool = True) -> tuple[Any, Any]:
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


def install() -> None:
    """Patch ``multiprocessing`` (the runner, and a spawned child; once a process)."""
    if getattr(mp_process.BaseProcess.start, "__wrapped__", None) is _start:
        return  # a forked child: its parent's patches are here already
    _process_start.__wrapped__ = _start  # type: ignore[attr-defined]
    mp_process.BaseProcess.start = _process_start  # type: ignore[method-assign]
    mp_process.BaseProcess.join = _process_join  # type: ignore[method-assign]
    mp_process.BaseProcess._bootstrap = _process_bootstrap  # type: ignore[attr-defined]
    for name, traced in {
        "Lock": Lock,
        "RLock": RLock,
        "Semaphore": Semaphore,
        "BoundedSemaphore": BoundedSemaphore,
        "Event": Event,
        "Condition": Condition,
        "Barrier": Barrier,
        "Queue": Queue,
        "JoinableQueue": JoinableQueue,
    }.items():
        setattr(mp_context.BaseContext, name, _context_factory(name, traced))
        # multiprocessing.Lock is the default context's method, bound at import
        setattr(multiprocessing, name, getattr(mp_context._default_context, name))
    mp_context.BaseContext.Pipe = _pipe  # type: ignore[method-assign]
    multiprocessing.Pipe = mp_context._default_context.Pipe
    _ForkingPickler.register(Connection, _reduce_connection)
    managed.install()
    pools.install()


def in_child() -> bool:
    return _child_actor >= 0 or "tui_conc.tracing.runner" not in sys.modules
