"""A traced program's ``threading.Lock`` and ``RLock``.

A Lock keeps its holder and counts its holds (in C when
``tui_conc/tracing/_fastlock.c`` was compiled at install, else in Python);
a hold is reported when it matters (see :class:`TracedLock`), checked
against the lock first (:func:`_publish`). An RLock reports every hold.
What the library makes for its own use stays CPython's.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import time
from time import monotonic_ns
from typing import Any
from weakref import ref as _weakref

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument, naming

#: This module's own (gevent's, once the program has patched: :func:`use_gevent`).
_get_ident = _thread.get_ident
_allocate_lock = _thread.allocate_lock
_RawRLock = _thread.RLock
_sleep = time.sleep


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
        # a free lock has no owner and no mark: its release raises in _give, as CPython's
        self._owner = 0  # before looking for a publication: see _publish
        if self._marks:
            self._end_published()  # type: ignore[attr-defined]
        self._give()

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        self._owner = 0  # release's, inline: this is the hot path of ``with lock:``
        if self._marks:
            self._end_published()  # type: ignore[attr-defined]
        self._give()

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
                instrument._emit((ev.RELEASED, instrument._me(), self._index))

    def _contended(self, timeout: float) -> bool:
        """The slow path: the holder's hold published, a timed WAIT, the real wait, a
        WAKE, and this thread's hold published."""
        t = None if timeout is None or timeout < 0 else timeout
        if instrument.REGISTRY is None:  # a forked child reports nothing
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
        actor = instrument._me()
        instrument._emit((ev.WAIT, actor, self._index, *instrument._now_site(), "acquire", t))
        try:
            ok = self._took(self._wait(-1 if left is None else left))
        except BaseException:  # interrupted (KeyboardInterrupt in the main thread)
            instrument._emit((ev.WAKE, actor, self._index, monotonic_ns(), False))
            raise
        instrument._emit((ev.WAKE, actor, self._index, monotonic_ns(), ok))
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
                    instrument._emit((ev.HOLDS, -1, self._index, monotonic_ns(), self._holds))

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
        actor = instrument._idents.get(owner)
        if actor is None:
            actor = -1 if instrument.REGISTRY is None else instrument.REGISTRY.adopt(owner)
            if actor < 0:
                return False
        lock._marks.append(actor)
        if lock._owner != owner:
            lock._marks.pop()
            return False
        instrument._emit((ev.ACQUIRED, actor, lock._index))
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
            instrument._emit((ev.HOLDS, -1, lock._index, monotonic_ns(), holds))
    del _locks[alive:seen]
    return moved


def _wait_for(raw: Any, index: int, timeout: float | None) -> bool:
    """The slow path of an acquire: a timed WAIT, the real wait, a WAKE (and the hold)."""
    actor = instrument._me()
    t = None if timeout is None or timeout < 0 else timeout
    instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "acquire", t))
    try:
        ok = raw.acquire() if t is None else raw.acquire(True, t)
    except BaseException:  # interrupted (KeyboardInterrupt in the main thread)
        instrument._emit((ev.WAKE, actor, index, monotonic_ns(), False))
        raise
    instrument._emit((ev.WAKE, actor, index, monotonic_ns(), ok))
    if ok:
        instrument._emit((ev.ACQUIRED, actor, index))
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
            actor = instrument._idents.get(_get_ident())
            me = instrument._me() if actor is None else actor
            instrument._emit((ev.ACQUIRED, me, self._index))
            return True
        if not blocking:
            return False
        return _wait_for(self._raw, self._index, timeout)

    def __enter__(self) -> bool:
        return self.acquire()

    def release(self) -> None:
        if not self._raw._is_owned():
            raise RuntimeError("cannot release un-acquired lock")
        instrument._emit((ev.RELEASED, instrument._me(), self._index))
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
        actor = instrument._me()
        for _ in range(count[0] if isinstance(count, tuple) else 1):
            instrument._emit((ev.RELEASED, actor, self._index))
        return count

    def _acquire_restore(self, state: Any) -> None:
        actor, raw = instrument._me(), self._raw
        if not raw.acquire(False):
            where = instrument._now_site()
            instrument._emit((ev.WAIT, actor, self._index, *where, "acquire", None))
            raw.acquire()
            instrument._emit((ev.WAKE, actor, self._index, monotonic_ns(), True))
        count = state[0] if isinstance(state, tuple) else 1
        for _ in range(count - 1):  # held already: each takes it again at once
            raw.acquire()
        for _ in range(count):
            instrument._emit((ev.ACQUIRED, actor, self._index))

    def __repr__(self) -> str:
        return f"<traced rlock #{self._index} {self._raw!r}>"


_TRACED_LOCKS: tuple[type, ...] = (TracedLock, TracedRLock)


def traced_types() -> tuple[type, ...]:
    """The classes of the traced locks made so far (a condition over one is not its lock)."""
    return _TRACED_LOCKS


def use_gevent(get_ident: Any, allocate_lock: Any, rlock: Any, sleep: Any) -> None:
    """The program has patched itself with gevent: the locks made from now wait on
    gevent's, and their holders are greenlets (see :mod:`greenlets`)."""
    global _get_ident, _allocate_lock, _RawRLock, _sleep, TracedLock, _TRACED_LOCKS
    _get_ident, _allocate_lock, _RawRLock, _sleep = get_ident, allocate_lock, rlock, sleep
    TracedLock = traced_lock_class(PyLockBase)  # the C one would block the hub
    _TRACED_LOCKS = (*_TRACED_LOCKS, TracedLock)


def Lock() -> Any:
    """``threading.Lock``: traced when the program makes it, bare for the library."""
    if naming.made_by_program():
        return TracedLock(instrument._resource("Lock", {"type": "lock"}))
    return _allocate_lock()


class _NoRLock:
    """What gevent's ``patch_all`` gets when it asks for the RLock type: it walks every
    object of that type to re-own it, and would choke on the runner's own (3.11's
    ``functools.cached_property`` makes them); none of those is the program's."""


def RLock(*args: Any, **kwargs: Any) -> Any:
    """``threading.RLock``: traced when the program makes it, bare for the library."""
    if naming.made_by_program():
        return TracedRLock(instrument._resource("RLock", {"type": "rlock"}))
    frame = naming.caller(2)
    if frame is not None and frame.f_code.co_name == "_patch_existing_locks":
        return _NoRLock()
    return _RawRLock()


os.register_at_fork(after_in_child=_publishing._at_fork_reinit)  # held by a thread gone
