"""A traced program's pools (``multiprocessing``'s ``Pool`` and ``ThreadPool``,
``concurrent.futures``' ``ThreadPoolExecutor`` and ``ProcessPoolExecutor``): each
pool a resource, each task submitted, begun on a worker and ended (done or
failed), as the process backend's pools report them.

A task's function travels to its worker inside a small callable that reports its
start and end there (so a worker process reports them on its own stream); the
submission is reported by the process that submitted it. ``close``,
``terminate`` and ``join`` (a wait on the pool) are reported too.
"""

from __future__ import annotations

import concurrent.futures.process as cf_process
import concurrent.futures.thread as cf_thread
import functools
import itertools
import multiprocessing.pool as mp_pool
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument, naming

_init = mp_pool.Pool.__init__
_apply_async = mp_pool.Pool.apply_async
_guarded = mp_pool.Pool._guarded_task_generation  # type: ignore[attr-defined]
_close = mp_pool.Pool.close
_terminate = mp_pool.Pool.terminate
_join = mp_pool.Pool.join
#: Task ids, unique within the run (the parent gives them all).
_ids = itertools.count()
_LABEL_CHARS = 60
#: Library code that only passes the program's call on (``mp.Pool()``, ``ThreadPool()``).
_FACTORIES = ("multiprocessing/context.py", "multiprocessing/pool.py")


class Task:
    """A task's function on its way to a worker: there, it reports its start and end."""

    __slots__ = ("func", "pool", "task")

    def __init__(self, func: Any, pool: int, task: int) -> None:
        self.func, self.pool, self.task = func, pool, task

    def __call__(self, *args: Any, **kwds: Any) -> Any:
        actor, pool, task = instrument._me(), self.pool, self.task
        instrument._emit((ev.TASK_BEGIN, actor, pool, monotonic_ns(), task))
        try:
            result = self.func(*args, **kwds)
        except BaseException as exc:
            detail = f"{type(exc).__name__}: {exc}"[:200]
            instrument._emit((ev.TASK_END, actor, pool, monotonic_ns(), task, False, detail))
            raise
        instrument._emit((ev.TASK_END, actor, pool, monotonic_ns(), task, True, ""))
        return result

    def __getstate__(self) -> Any:
        return (self.func, self.pool, self.task)

    def __setstate__(self, state: Any) -> None:
        self.func, self.pool, self.task = state


def _name(func: Any) -> str:
    return getattr(func, "__name__", None) or type(func).__name__


def label(func: Any, args: tuple[Any, ...]) -> str:
    """What the Pool panel calls a task: ``work(3)``, or a map's chunk ``work ×4``."""
    if isinstance(func, functools.partial) and func.func is cf_process._process_chunk:
        real, chunk = func.args[0], list(args[0]) if args else []
        text = (
            f"{_name(real)}({', '.join(map(repr, chunk[0]))})"
            if len(chunk) == 1
            else (f"{_name(real)} ×{len(chunk)}")
        )
    elif func is mp_pool.mapstar or func is mp_pool.starmapstar:
        real, chunk = args[0]
        chunk = list(chunk)
        if len(chunk) == 1:
            item = chunk[0]
            inner = ", ".join(map(repr, item)) if func is mp_pool.starmapstar else repr(item)
            text = f"{_name(real)}({inner})"
        else:
            text = f"{_name(real)} ×{len(chunk)}"
    else:
        text = f"{_name(func)}({', '.join(map(repr, args))})"
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _pool_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _init(self, *args, **kwargs)
    if instrument.REGISTRY is None or not naming.made_by_program(2, skip=_FACTORIES):
        return
    # (no "group": its workers are not the pool's lanes for the analysis, which would
    # judge an idle worker of a closed pool stuck, when a real one is on its way out)
    info: dict[str, Any] = {"type": "pool", "workers": self._processes}
    self._tui_index = instrument._resource(type(self).__name__, info)


def _submitted(index: int, actor: int, func: Any, args: tuple[Any, ...]) -> Task:
    task = next(_ids)
    instrument._emit((ev.SUBMIT, actor, index, monotonic_ns(), task, label(func, args)))
    return Task(func, index, task)


def _pool_apply_async(
    self: Any, func: Any, args: tuple[Any, ...] = (), kwds: Any = None, *rest: Any, **kw: Any
) -> Any:
    index = getattr(self, "_tui_index", -1)
    if index >= 0 and self._state == mp_pool.RUN:
        func = _submitted(index, instrument._me(), func, tuple(args))
    return _apply_async(self, func, args, {} if kwds is None else kwds, *rest, **kw)


def _pool_guarded(self: Any, result_job: Any, func: Any, iterable: Any) -> Any:
    """A map's (or imap's) tasks: made in the caller's thread, fed to the workers from
    the pool's task thread — each reported as submitted by the caller."""
    index = getattr(self, "_tui_index", -1)
    tasks = _guarded(self, result_job, func, iterable)
    if index < 0:
        return tasks
    return _reported(tasks, index, instrument._me())


def _reported(tasks: Any, index: int, actor: int) -> Any:
    for job, i, func, args, kwds in tasks:
        if func is mp_pool._helper_reraises_exception:  # the iterable raised
            yield job, i, func, args, kwds
        else:
            yield job, i, _submitted(index, actor, func, args), args, kwds


def _pool_close(self: Any) -> None:
    index = getattr(self, "_tui_index", -1)
    if index >= 0 and self._state == mp_pool.RUN:
        instrument._emit((ev.POOL_CLOSE, instrument._me(), index, monotonic_ns()))
    _close(self)


def _pool_terminate(self: Any) -> None:
    index = getattr(self, "_tui_index", -1)
    if index >= 0 and not getattr(self, "_tui_terminated", False):
        self._tui_terminated = True
        instrument._emit((ev.POOL_TERMINATE, instrument._me(), index, monotonic_ns()))
    _terminate(self)


def _pool_join(self: Any) -> None:
    index = getattr(self, "_tui_index", -1)
    actor = instrument._idents.get(instrument._get_ident())
    if index < 0 or actor is None:
        _join(self)
        return
    instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "pool", None))
    try:
        _join(self)
    finally:
        instrument._emit((ev.WAKE, actor, index, monotonic_ns(), True))


# -- concurrent.futures ------------------------------------------------------------------------

_executor_init = {
    cls: cls.__init__ for cls in (cf_thread.ThreadPoolExecutor, cf_process.ProcessPoolExecutor)
}
_executor_submit = {
    cls: cls.submit for cls in (cf_thread.ThreadPoolExecutor, cf_process.ProcessPoolExecutor)
}
_executor_shutdown = {
    cls: cls.shutdown for cls in (cf_thread.ThreadPoolExecutor, cf_process.ProcessPoolExecutor)
}


def _executor_class(self: Any) -> type:
    for cls in type(self).__mro__:
        if cls in _executor_init:
            return cls
    raise TypeError(type(self))


def _executor_made(self: Any, *args: Any, **kwargs: Any) -> None:
    _executor_init[_executor_class(self)](self, *args, **kwargs)
    if instrument.REGISTRY is None:
        return
    if not naming.made_by_program(2, skip=("concurrent/futures/thread.py",
                                           "concurrent/futures/process.py")):  # fmt: skip
        return
    info = {"type": "pool", "workers": self._max_workers}
    self._tui_index = instrument._resource(type(self).__name__, info)


def _executor_submit_traced(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    index = getattr(self, "_tui_index", -1)
    if index >= 0 and not getattr(self, "_shutdown_thread", False):
        fn = _submitted(index, instrument._me(), fn, args)
    return _executor_submit[_executor_class(self)](self, fn, *args, **kwargs)


def _executor_shutdown_traced(self: Any, wait: bool = True, **kwargs: Any) -> None:
    index = getattr(self, "_tui_index", -1)
    shutdown = _executor_shutdown[_executor_class(self)]
    if index < 0 or getattr(self, "_tui_closed", False):
        shutdown(self, wait, **kwargs)
        return
    self._tui_closed = True
    actor = instrument._me()
    instrument._emit((ev.POOL_CLOSE, actor, index, monotonic_ns()))
    if not wait:
        shutdown(self, wait, **kwargs)
        return
    instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "pool", None))
    try:
        shutdown(self, wait, **kwargs)
    finally:
        instrument._emit((ev.WAKE, actor, index, monotonic_ns(), True))


def install() -> None:
    """Patch the pools (``multiprocessing.pool.Pool``, and so ``ThreadPool``; the two
    executors of ``concurrent.futures``) in the parent."""
    for cls in _executor_init:
        cls.__init__ = _executor_made  # type: ignore[method-assign]
        cls.submit = _executor_submit_traced  # type: ignore[method-assign]
        cls.shutdown = _executor_shutdown_traced  # type: ignore[method-assign]
    mp_pool.Pool.__init__ = _pool_init  # type: ignore[method-assign]
    mp_pool.Pool.apply_async = _pool_apply_async  # type: ignore[method-assign]
    mp_pool.Pool._guarded_task_generation = _pool_guarded  # type: ignore[attr-defined]
    mp_pool.Pool.close = _pool_close  # type: ignore[method-assign]
    mp_pool.Pool.terminate = _pool_terminate  # type: ignore[method-assign]
    mp_pool.Pool.join = _pool_join  # type: ignore[method-assign]
