"""A program that monkey-patches itself with gevent (``monkey.patch_all()``).

gevent's patching replaces ``threading.Lock``, ``threading.Event``, the
``queue`` classes and ``time.sleep`` with its own, and makes every thread a greenlet in one OS
thread. Once it has patched, the instrumentation is put back over gevent's
objects: a traced ``Lock`` waits on gevent's lock (its fast path in Python:
the C one would block the hub), a sleep is gevent's, and each greenlet is an
actor of its own (seen as it is first switched to, ended as it dies: greenlet's
switch tracer).

Verdicts stay sound: a greenlet not switched to yet, a timer, an IO wait are
all the hub's, so the hub is an actor that runs until the program ends — no
wait is judged stuck while it could act, except by gevent itself: when every
greenlet waits and the hub has nothing left to do, gevent raises ``LoopExit``
in the main greenlet, and the runner reports that nothing can run again.
"""

from __future__ import annotations

import queue
import threading
import time
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument, locks, queues, sync

#: The hub's actor, once the program has patched (-1 before).
hub_actor = -1
#: greenlet id → its actor: the greenlets met so far and not yet ended.
_live: dict[int, int] = {}
#: gevent ended the program with LoopExit: nothing could run again.
_blocked_forever = False


def watch_monkey(monkey: Any) -> None:
    """``gevent.monkey`` was imported: what its ``patch_all`` patches is traced again."""
    patch_all = monkey.patch_all

    def traced_patch_all(*args: Any, **kwargs: Any) -> Any:
        result = patch_all(*args, **kwargs)
        if instrument.REGISTRY is not None and hub_actor < 0:
            _after_patch()
        return result

    traced_patch_all.__wrapped__ = patch_all  # type: ignore[attr-defined]
    traced_patch_all.__doc__ = patch_all.__doc__
    monkey.patch_all = traced_patch_all


def _after_patch() -> None:
    global hub_actor
    import gevent
    import gevent.lock
    import gevent.thread
    import greenlet

    registry = instrument.REGISTRY
    assert registry is not None
    me = instrument._idents.get(instrument._get_ident(), 0)  # the OS thread's actor
    instrument.use_gevent(
        get_ident=gevent.thread.get_ident,
        allocate_lock=gevent.thread.allocate_lock,
        rlock=gevent.lock.RLock,
        sleep=gevent.sleep,
    )
    instrument._idents[id(greenlet.getcurrent())] = me  # the patching greenlet stays itself
    _live[id(greenlet.getcurrent())] = me
    hub_actor = registry.new_actor("gevent hub", True)
    instrument._emit((ev.ACTOR_START, hub_actor, -1, monotonic_ns(), 0))
    hub_type = type(gevent.get_hub())
    previous = greenlet.gettrace()

    def switched(event: str, args: Any) -> Any:
        origin, target = args
        if getattr(origin, "dead", False):
            _ended(origin)
        if id(target) not in instrument._idents and not isinstance(target, hub_type):
            _met(target)
        if previous is not None:
            return previous(event, args)
        return None

    greenlet.settrace(switched)
    # what gevent put in place of the traced classes and functions: the traced ones
    # again (they wait on gevent's objects now)
    threading.Lock = locks.Lock  # type: ignore[misc, assignment]
    threading.RLock = locks.RLock  # type: ignore[assignment]
    threading.Event = sync.Event  # type: ignore[misc]
    time.sleep = instrument.sleep
    # CPython's queues over threading's (now gevent's) locks; SimpleQueue, in C, would
    # block the hub: gevent's own stays
    queue.Queue = queues.Queue  # type: ignore[misc]
    queue.LifoQueue = queues.LifoQueue  # type: ignore[misc]
    queue.PriorityQueue = queues.PriorityQueue  # type: ignore[misc]


def _met(g: Any) -> None:
    """A greenlet switched to for the first time: an actor, named by its function (a
    ``threading.Thread``'s greenlet is that thread's actor, which reports itself)."""
    registry = instrument.REGISTRY
    if registry is None:
        return
    run = getattr(g, "_run", None) or getattr(g, "run", None)
    thread = getattr(run, "__self__", None)
    if isinstance(thread, threading.Thread) and getattr(thread, "_tui_actor", None) is not None:
        instrument._idents[id(g)] = thread._tui_actor  # type: ignore[attr-defined]
        return
    function = getattr(run, "__name__", None)
    name = getattr(g, "name", None) or f"greenlet {id(g):x}"
    label = name if function in (None, "run", "_run") else f"{function} ({name})"
    actor = registry.adopt(id(g), label)
    if actor >= 0:
        _live[id(g)] = actor


def _ended(g: Any) -> None:
    actor = _live.pop(id(g), None)
    instrument._idents.pop(id(g), None)
    if actor is None:
        return
    error = getattr(g, "exception", None)
    t = monotonic_ns()
    if error is None:
        instrument._emit((ev.ACTOR_DONE, actor, -1, t))
    else:
        instrument._emit((ev.ACTOR_FAILED, actor, -1, t, f"{type(error).__name__}: {error}"))


def loop_exit(exc: BaseException) -> bool:
    """The program ended on gevent's ``LoopExit``: every greenlet waits and nothing can
    wake one (gevent's own verdict). Reported; True when it was that."""
    global _blocked_forever
    if hub_actor < 0 or type(exc).__name__ != "LoopExit":
        return False
    instrument._emit((ev.BLOCKED_FOREVER, -1, -1, monotonic_ns(), f"gevent: {exc}"))
    _blocked_forever = True
    return True


def end() -> None:
    """The program is over: the greenlets it left behind are cut off (unless gevent said
    they wait for ever: they stay so, as the verdict says), and the hub's actor ends."""
    if hub_actor < 0:
        return
    t = monotonic_ns()
    main = instrument._idents.get(instrument._get_ident())
    for actor in list(_live.values()):
        if actor != main and not _blocked_forever:
            instrument._emit((ev.ACTOR_KILLED, actor, -1, t, "left running at exit"))
    _live.clear()
    instrument._emit((ev.ACTOR_DONE, hub_actor, -1, t))
