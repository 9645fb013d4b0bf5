"""Real OS threads and sleeps, even in a process that gevent has monkey-patched.

The runner's flusher, writer and control loop must keep running while a
greenlet hogs the hub (that is the lesson of "a greenlet that never
yields"), so under gevent they use the original ``_thread`` and
``time.sleep``; the actors use whatever ``threading`` is.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any


def _patcher() -> str | None:
    """Which green-thread library patched this process: "gevent", "eventlet" or None."""
    monkey = sys.modules.get("gevent.monkey")
    # (a program being traced may be importing gevent on another thread right now: a
    # module half made has patched nothing yet)
    patched = getattr(monkey, "is_module_patched", None)
    if patched is not None and patched("threading"):
        return "gevent"
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is not None and patcher.is_monkey_patched("thread"):
        return "eventlet"
    return None


def cooperative() -> bool:
    """Is this process monkey-patched (its threads are greenlets)?"""
    return _patcher() is not None


def original(module: str, name: str) -> Any:
    """The unpatched ``module.name`` (the current one when gevent has not patched it)."""
    return _original(module, name)


def _original(module: str, name: str) -> Any:
    which = _patcher()
    if which == "gevent":
        from gevent import monkey

        return monkey.get_original(module, name)
    if which == "eventlet":
        from eventlet import patcher

        return getattr(patcher.original(module), name)
    import importlib

    return getattr(importlib.import_module(module), name)


def start_thread(target: Callable[[], None]) -> None:
    """Run ``target`` on a new OS thread (never a greenlet)."""
    _original("_thread", "start_new_thread")(target, ())


def sleep(seconds: float) -> None:
    """Sleep this OS thread (never yields to a gevent hub)."""
    _original("time", "sleep")(seconds)


def allocate_lock() -> Any:
    """A lock that works between OS threads."""
    return _original("_thread", "allocate_lock")()


def current() -> Any:
    """The greenlet (under gevent or eventlet) or thread running now."""
    if cooperative():
        import greenlet

        return greenlet.getcurrent()
    return threading.current_thread()


def actor_ident() -> int:
    """The id shown beside an actor: a greenlet's id under gevent, else the thread's."""
    which = _patcher()
    if which == "gevent":
        import gevent

        return int(gevent.getcurrent().minimal_ident)
    if which == "eventlet":
        return threading.get_ident()  # eventlet's: the green thread's id
    return threading.get_native_id()


__all__ = ["actor_ident", "allocate_lock", "current", "original", "sleep", "start_thread"]
