"""Instrumented locks: real ``threading`` (or ``multiprocessing``) locks, rlocks and
semaphores that report events.

Rules that keep the event stream causal (the fold relies on them):

* a hold is reported *after* it is taken and its end *before* it is given up,
  so "B acquired" can never precede "A released";
* the uncontended path emits one prebuilt, untimed tuple; waiting emits
  timed ``WAIT`` / ``WAKE`` events.

Each primitive hands out per-actor *handles* (``bind(actor)``) whose fast
path does no lookups at all.
"""

from __future__ import annotations

import re
import threading
from time import monotonic_ns
from typing import Any

from tui_conc.engine.primitives.base import Emit, Step
from tui_conc.engine.wire import events as ev

#: The owner's thread ident in an ``RLock``'s repr (it has no public accessor).
_OWNER = re.compile(r"owner=(\d+)")


class LockLike:
    """A lock, rlock, semaphore or bounded semaphore with instrumented handles."""

    #: a controlled run's scheduler (step mode, exploration), set by the backend
    sched: Any = None
    #: the resource's name, for what a waiting actor is shown waiting on
    name: str = ""

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
            semlock = getattr(self.raw, "_semlock", None)  # else Dask's: it says itself
            return bool(semlock._is_zero()) if semlock is not None else self.raw.locked()
        if self.kind == "lock":
            return self.raw.locked()
        if self.kind == "rlock":
            return "unlocked" not in repr(self.raw)
        return self.raw._value == 0

    def free_for(self, ident: int | None) -> bool:
        """Could the thread ``ident`` take it now without waiting? (An rlock its owner
        holds, yes.) Read from the primitive itself, for the controlled scheduler."""
        if self.kind == "rlock" and not self._mp:
            text = repr(self.raw)
            if text.startswith("<unlocked"):
                return True
            owner = _OWNER.search(text)
            return owner is not None and int(owner.group(1)) == ident
        return not self.locked()

    def acquire_slow(self, actor: int, step: int, timeout: float | None) -> bool:
        """Wait for the primitive, reporting the wait; True once held."""
        emit = self._emit
        emit((ev.WAIT, actor, self.index, monotonic_ns(), step, "acquire", timeout))
        if self.sched is not None:  # a controlled run: the scheduler says when
            ident = threading.get_ident()
            ok = self.sched.block(lambda: self.free_for(ident), self.name, timeout)
            ok = ok and self.raw.acquire(False)
        elif self.kind in ("lock", "rlock") and not self._mp:
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
