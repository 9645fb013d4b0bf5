"""A traced program's ``multiprocessing``: its processes as actors, its shared locks,
semaphores and events as resources, reporting from the parent and from the children.

Parent side: ``Process.start`` makes the process an actor (its index travels in the
process object), ``join`` is a wait on it, and the runner turns its stream into merged
sources the first time a process starts (children send their batches to its relay, as
the process backend's children do). Child side: the child attaches to the relay when
it is unpickled (spawn, forkserver) or bootstraps (fork); every thread in it is the
process's actor. Shared primitives carry their resource index when pickled; a child's
own new primitives are not traced.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context as mp_context
import multiprocessing.process as mp_process
import multiprocessing.synchronize as mp_sync
import os
import sys
from collections.abc import Callable
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument, naming

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
    if instrument.REGISTRY is not None and getattr(self, "_tui_actor", None) is None:
        if not _address and _enable is not None:
            _address = _enable()
        actor = instrument.REGISTRY.new_actor(self.name, bool(self.daemon))
        self._tui_actor = actor
        self._tui_child = _Attach(_address, actor)
        instrument._emit((ev.ACTOR_SPAWNED, actor, -1, monotonic_ns()))
        _start(self)
        processes[self] = actor
        return
    _start(self)


def _process_join(self: Any, timeout: float | None = None) -> None:
    target = getattr(self, "_tui_actor", None)
    me = instrument._idents.get(instrument._get_ident())
    if target is None or me is None or self._popen is None or self.exitcode is not None:
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


def attach_child(address: str, actor: int) -> None:
    """Report this process's events to the parent's relay, every thread as ``actor``."""
    global _child_actor, _channel
    if _child_actor >= 0 or not address:
        return
    from tui_conc.engine.wire.channel import Channel

    try:
        channel = Channel(address)
    except OSError:
        return  # the runner is gone: run on, unreported
    channel.start()
    _child_actor, _channel = actor, channel
    if instrument.REGISTRY is None:  # spawn: a fresh interpreter, nothing patched yet
        instrument.install_in_child(channel.emit, actor)
    else:  # fork: the parent's patches, a sink of the child's own
        instrument.attach_to(channel.emit, actor)
    channel.emit((ev.ACTOR_START, actor, -1, monotonic_ns(), os.getpid(), os.getpid(),
                  os.getppid()))  # fmt: skip
    real_exit = os._exit

    def exit_now(status: int) -> None:
        _end_child(status)
        real_exit(status)

    os._exit = exit_now


def _end_child(code: int) -> None:
    global _channel
    channel = _channel
    if channel is None:
        return
    _channel = None
    t = monotonic_ns()
    if code == 0:
        channel.emit((ev.ACTOR_DONE, _child_actor, -1, t))
    else:
        channel.emit((ev.ACTOR_FAILED, _child_actor, -1, t, f"exit code {code}"))
    channel.close()


# -- shared primitives --------------------------------------------------------------------------


def _program_made() -> bool:
    return naming.made_by_program(3) and instrument.REGISTRY is not None and _child_actor < 0


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


def install() -> None:
    """Patch ``multiprocessing`` in the parent (the runner calls it)."""
    mp_process.BaseProcess.start = _process_start  # type: ignore[method-assign]
    mp_process.BaseProcess.join = _process_join  # type: ignore[method-assign]
    mp_process.BaseProcess._bootstrap = _process_bootstrap  # type: ignore[attr-defined]
    for name, traced in {
        "Lock": Lock,
        "RLock": RLock,
        "Semaphore": Semaphore,
        "BoundedSemaphore": BoundedSemaphore,
    }.items():
        setattr(mp_context.BaseContext, name, _context_factory(name, traced))
        # multiprocessing.Lock is the default context's method, bound at import
        setattr(multiprocessing, name, getattr(mp_context._default_context, name))


def in_child() -> bool:
    return _child_actor >= 0 or "tui_conc.tracing.runner" not in sys.modules
