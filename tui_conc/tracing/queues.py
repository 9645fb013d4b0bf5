"""A traced program's ``queue`` classes: CPython's own code, with the events around its
waits (their mutex and conditions are the library's own, bare)."""

from __future__ import annotations

import queue
import time
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument
from tui_conc.tracing.instrument import ProgramOnly

_Queue, _LifoQueue, _PriorityQueue = queue.Queue, queue.LifoQueue, queue.PriorityQueue


class _Traced:
    """CPython's own queue code, with the events around its waits (its mutex and
    conditions are the library's own, bare)."""

    _kind = "fifo"
    _index = -1

    def _register(self, maxsize: int) -> None:
        self._index = instrument._resource(
            type(self).__name__, {"type": "queue", "kind": self._kind, "maxsize": maxsize}
        )

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        index = self._index
        if index < 0:
            _Queue.put(self, item, block, timeout)  # type: ignore[arg-type]
            return
        q: Any = self
        actor = instrument._me()
        with q.not_full:
            if q.maxsize > 0 and q._qsize() >= q.maxsize:
                if not block:
                    instrument._emit((ev.FULL, actor, index, monotonic_ns()))
                    raise queue.Full
                if timeout is not None and timeout < 0:
                    raise ValueError("'timeout' must be a non-negative number")
                instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "put", timeout))
                deadline = None if timeout is None else time.monotonic() + timeout
                while q._qsize() >= q.maxsize:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        instrument._emit((ev.WAKE, actor, index, monotonic_ns(), False))
                        instrument._emit((ev.FULL, actor, index, monotonic_ns()))
                        raise queue.Full
                    q.not_full.wait(remaining)
                instrument._emit((ev.WAKE, actor, index, monotonic_ns(), True))
            q._put(item)
            q.unfinished_tasks += 1
            instrument._emit((ev.PUT, actor, index))
            q.not_empty.notify()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        index = self._index
        if index < 0:
            return _Queue.get(self, block, timeout)  # type: ignore[arg-type]
        q: Any = self
        actor = instrument._me()
        with q.not_empty:
            if not q._qsize():
                if not block:
                    instrument._emit((ev.EMPTY, actor, index, monotonic_ns()))
                    raise queue.Empty
                if timeout is not None and timeout < 0:
                    raise ValueError("'timeout' must be a non-negative number")
                instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "get", timeout))
                deadline = None if timeout is None else time.monotonic() + timeout
                while not q._qsize():
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        instrument._emit((ev.WAKE, actor, index, monotonic_ns(), False))
                        instrument._emit((ev.EMPTY, actor, index, monotonic_ns()))
                        raise queue.Empty
                    q.not_empty.wait(remaining)
                instrument._emit((ev.WAKE, actor, index, monotonic_ns(), True))
            item = q._get()
            instrument._emit((ev.GOT, actor, index))
            q.not_full.notify()
            return item

    def put_nowait(self, item: Any) -> None:
        self.put(item, False)

    def get_nowait(self) -> Any:
        return self.get(False)

    def task_done(self) -> None:
        q: Any = self
        if self._index < 0:
            _Queue.task_done(q)
            return
        with q.all_tasks_done:
            if q.unfinished_tasks <= 0:
                raise ValueError("task_done() called too many times")
            instrument._emit((ev.TASK_DONE, instrument._me(), self._index))
            q.unfinished_tasks -= 1
            if q.unfinished_tasks == 0:
                q.all_tasks_done.notify_all()

    def join(self) -> None:
        q: Any = self
        if self._index < 0:
            _Queue.join(q)
            return
        with q.all_tasks_done:
            if not q.unfinished_tasks:
                return
            actor = instrument._me()
            instrument._emit((ev.WAIT, actor, self._index, *instrument._now_site(), "qjoin", None))
            while q.unfinished_tasks:
                q.all_tasks_done.wait()
            instrument._emit((ev.WAKE, actor, self._index, monotonic_ns(), True))


class Queue(ProgramOnly, _Traced, queue.Queue):  # type: ignore[misc]
    """``queue.Queue``, traced."""

    _bare = _Queue

    def __init__(self, maxsize: int = 0) -> None:
        _Queue.__init__(self, maxsize)
        self._register(maxsize)


class LifoQueue(ProgramOnly, _Traced, queue.LifoQueue):  # type: ignore[misc]
    """``queue.LifoQueue``, traced."""

    _kind = "lifo"
    _bare = _LifoQueue

    def __init__(self, maxsize: int = 0) -> None:
        _LifoQueue.__init__(self, maxsize)
        self._register(maxsize)


class PriorityQueue(ProgramOnly, _Traced, queue.PriorityQueue):  # type: ignore[misc]
    """``queue.PriorityQueue``, traced."""

    _kind = "priority"
    _bare = _PriorityQueue

    def __init__(self, maxsize: int = 0) -> None:
        _PriorityQueue.__init__(self, maxsize)
        self._register(maxsize)


_SimpleQueue = queue.SimpleQueue


class SimpleQueue(ProgramOnly, queue.SimpleQueue):  # type: ignore[misc]
    """``queue.SimpleQueue`` (C): a put never waits; a get that finds it empty does."""

    _bare = _SimpleQueue

    def __init__(self) -> None:
        super().__init__()
        info = {"type": "queue", "kind": "fifo", "maxsize": 0}
        self._index = instrument._resource("SimpleQueue", info)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        # before: its get cannot come first
        instrument._emit((ev.PUT, instrument._me(), self._index))
        super().put(item)

    def put_nowait(self, item: Any) -> None:
        self.put(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        actor, index = instrument._me(), self._index
        try:
            item = super().get(False)
        except queue.Empty:
            if not block:
                instrument._emit((ev.EMPTY, actor, index, monotonic_ns()))
                raise
            instrument._emit((ev.WAIT, actor, index, *instrument._now_site(), "get", timeout))
            try:
                item = super().get(True, timeout)
            except queue.Empty:
                instrument._emit((ev.WAKE, actor, index, monotonic_ns(), False))
                instrument._emit((ev.EMPTY, actor, index, monotonic_ns()))
                raise
            instrument._emit((ev.WAKE, actor, index, monotonic_ns(), True))
        instrument._emit((ev.GOT, actor, index))
        return item

    def get_nowait(self) -> Any:
        return self.get(False)
