"""A traced program's ``multiprocessing``: its processes as actors, reporting from the
parent and from the children (their shared locks, queues and pipes: :mod:`mp_objects`;
a Manager's objects: :mod:`managed`; pools: :mod:`pools`).

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
import multiprocessing.context as mp_context
import multiprocessing.process as mp_process
import os
import sys
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler as _ForkingPickler
from time import monotonic_ns
from typing import Any

import msgspec

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument, locks, managed, mp_objects, pools

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


def install() -> None:
    """Patch ``multiprocessing`` (the runner, and a spawned child; once a process)."""
    if getattr(mp_process.BaseProcess.start, "__wrapped__", None) is _start:
        return  # a forked child: its parent's patches are here already
    _process_start.__wrapped__ = _start  # type: ignore[attr-defined]
    mp_process.BaseProcess.start = _process_start  # type: ignore[method-assign]
    mp_process.BaseProcess.join = _process_join  # type: ignore[method-assign]
    mp_process.BaseProcess._bootstrap = _process_bootstrap  # type: ignore[attr-defined]
    for name, traced in {
        "Lock": mp_objects.Lock,
        "RLock": mp_objects.RLock,
        "Semaphore": mp_objects.Semaphore,
        "BoundedSemaphore": mp_objects.BoundedSemaphore,
        "Event": mp_objects.Event,
        "Condition": mp_objects.Condition,
        "Barrier": mp_objects.Barrier,
        "Queue": mp_objects.Queue,
        "JoinableQueue": mp_objects.JoinableQueue,
    }.items():
        setattr(mp_context.BaseContext, name, mp_objects.context_factory(name, traced))
        # multiprocessing.Lock is the default context's method, bound at import
        setattr(multiprocessing, name, getattr(mp_context._default_context, name))
    mp_context.BaseContext.Pipe = mp_objects.pipe  # type: ignore[method-assign]
    multiprocessing.Pipe = mp_context._default_context.Pipe
    _ForkingPickler.register(mp_objects.Connection, mp_objects.reduce_connection)
    managed.install()
    pools.install()


def in_child() -> bool:
    return _child_actor >= 0 or "tui_conc.tracing.runner" not in sys.modules
