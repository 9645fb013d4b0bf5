"""Instrument ``threading``, ``queue`` and ``time.sleep`` in this process, before the
program runs: its threads become actors, its locks, semaphores, events,
conditions, barriers and queues resources, reporting the same events a
scenario's run reports (see :mod:`tui_conc.engine.wire.events`).

The program's own classes are replaced in their modules by subclasses (or,
for ``Lock`` and ``RLock``, which are factories, by wrappers) that keep
CPython's behaviour and add the events; what the standard library makes for
its own use stays bare (:func:`naming.made_by_program`). Threads are seen
however they start: ``Thread.start`` and ``_bootstrap_inner`` are patched on
the class itself, so subclasses and the library's threads (a
``ThreadPoolExecutor``'s workers, a ``Timer``) are actors too.

The stream stays causal as in the engine's primitives: a hold is reported
after it is taken and its end before it is given up; an uncontended acquire
is one untimed tuple.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable
from time import monotonic_ns
from typing import Any
from weakref import ref as _weakref

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import naming

Emit = Callable[[tuple[Any, ...]], None]

_get_ident = _thread.get_ident
_allocate_lock = _thread.allocate_lock
_RawRLock = _thread.RLock
_sleep = time.sleep  #: the program's sleep (gevent's, once it has patched)
_os_sleep = time.sleep
_Thread = threading.Thread
_start = threading.Thread.start
_bootstrap_inner = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]
_join = threading.Thread.join
_excepthook = threading.excepthook
_GROUP = re.compile(r"^(.*?)[-_ ]?\d+$")


def _drop(_: tuple[Any, ...]) -> None:
    return None


#: The run's sink (``list.append``) and each thread's actor: read on every fast path.
_emit: Emit = _drop
_idents: dict[int, int] = {}


class _Registry:
    """Actors, resources and places met so far; one lock keeps their indices in
    stream order (an ``*_NEW`` event's index is the count before it)."""

    child = False

    def __init__(self, main_file: str) -> None:
        self.guard = _allocate_lock()
        self.namer = naming.Namer(main_file)
        self.actors = 0
        self.resources = 0
        self.sites: dict[tuple[str, int], int] = {}
        self.failed: set[int] = set()
        self.own_threads: set[int] = set()  #: the runner's threads: never actors

    def new_actor(self, name: str, daemon: bool) -> int:
        group = _GROUP.match(name)
        with self.guard:
            index = self.actors
            self.actors += 1
            _emit(
                (ev.ACTOR_NEW, index, -1, monotonic_ns(), name, group.group(1) if group else name,
                 daemon)
            )  # fmt: skip
        return index

    def new_process(self, name: str, daemon: bool) -> int:
        """A process the program starts: an actor (a child asks the runner for it)."""
        return self.new_actor(name, daemon)

    def adopt(self, ident: int, name: str | None = None) -> int:
        """A thread not seen starting (made by ``_thread`` or C): an actor from now."""
        if ident in self.own_threads:
            return -1
        with self.guard:
            if ident in _idents:
                return _idents[ident]
        thread = threading._active.get(ident)  # type: ignore[attr-defined]
        label = name or (thread.name if thread is not None else f"thread {ident}")
        index = self.new_actor(label, bool(thread is not None and thread.daemon))
        _idents[ident] = index
        _emit((ev.ACTOR_START, index, -1, monotonic_ns(), ident & 0xFFFFFFFF))
        return index

    def new_resource(self, label: str, info: dict[str, Any], joined: bool = False) -> int:
        base = self.namer.base(label, naming.program_frame(3), joined)
        return self.add_resource(base, info, _idents.get(_get_ident(), -1))

    def add_resource(self, base: str, info: dict[str, Any], actor: int) -> int:
        """A resource called ``base`` (made unique), made by ``actor``: its index."""
        with self.guard:
            name = self.namer.unique(base)
            index = self.resources
            self.resources += 1
            _emit((ev.RESOURCE_NEW, actor, index, monotonic_ns(), {"name": name, **info}))
        return index

    def site(self, frame: Any = None) -> int:
        """The program's place calling now (a WAIT's "step")."""
        if frame is None:
            frame = naming.program_frame(3)
        key = (frame.f_code.co_filename, frame.f_lineno) if frame is not None else ("", 0)
        index = self.sites.get(key)
        if index is not None:
            return index
        line, text = self.namer.place(frame)
        return self.add_site(key, line, text)

    def add_site(self, key: tuple[str, int], line: int, text: str) -> int:
        """The place ``key`` (file, line), shown as ``line`` and ``text``: its index."""
        with self.guard:
            index = self.sites.get(key)
            if index is None:
                index = len(self.sites)
                self.sites[key] = index
                _emit((ev.SITE_NEW, -1, index, monotonic_ns(), line, text))
        return index

    def fixed_site(self, text: str) -> int:
        """A place that is not a line of the program (the interpreter's exit)."""
        key = ("", -len(text))
        with self.guard:
            index = self.sites.get(key)
            if index is None:
                index = len(self.sites)
                self.sites[key] = index
                _emit((ev.SITE_NEW, -1, index, monotonic_ns(), 0, text))
        return index


class _ChildRegistry(_Registry):
    """In a child process of the program: every thread is the process's actor; what
    the child makes itself, and the places it waits at, get their indices from the
    runner (:func:`processes.serve_child`), which gives them all."""

    child = True

    def __init__(self, actor: int, ask: Callable[[Any], Any] | None = None) -> None:
        super().__init__("")
        self.actor = actor
        self.ask = ask  #: a question to the runner, answered (None: not connected)
        #: the program started a thread in this child: its waits are no longer the
        #: process's (another thread may be running), so none is reported
        self.threads = False

    def new_actor(self, name: str, daemon: bool) -> int:
        if not self.threads and naming.made_by_program():
            self.threads = True
            _emit((ev.RUN, self.actor, -1, monotonic_ns()))
        return self.actor

    def adopt(self, ident: int, name: str | None = None) -> int:
        _idents[ident] = self.actor
        return self.actor

    def new_process(self, name: str, daemon: bool) -> int:
        return self._asked(("actor", name, daemon))

    def new_resource(self, label: str, info: dict[str, Any], joined: bool = False) -> int:
        base = self.namer.base(label, naming.program_frame(3), joined)
        return self._asked(("resource", base, info, self.actor))

    def site(self, frame: Any = None) -> int:
        if frame is None:
            frame = naming.program_frame(3)
        if frame is None:
            return -1
        key = (frame.f_code.co_filename, frame.f_lineno)
        index = self.sites.get(key)
        if index is None:
            line, text = self.namer.place(frame)
            index = self.sites[key] = self._asked(("site", list(key), line, text))
        return index

    def fixed_site(self, text: str) -> int:
        return -1

    def _asked(self, question: tuple[Any, ...]) -> int:
        if self.ask is None:
            return -1
        try:
            return int(self.ask(question))
        except (OSError, EOFError, ValueError, TypeError):
            return -1  # the runner is gone, or did not understand: not traced


REGISTRY: _Registry | None = None


def _me() -> int:
    """This thread's actor (a thread met for the first time becomes one)."""
    actor = _idents.get(_get_ident())
    if actor is None:
        if REGISTRY is None:  # a forked child: nothing is reported from it
            return -1
        actor = REGISTRY.adopt(_get_ident())
    return actor


def _site() -> int:
    return -1 if REGISTRY is None else REGISTRY.site()


def _now_site() -> tuple[int, int]:
    """(now, the calling place): the place first, so that its SITE_NEW comes before."""
    site = _site()
    return monotonic_ns(), site


def _resource(label: str, info: dict[str, Any], joined: bool = False) -> int:
    return -1 if REGISTRY is None else REGISTRY.new_resource(label, info, joined)


def _forked_child() -> None:
    """In a child the program forked (``multiprocessing``'s default on Linux): its
    threads, locks and queues work on, reporting nothing (the runner's sink and
    flusher are the parent's)."""
    global _emit, REGISTRY
    _emit = _drop
    REGISTRY = None
    _idents.clear()
    _publishing._at_fork_reinit()


class ProgramOnly:
    """Made by the library for its own use (an Event inside a Thread, the conditions
    inside a Queue), the class is CPython's own, untouched."""

    _bare: type = object

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if naming.made_by_program():
            return super().__new__(cls)
        return cls._bare(*args, **kwargs)


# -- locks ---------------------------------------------------------------------------------


class PyLockBase:
    """A lock that keeps its holder's thread ident and counts its holds: the fast path
    of the traced Lock in Python (:mod:`tui_conc.tracing._fastlock` is the same in C,
    used when it was compiled at install).

    The owner is written after the lock is taken and cleared before the marks
    are looked at, then the lock let go: :func:`_publish` relies on that order.
    """

    __slots__ = ("__weakref__", "_give", "_holds", "_index", "_marks", "_owner", "_raw",
                 "_sampled", "_try")  # fmt: skip

    def __init__(self, index: int = -1) -> None:
        self._raw = raw = _allocate_lock()
        self._try, self._give = raw.acquire, raw.release  #: the fast path's two calls
        self._index = index
        self._owner = 0  #: the holder's thread ident (0: free, or a hold being taken or ended)
        self._holds = 0  #: holds taken so far
        self._marks: list[int] = []  #: one entry while the current hold is published
        self._sampled = 0  #: ``_holds`` when the sampler last looked

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not blocking and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        if timeout < 0 and timeout != -1:
            raise ValueError("timeout value must be positive")
        if self._try(False):
            self._holds += 1
            self._owner = _get_ident()
            return True
        if not blocking:
            return False
        return self._contended(timeout)  # type: ignore[attr-defined, no-any-return]

    def __enter__(self) -> bool:
        if self._try(False):
            self._holds += 1
            self._owner = _get_ident()
            return True
        return self._contended(-1)  # type: ignore[attr-defined, no-any-return]

    def release(self) -> None:
        if not self._raw.locked():
            raise RuntimeError("release unlocked lock")
        self._owner = 0  # before looking for a publication: see _publish
        if self._marks:
            self._end_published()  # type: ignore[attr-defined]
        self._give()

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        self.release()

    def _wait(self, timeout: float) -> bool:
        """Take the lock, waiting up to ``timeout`` s (< 0: for ever); no bookkeeping."""
        return bool(self._raw.acquire() if timeout < 0 else self._raw.acquire(True, timeout))

    def locked(self) -> bool:
        return bool(self._raw.locked())

    def _at_fork_reinit(self) -> None:
        reinit = getattr(self._raw, "_at_fork_reinit", None)
        if reinit is not None:
            reinit()  # the same lock object: _try and _give stay right
        self._owner = 0
        self._marks.clear()


try:
    if os.environ.get("TUI_CONC_PURE_PYTHON"):
        raise ImportError("the pure Python lock was asked for")
    from tui_conc.tracing._fastlock import FastLock as LockBase
except ImportError:
    LockBase = PyLockBase  # type: ignore[assignment, misc]


class _TracedLockPaths:
    """The slow paths of a traced ``threading.Lock`` (see :func:`traced_lock_class`)."""

    __slots__ = ()
    _index: int
    _marks: list[int]
    _holds: int
    _owner: int

    def _end_published(self) -> None:
        with _publishing:
            if self._marks:
                self._marks.pop()
                _emit((ev.RELEASED, _me(), self._index))

    def _contended(self, timeout: float) -> bool:
        """The slow path: the holder's hold published, a timed WAIT, the real wait, a
        WAKE, and this thread's hold published."""
        t = None if timeout is None or timeout < 0 else timeout
        if REGISTRY is None:  # a forked child reports nothing
            return self._took(self._wait(-1 if t is None else t))
        # the holder may be a thread that has just taken the lock and waits for the
        # GIL: give it a turn first, or two threads hand the lock to each other on
        # every hold (a wrapped lock's release and next acquire are far apart)
        for _ in range(_YIELDS):
            _sleep(0)
            if self._try(False):
                return self._took(True)
        deadline = None if t is None else time.monotonic() + t
        # the holder is between taking the lock and naming itself (a few bytecodes):
        # wait for it a moment at a time, as a spinning acquire would
        while not _publish(self):
            left = None if deadline is None else deadline - time.monotonic()
            step = _NAMING_WAIT_S if left is None else max(0.0, min(left, _NAMING_WAIT_S))
            if self._wait(step):
                return self._took(True)
            if left is not None and left <= _NAMING_WAIT_S:
                return False
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        actor = _me()
        _emit((ev.WAIT, actor, self._index, *_now_site(), "acquire", t))
        try:
            ok = self._took(self._wait(-1 if left is None else left))
        except BaseException:  # interrupted (KeyboardInterrupt in the main thread)
            _emit((ev.WAKE, actor, self._index, monotonic_ns(), False))
            raise
        _emit((ev.WAKE, actor, self._index, monotonic_ns(), ok))
        if ok:
            _publish(self)
        return ok

    def _took(self, ok: bool) -> bool:
        """After a slow acquire: a hold taken is counted and named."""
        if ok:
            self._holds += 1
            self._owner = _get_ident()
        return bool(ok)

    def __repr__(self) -> str:
        state = "locked" if self.locked() else "unlocked"  # type: ignore[attr-defined]
        return f"<{state} traced lock #{self._index}>"


def traced_lock_class(base: type) -> type:
    """The traced ``threading.Lock`` over a fast path (C or Python)."""

    class TracedLock(_TracedLockPaths, base):  # type: ignore[valid-type, misc]
        """``threading.Lock()`` as the program makes it: a real lock whose holds are
        reported when they matter.

        An uncontended acquire and release cost no event: the lock keeps its owner
        and a count of its holds, and a hold is *published* (an ``ACQUIRED``, its
        ``RELEASED`` when it ends) when a thread must wait for it, when it was
        taken after a wait, or when the runner's sampler sees it held
        (:func:`publish_holds`, every :data:`SAMPLE_EVERY_S`). A publication is
        checked against the lock before it is reported and its end is reported
        after it (:func:`_publish`), so the stream never shows a hold that is not
        one: a deadlock named from it is certain.
        """

        __slots__ = ()

        def __init__(self, index: int) -> None:
            base.__init__(self, index)
            if index >= 0:
                _locks.append(_weakref(self))

        def __del__(self) -> None:
            """A lock that goes before the sampler saw its last holds: they count."""
            with contextlib.suppress(Exception):  # at interpreter exit, globals may be gone
                if self._index >= 0 and self._holds != self._sampled:
                    _emit((ev.HOLDS, -1, self._index, monotonic_ns(), self._holds))

    TracedLock.__qualname__ = "TracedLock"
    return TracedLock


TracedLock = traced_lock_class(LockBase)


#: How many GIL turns a blocked acquire gives the holder before it waits for real.
_YIELDS = 2
#: How long a waiter waits, at a time, for a holder that has not named itself yet.
_NAMING_WAIT_S = 0.001
#: How often the runner publishes the holds it sees (an uncontended hold that lasts
#: longer is shown; a shorter one, unless someone waits for it, is only counted).
SAMPLE_EVERY_S = 0.05
#: Serialises publications and the ends of published holds (rare: slow paths only).
_publishing = _allocate_lock()
#: Every traced ``threading.Lock`` made so far (weakly), for the sampler.
_locks: list[Any] = []


def _publish(lock: Any) -> bool:
    """Report ``lock``'s current hold (``ACQUIRED`` by its owner) unless it is reported
    already; False when no holder could be named (free, or being taken or ended).

    The hold is marked, then checked: its owner still there. A holder names
    itself once it has the lock and forgets itself before it lets go, then
    looks for a mark; so a hold that passes the check ends after the mark is
    set, and its ``RELEASED`` (which waits for this function's lock) comes
    after its ``ACQUIRED``; one that fails is not reported.
    """
    with _publishing:
        if lock._marks:
            return True
        owner = lock._owner
        if not owner:
            return False
        actor = _idents.get(owner)
        if actor is None:
            actor = -1 if REGISTRY is None else REGISTRY.adopt(owner)
            if actor < 0:
                return False
        lock._marks.append(actor)
        if lock._owner != owner:
            lock._marks.pop()
            return False
        _emit((ev.ACQUIRED, actor, lock._index))
        return True


def publish_holds() -> bool:
    """The sampler: publish every traced lock's hold seen now, and the count of holds
    of each lock taken since the last call (``HOLDS``); True when there was one
    (progress the stream may not show)."""
    moved = False
    alive = seen = 0
    for ref in _locks:  # a lock made meanwhile is appended: seen here or next time
        seen += 1
        lock = ref()
        if lock is None:
            continue
        _locks[alive] = ref
        alive += 1
        if lock._owner and not lock._marks:
            _publish(lock)  # first: a hold counted below is then reported already
        holds = lock._holds
        if holds != lock._sampled:
            lock._sampled = holds
            moved = True
            _emit((ev.HOLDS, -1, lock._index, monotonic_ns(), holds))
    del _locks[alive:seen]
    return moved


def _wait_for(raw: Any, index: int, timeout: float | None) -> bool:
    """The slow path of an acquire: a timed WAIT, the real wait, a WAKE (and the hold)."""
    actor = _me()
    t = None if timeout is None or timeout < 0 else timeout
    _emit((ev.WAIT, actor, index, *_now_site(), "acquire", t))
    try:
        ok = raw.acquire() if t is None else raw.acquire(True, t)
    except BaseException:  # interrupted (KeyboardInterrupt in the main thread)
        _emit((ev.WAKE, actor, index, monotonic_ns(), False))
        raise
    _emit((ev.WAKE, actor, index, monotonic_ns(), ok))
    if ok:
        _emit((ev.ACQUIRED, actor, index))
    return bool(ok)


class TracedRLock:
    """``threading.RLock()``: held again by its owner; released as many times. Every
    hold is reported (its owner alone may release it, and a condition over it
    hands it over by count)."""

    __slots__ = ("__weakref__", "_index", "_raw")

    def __init__(self, index: int) -> None:
        self._raw = _RawRLock()
        self._index = index

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._raw.acquire(False):
            actor = _idents.get(_get_ident())
            _emit((ev.ACQUIRED, _me() if actor is None else actor, self._index))
            return True
        if not blocking:
            return False
        return _wait_for(self._raw, self._index, timeout)

    def __enter__(self) -> bool:
        return self.acquire()

    def release(self) -> None:
        if not self._raw._is_owned():
            raise RuntimeError("cannot release un-acquired lock")
        _emit((ev.RELEASED, _me(), self._index))
        self._raw.release()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def locked(self) -> bool:
        count = getattr(self._raw, "_count", None)  # gevent's RLock
        return "unlocked" not in repr(self._raw) if count is None else count > 0

    def _at_fork_reinit(self) -> None:
        self._raw._at_fork_reinit()

    # what threading.Condition uses on an RLock
    def _is_owned(self) -> bool:
        return bool(self._raw._is_owned())

    def _release_save(self) -> Any:
        count = self._raw._release_save()
        actor = _me()
        for _ in range(count[0] if isinstance(count, tuple) else 1):
            _emit((ev.RELEASED, actor, self._index))
        return count

    def _acquire_restore(self, state: Any) -> None:
        actor, raw = _me(), self._raw
        if not raw.acquire(False):
            _emit((ev.WAIT, actor, self._index, *_now_site(), "acquire", None))
            raw.acquire()
            _emit((ev.WAKE, actor, self._index, monotonic_ns(), True))
        count = state[0] if isinstance(state, tuple) else 1
        for _ in range(count - 1):  # held already: each takes it again at once
            raw.acquire()
        for _ in range(count):
            _emit((ev.ACQUIRED, actor, self._index))

    def __repr__(self) -> str:
        return f"<traced rlock #{self._index} {self._raw!r}>"


_TRACED_LOCKS: tuple[type, ...] = (TracedLock, TracedRLock)


def use_gevent(get_ident: Any, allocate_lock: Any, rlock: Any, sleep: Any) -> None:
    """The program has patched itself with gevent: from now on an actor is a greenlet,
    and the traced objects made from now wait on gevent's (see :mod:`greenlets`)."""
    global _get_ident, _allocate_lock, _RawRLock, _sleep, TracedLock, _TRACED_LOCKS
    _get_ident, _allocate_lock, _RawRLock, _sleep = get_ident, allocate_lock, rlock, sleep
    TracedLock = traced_lock_class(PyLockBase)  # the C one would block the hub
    _TRACED_LOCKS = (*_TRACED_LOCKS, TracedLock)


def Lock() -> Any:
    """``threading.Lock``: traced when the program makes it, bare for the library."""
    if naming.made_by_program():
        return TracedLock(_resource("Lock", {"type": "lock"}))
    return _allocate_lock()


class _NoRLock:
    """What gevent's ``patch_all`` gets when it asks for the RLock type: it walks every
    object of that type to re-own it, and would choke on the runner's own (3.11's
    ``functools.cached_property`` makes them); none of those is the program's."""


def RLock(*args: Any, **kwargs: Any) -> Any:
    """``threading.RLock``: traced when the program makes it, bare for the library."""
    if naming.made_by_program():
        return TracedRLock(_resource("RLock", {"type": "rlock"}))
    frame = naming.caller(2)
    if frame is not None and frame.f_code.co_name == "_patch_existing_locks":
        return _NoRLock()
    return _RawRLock()


# -- threads and sleeps ----------------------------------------------------------------------


def _thread_start(self: threading.Thread) -> None:
    if REGISTRY is not None and REGISTRY.child:
        self._tui_actor = REGISTRY.new_actor(self.name, self.daemon)  # type: ignore[attr-defined]
    elif REGISTRY is not None and getattr(self, "_tui_actor", None) is None:
        actor = REGISTRY.new_actor(self.name, self.daemon)
        self._tui_actor = actor  # type: ignore[attr-defined]
        _emit((ev.ACTOR_SPAWNED, actor, -1, monotonic_ns()))
    _start(self)


def _thread_bootstrap_inner(self: threading.Thread) -> None:
    actor = getattr(self, "_tui_actor", None)
    if actor is None:
        _bootstrap_inner(self)
        return
    _idents[_get_ident()] = actor
    if REGISTRY is not None and REGISTRY.child:  # a thread of a child process: the process
        try:
            _bootstrap_inner(self)
        finally:
            _idents.pop(_get_ident(), None)
        return
    _emit((ev.ACTOR_START, actor, -1, monotonic_ns(), threading.get_native_id()))
    try:
        _bootstrap_inner(self)
    finally:
        if REGISTRY is not None and actor not in REGISTRY.failed:
            _emit((ev.ACTOR_DONE, actor, -1, monotonic_ns(), time.thread_time()))
        _idents.pop(_get_ident(), None)  # the ident may be given to another thread


def _thread_join(self: threading.Thread, timeout: float | None = None) -> None:
    target = getattr(self, "_tui_actor", None)
    me = _idents.get(_get_ident())
    if target is None or me is None or not self.is_alive():
        _join(self, timeout)
        return
    _emit((ev.WAIT, me, target, *_now_site(), "join", timeout))
    try:
        _join(self, timeout)
    finally:
        _emit((ev.WAKE, me, target, monotonic_ns(), not self.is_alive()))


def _thread_excepthook(args: Any) -> None:
    actor = _idents.get(_get_ident())
    if actor is not None and REGISTRY is not None:
        REGISTRY.failed.add(actor)
        text = f"{args.exc_type.__name__}: {args.exc_value}"
        _emit((ev.ACTOR_FAILED, actor, -1, monotonic_ns(), text))
    _excepthook(args)


_start_new_thread = _thread.start_new_thread


def start_new_thread(function: Any, args: tuple[Any, ...], kwargs: Any = None) -> int:
    """``_thread.start_new_thread`` called by the program itself: an actor from its
    start (a thread seen only later could release a lock the others wait for)."""
    if REGISTRY is None or REGISTRY.child or not naming.made_by_program():
        return _start_new_thread(function, args, kwargs or {})  # (the runner's own: not one)
    actor = REGISTRY.new_actor(f"_thread-{REGISTRY.actors}", True)
    _emit((ev.ACTOR_SPAWNED, actor, -1, monotonic_ns()))

    def run(*a: Any, **k: Any) -> None:
        _idents[_get_ident()] = actor
        _emit((ev.ACTOR_START, actor, -1, monotonic_ns(), threading.get_native_id()))
        try:
            function(*a, **k)
        except SystemExit:
            pass
        except BaseException as exc:
            _emit((ev.ACTOR_FAILED, actor, -1, monotonic_ns(), f"{type(exc).__name__}: {exc}"))
            raise
        else:
            _emit((ev.ACTOR_DONE, actor, -1, monotonic_ns(), time.thread_time()))
        finally:
            _idents.pop(_get_ident(), None)

    return _start_new_thread(run, args, kwargs or {})


def sleep(seconds: float) -> None:
    """``time.sleep``: an actor's sleep is shown (the runner's own threads sleep bare)."""
    actor = _idents.get(_get_ident())
    if actor is None:  # not the program's: an OS sleep (gevent's would start a hub here)
        _os_sleep(seconds)
        return
    if seconds <= 0:
        _sleep(seconds)
        return
    _emit((ev.SLEEP, actor, -1, *_now_site(), float(seconds)))
    try:
        _sleep(seconds)
    finally:
        _emit((ev.RUN, actor, -1, monotonic_ns()))


def _watch_gevent(monkey: Any) -> None:
    from tui_conc.tracing import greenlets

    greenlets.watch_monkey(monkey)


def _watch_asyncio(tasks_module: Any) -> None:
    from tui_conc.tracing import tasks

    tasks.patch_asyncio(tasks_module)


class _AfterImport:
    """A meta-path finder: once ``asyncio.tasks`` or ``gevent.monkey`` is imported (if
    ever), patch it."""

    after = {"asyncio.tasks": _watch_asyncio, "gevent.monkey": _watch_gevent}

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        then = self.after.get(name)
        if then is None:
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path)
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            then(module)

        loader.exec_module = exec_module
        return spec


# -- installing ------------------------------------------------------------------------------


def install(emit: Emit, main_file: str) -> _Registry:
    """Patch this process: the calling thread is actor 0 (the header's MainThread)."""
    global _emit, REGISTRY
    registry = _Registry(main_file)
    registry.actors = 1
    registry.own_threads = set(sys._current_frames()) - {_get_ident()}
    REGISTRY = registry
    _emit = emit
    _idents[_get_ident()] = 0
    emit((ev.ACTOR_START, 0, -1, monotonic_ns(), threading.get_native_id()))
    _patch()
    from tui_conc.tracing import processes

    processes.install()
    return registry


def install_in_child(emit: Emit, actor: int, ask: Callable[[Any], Any] | None = None) -> None:
    """In a child process of the program: report into ``emit``, as ``actor``; ``ask``
    the runner for indices."""
    global _emit, REGISTRY
    REGISTRY = _ChildRegistry(actor, ask)
    _idents.clear()
    _emit = emit
    _patch()
    from tui_conc.tracing import processes

    processes.install()  # a spawned child's multiprocessing is fresh; a forked one's, patched


def _patch() -> None:
    # imported here, before any patching: their classes subclass CPython's own
    from tui_conc.tracing import queues, sync

    for name, value in {
        "Lock": Lock,
        "RLock": RLock,
        "Semaphore": sync.Semaphore,
        "BoundedSemaphore": sync.BoundedSemaphore,
        "Event": sync.Event,
        "Condition": sync.Condition,
        "Barrier": sync.Barrier,
        "excepthook": _thread_excepthook,
    }.items():
        setattr(threading, name, value)
    threading.Thread.start = _thread_start  # type: ignore[method-assign]
    threading.Thread._bootstrap_inner = _thread_bootstrap_inner  # type: ignore[attr-defined]
    threading.Thread.join = _thread_join  # type: ignore[method-assign]
    queue.Queue = queues.Queue  # type: ignore[misc]
    queue.LifoQueue = queues.LifoQueue  # type: ignore[misc]
    queue.PriorityQueue = queues.PriorityQueue  # type: ignore[misc]
    queue.SimpleQueue = queues.SimpleQueue  # type: ignore[misc]
    time.sleep = sleep
    _thread.start_new_thread = start_new_thread
    if _patch.__dict__.get("done"):
        return
    _patch.__dict__["done"] = True
    os.register_at_fork(after_in_child=_forked_child)
    for name, then in _AfterImport.after.items():
        if name in sys.modules:
            then(sys.modules[name])
    sys.meta_path.insert(0, _AfterImport())  # type: ignore[arg-type]


def exit_site() -> int:
    """The place shown while the interpreter waits for the program's threads."""
    assert REGISTRY is not None
    return REGISTRY.fixed_site("(interpreter exit: waits for the non-daemon threads)")
