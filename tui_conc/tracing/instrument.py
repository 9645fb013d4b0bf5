"""Instrument ``threading``, ``queue`` and ``time.sleep`` in this process, before the
program runs: its threads become actors, its locks, semaphores, events,
conditions, barriers and queues resources, reporting the same events a
scenario's run reports (see :mod:`tui_conc.engine.wire.events`).

This module is the core the others report through — the run's registry of
actors, resources and places, its emit, who is running — plus the threads
(``Thread.start`` and ``_bootstrap_inner`` are patched on the class itself,
so subclasses and the library's threads, a ``ThreadPoolExecutor``'s workers
or a ``Timer``, are actors too), ``time.sleep``, and the installing. The
program's objects are made by :mod:`locks`, :mod:`sync` and :mod:`queues`
(subclasses, or for ``Lock`` and ``RLock`` factories, that keep CPython's
behaviour and add the events), its asyncio tasks watched by :mod:`tasks`;
what the standard library makes for its own use stays bare
(:func:`naming.made_by_program`).

The stream stays causal as in the engine's primitives: a hold is reported
after it is taken and its end before it is given up.
"""

from __future__ import annotations

import _thread
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import naming

Emit = Callable[[tuple[Any, ...]], None]

_get_ident = _thread.get_ident  #: who is running (a greenlet, once gevent has patched)
_allocate_lock = _thread.allocate_lock
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


class ProgramOnly:
    """Made by the library for its own use (an Event inside a Thread, the conditions
    inside a Queue), the class is CPython's own, untouched."""

    _bare: type = object

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if naming.made_by_program():
            return super().__new__(cls)
        return cls._bare(*args, **kwargs)


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
    if target is None or me is None or target == me or not self.is_alive():
        _join(self, timeout)  # (a child process's threads are all its one actor)
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


def use_gevent(get_ident: Any, allocate_lock: Any, rlock: Any, sleep: Any) -> None:
    """The program has patched itself with gevent: from now on an actor is a greenlet,
    and what is made from now waits on gevent's objects (see :mod:`greenlets`)."""
    global _get_ident, _allocate_lock, _sleep
    _get_ident, _allocate_lock, _sleep = get_ident, allocate_lock, sleep
    from tui_conc.tracing import locks

    locks.use_gevent(get_ident, allocate_lock, rlock, sleep)


def _patch() -> None:
    # imported here, before any patching: their classes subclass CPython's own
    from tui_conc.tracing import locks, queues, sync

    for name, value in {
        "Lock": locks.Lock,
        "RLock": locks.RLock,
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


def waited(
    actor: int, index: int, how: str, timeout: Any, call: Any, *args: Any, ok: Any = bool
) -> Any:
    """``call(*args)`` inside a WAIT and its WAKE (``ok(result)``; False when it raised)."""
    _emit((ev.WAIT, actor, index, *_now_site(), how, timeout))
    try:
        result = call(*args)
    except BaseException:
        _emit((ev.WAKE, actor, index, monotonic_ns(), False))
        raise
    _emit((ev.WAKE, actor, index, monotonic_ns(), ok(result)))
    return result


def exit_site() -> int:
    """The place shown while the interpreter waits for the program's threads."""
    assert REGISTRY is not None
    return REGISTRY.fixed_site("(interpreter exit: waits for the non-daemon threads)")
