"""A traced program's ``multiprocessing.Manager``: the objects it serves as resources.

A Manager keeps the real Lock, Queue or dict in its server process and gives
the program proxies; every use of a proxy, in any process, is one
``_callmethod`` round trip. The program's proxies (``m.Lock()``, ``m.Queue()``,
``m.dict()`` … made by its own code) get a class that reports each call as the
matching primitive of the process backend reports it — holds and waits of a
lock, puts and gets of a queue, what was stored in a dict — and their resource
index travels with them when they are pickled to a child.

The server process serves: it runs none of the program's code, so it is not an
actor (an actor that could release any lock would make every deadlock over a
Manager's locks only "likely").
"""

from __future__ import annotations

import queue
import sys
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import channel
from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument, naming

#: The Manager types traced, and the resource each one is.
KINDS = {
    "Lock": "lock",
    "RLock": "rlock",
    "Semaphore": "semaphore",
    "BoundedSemaphore": "bounded_semaphore",
    "Event": "event",
    "Condition": "condition",
    "Barrier": "barrier",
    "Queue": "queue",
    "JoinableQueue": "queue",
    "dict": "dict",
    "list": "list",
    "Value": "variable",
}
_LOCKS = ("lock", "rlock", "semaphore", "bounded_semaphore", "condition")
_DICT_CHANGES = ("__delitem__", "clear", "pop", "popitem", "setdefault", "update")
_LIST_CHANGES = ("__setitem__", "__delitem__", "__iadd__", "__imul__", "extend", "insert",
                 "pop", "remove", "reverse", "sort")  # fmt: skip


def _emit_at(event: tuple[Any, ...], t: int) -> None:
    """An untimed event dated ``t`` (a moment before its call went out)."""
    append = getattr(instrument._emit, "append", None)
    if append is None:  # one source: its place in the stream is its time
        instrument._emit(event)
    else:
        append((*event, t))


def _always(_: Any) -> bool:
    """A wait that came back ended well (what it returned says nothing of it)."""
    return True


def _info(typeid: str, args: tuple[Any, ...], kwds: dict[str, Any]) -> dict[str, Any]:
    kind = KINDS[typeid]
    info: dict[str, Any] = {"type": kind}
    if kind in ("semaphore", "bounded_semaphore"):
        info["value"] = args[0] if args else kwds.get("value", 1)
    elif kind == "barrier":
        info["parties"] = args[0] if args else kwds.get("parties", 0)
    elif kind == "queue":
        info["kind"] = "fifo"
        info["maxsize"] = max(int(args[0] if args else kwds.get("maxsize", 0)), 0)
    elif typeid == "dict":
        info["value"] = dict(*args, **kwds)
    elif typeid == "list":
        info["value"] = list(*args)
    elif typeid == "Value":
        info["value"] = args[1] if len(args) > 1 else kwds.get("value")
    return info


def _factory(typeid: str, bare: Any) -> Any:
    def make(self: Any, *args: Any, **kwds: Any) -> Any:
        proxy = bare(self, *args, **kwds)
        if not (naming.made_by_program(2) and instrument.REGISTRY is not None):
            return proxy
        index = instrument._resource(f"Manager.{typeid}", _info(typeid, args, kwds))
        return traced(proxy, index, KINDS[typeid])

    make.__name__ = make.__qualname__ = typeid
    make.__doc__ = bare.__doc__
    return make


_classes: dict[type, type] = {}


def traced(proxy: Any, index: int, kind: str) -> Any:
    """``proxy``, reporting its calls as resource ``index`` (a ``kind``)."""
    base = type(proxy)
    cls = _classes.get(base)
    if cls is None:
        cls = _classes[base] = type(f"Traced{base.__name__}", (TracedProxy, base), {})
    proxy.__class__ = cls
    proxy._tui_index, proxy._tui_kind = index, kind
    return proxy


def _rebuild(args: tuple[Any, ...], index: int, kind: str) -> Any:
    import multiprocessing.managers as mp_managers

    return traced(mp_managers.RebuildProxy(*args), index, kind)


class TracedProxy:
    """A proxy of the program's: each call reported as its resource's events."""

    _tui_index = -1
    _tui_kind = ""

    def __reduce__(self) -> Any:
        _, args = super().__reduce__()  # type: ignore[misc]
        func, *rest = args
        if isinstance(func, type) and issubclass(func, TracedProxy):
            func = func.__mro__[2]  # the proxy class it was made from
        return (_rebuild, ((func, *rest), self._tui_index, self._tui_kind))

    def _call(self, method: str, args: tuple[Any, ...] = (), kwds: Any = None) -> Any:
        return super()._callmethod(method, args, kwds or {})  # type: ignore[misc]

    def _callmethod(self, method: str, args: tuple[Any, ...] = (), kwds: Any = None) -> Any:
        kwds = kwds or {}
        kind = self._tui_kind
        if kind in _LOCKS and method in ("acquire", "release", "wait"):
            if method == "acquire":
                return self._acquire(args, kwds)
            if method == "release":
                return self._release()
            return self._cond_wait(args, kwds)
        handler = _HANDLERS.get((kind, method))
        if handler is not None:
            return handler(self, args, kwds)
        if kind == "dict" and method in _DICT_CHANGES:
            return self._changed(method, args, kwds, self._whole_dict)
        if kind == "list" and method in _LIST_CHANGES:
            return self._changed(method, args, kwds, self._whole_list)
        return self._call(method, args, kwds)

    # -- locks, semaphores, a condition over its own lock ------------------------------

    def _acquire(self, args: tuple[Any, ...], kwds: dict[str, Any]) -> bool:
        blocking = args[0] if args else kwds.get("blocking", True)
        timeout = args[1] if len(args) > 1 else kwds.get("timeout")
        actor, index = instrument._me(), self._tui_index
        if self._call("acquire", (False,)):
            instrument._emit((ev.ACQUIRED, actor, index))
            return True
        if not blocking:
            return False
        ok = bool(
            instrument.waited(actor, index, "acquire", timeout, self._call, "acquire", args, kwds)
        )
        if ok:
            instrument._emit((ev.ACQUIRED, actor, index))
        return ok

    def _release(self) -> Any:
        t = channel.hold()  # the hold ends before the call: no other process's acquire
        try:  # can be dated before it
            result = self._call("release")
            _emit_at((ev.RELEASED, instrument._me(), self._tui_index), t)
        finally:
            channel.let_go()
        return result

    def _cond_wait(self, args: tuple[Any, ...], kwds: dict[str, Any]) -> bool:
        timeout = args[0] if args else kwds.get("timeout")
        actor, index = instrument._me(), self._tui_index
        instrument._emit((ev.RELEASED, actor, index))
        try:
            ok = bool(
                instrument.waited(actor, index, "cond", timeout, self._call, "wait", args, kwds)
            )
        finally:
            instrument._emit((ev.ACQUIRED, actor, index))
        return ok

    # -- dicts and lists ----------------------------------------------------------------------

    def _whole_dict(self) -> dict[Any, Any]:
        return dict(self._call("copy"))

    def _whole_list(self) -> list[Any]:
        return list(self._call("__getitem__", (slice(None),)))

    def _changed(self, method: str, args: Any, kwds: Any, content: Any) -> Any:
        result = self._call(method, args, kwds)
        instrument._emit((ev.WRITE, instrument._me(), self._tui_index, monotonic_ns(), content()))
        return result


def _notify(self: TracedProxy, args: Any, kwds: Any) -> Any:
    n = args[0] if args else kwds.get("n", 1)
    instrument._emit((ev.NOTIFY, instrument._me(), self._tui_index, monotonic_ns(), n))
    return self._call("notify", args, kwds)


def _notify_all(self: TracedProxy, args: Any, kwds: Any) -> Any:
    instrument._emit((ev.NOTIFY, instrument._me(), self._tui_index, monotonic_ns(), -1))
    return self._call("notify_all", args, kwds)


def _set(self: TracedProxy, args: Any, kwds: Any) -> Any:
    instrument._emit((ev.SET, instrument._me(), self._tui_index, monotonic_ns()))
    return self._call("set", args, kwds)


def _clear(self: TracedProxy, args: Any, kwds: Any) -> Any:
    instrument._emit((ev.CLEAR, instrument._me(), self._tui_index, monotonic_ns()))
    return self._call("clear", args, kwds)


def _event_wait(self: TracedProxy, args: Any, kwds: Any) -> bool:
    if self._call("is_set"):
        return True
    timeout = args[0] if args else kwds.get("timeout")
    actor, index = instrument._me(), self._tui_index
    return bool(instrument.waited(actor, index, "event", timeout, self._call, "wait", args, kwds))


def _barrier_wait(self: TracedProxy, args: Any, kwds: Any) -> Any:
    timeout = args[0] if args else kwds.get("timeout")
    actor, index = instrument._me(), self._tui_index
    return instrument.waited(
        actor, index, "barrier", timeout, self._call, "wait", args, kwds, ok=_always
    )


def _put(self: TracedProxy, args: Any, kwds: Any, nowait: bool = False) -> None:
    """A put that finds room is dated when it went out, before the server could hand
    the item to a get (the clock is held for that one round trip). One that must wait
    is dated when it comes back: its room was made by a get the server ordered
    before it, which the getter dates when its own call comes back — so for a moment
    the queue may look one item off, never in a verdict (a wait is judged stuck only
    once it has lasted)."""
    item = args[0] if args else kwds["item"]
    block = False if nowait else (args[1] if len(args) > 1 else kwds.get("block", True))
    timeout = args[2] if len(args) > 2 else kwds.get("timeout")
    actor, index = instrument._me(), self._tui_index
    t = channel.hold()
    try:
        self._call("put", (item, False))
        _emit_at((ev.PUT, actor, index), t)
        return
    except queue.Full:
        if not block:
            instrument._emit((ev.FULL, actor, index, monotonic_ns()))
            raise
    finally:
        channel.let_go()
    try:
        instrument.waited(
            actor, index, "put", timeout, self._call, "put", (item, True, timeout), ok=_always
        )
    except queue.Full:
        instrument._emit((ev.FULL, actor, index, monotonic_ns()))
        raise
    instrument._emit((ev.PUT, actor, index))


def _get(self: TracedProxy, args: Any, kwds: Any, nowait: bool = False) -> Any:
    block = False if nowait else (args[0] if args else kwds.get("block", True))
    timeout = args[1] if len(args) > 1 else kwds.get("timeout")
    actor, index = instrument._me(), self._tui_index
    try:
        item = self._call("get", (False,))
    except queue.Empty:
        if not block:
            instrument._emit((ev.EMPTY, actor, index, monotonic_ns()))
            raise
        try:
            item = instrument.waited(
                actor, index, "get", timeout, self._call, "get", (True, timeout), ok=_always
            )
        except queue.Empty:
            instrument._emit((ev.EMPTY, actor, index, monotonic_ns()))
            raise
    instrument._emit((ev.GOT, actor, index))
    return item


def _task_done(self: TracedProxy, args: Any, kwds: Any) -> Any:
    instrument._emit((ev.TASK_DONE, instrument._me(), self._tui_index))
    return self._call("task_done", args, kwds)


def _join(self: TracedProxy, args: Any, kwds: Any) -> Any:
    actor, index = instrument._me(), self._tui_index
    instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "qjoin", None))
    try:
        return self._call("join", args, kwds)
    finally:
        instrument._emit((ev.WAKE, actor, index, monotonic_ns(), True))


def _stored(self: TracedProxy, args: Any, kwds: Any) -> Any:
    result = self._call("__setitem__", args, kwds)
    key, value = args
    instrument._emit((ev.STORED, instrument._me(), self._tui_index, monotonic_ns(), key, value))
    return result


def _list_set(self: TracedProxy, args: Any, kwds: Any) -> Any:
    return self._changed("__setitem__", args, kwds, self._whole_list)


def _appended(self: TracedProxy, args: Any, kwds: Any) -> Any:
    result = self._call("append", args, kwds)
    instrument._emit((ev.APPENDED, instrument._me(), self._tui_index, monotonic_ns(), args[0]))
    return result


def _value_get(self: TracedProxy, args: Any, kwds: Any) -> Any:
    value = self._call("get")
    instrument._emit((ev.READ, instrument._me(), self._tui_index, monotonic_ns(), value))
    return value


def _value_set(self: TracedProxy, args: Any, kwds: Any) -> Any:
    result = self._call("set", args, kwds)
    instrument._emit((ev.WRITE, instrument._me(), self._tui_index, monotonic_ns(), args[0]))
    return result


_HANDLERS: dict[tuple[str, str], Any] = {
    ("condition", "notify"): _notify,
    ("condition", "notify_all"): _notify_all,
    ("event", "set"): _set,
    ("event", "clear"): _clear,
    ("event", "wait"): _event_wait,
    ("barrier", "wait"): _barrier_wait,
    ("queue", "put"): _put,
    ("queue", "put_nowait"): lambda self, a, k: _put(self, a, k, nowait=True),
    ("queue", "get"): _get,
    ("queue", "get_nowait"): lambda self, a, k: _get(self, a, k, nowait=True),
    ("queue", "task_done"): _task_done,
    ("queue", "join"): _join,
    ("dict", "__setitem__"): _stored,
    ("list", "__setitem__"): _list_set,
    ("list", "append"): _appended,
    ("variable", "get"): _value_get,
    ("variable", "set"): _value_set,
}


def is_server(process: Any) -> bool:
    """Is ``process`` a Manager's server (it runs no code of the program's)?"""
    managers = sys.modules.get("multiprocessing.managers")
    if managers is None:
        return False
    target = getattr(process, "_target", None)
    return getattr(target, "__func__", None) is managers.BaseManager._run_server.__func__


def install() -> None:
    """Patch ``SyncManager`` (the runner calls it, in the parent, once ``queue`` and
    ``threading`` are patched: its registry names their classes, and a spawned
    server unpickles them by name)."""
    import multiprocessing.managers as mp_managers

    for typeid in KINDS:
        bare = mp_managers.SyncManager.__dict__.get(typeid) or getattr(
            mp_managers.SyncManager, typeid
        )
        setattr(mp_managers.SyncManager, typeid, _factory(typeid, bare))
