"""Queues, pipes, dicts and lists that work between processes, reporting events.

The same classes serve both backends: on threads they wrap a plain dict /
list (or a ``multiprocessing.Pipe``, which threads may share too); on the
process backend they wrap ``multiprocessing`` objects and Manager proxies.
Every event here is reported with its value, so the panels and the
expectations see what was sent and taken, not only how much.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from time import monotonic_ns
from typing import Any

from tui_conc.engine.primitives.variable import Variable
from tui_conc.engine.wire import channel
from tui_conc.engine.wire import events as ev

Emit = Callable[[tuple[Any, ...]], None]


class _StampedSlots:
    """The queue's slot semaphore, noting when this thread took or gave back a slot.

    ``multiprocessing.Queue`` takes a slot in ``put`` before the item can reach
    the pipe, and gives one back in ``get`` before unpickling the item. Those
    two moments are what order a put and a get across processes: a put
    stamped at its slot comes before any get of its item; a get stamped at its
    slot comes before the put it made room for. The reading is *held*
    (:func:`~tui_conc.engine.wire.channel.hold`) until the event goes out, so
    the process's watermark cannot pass it meanwhile.
    """

    def __init__(self, sem: Any) -> None:
        self.sem = sem
        self.mine = threading.local()

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        ok = self.sem.acquire(block, timeout)
        if ok:
            self.mine.t = channel.hold()
        return bool(ok)

    def release(self) -> None:
        self.mine.t = channel.hold()
        self.sem.release()

    def stamp(self) -> int:
        """When this thread last took or gave back a slot (and let go of that reading)."""
        t = getattr(self.mine, "t", 0) or monotonic_ns()
        self.mine.t = 0
        return t

    def __reduce__(self) -> Any:
        return (_bare, (self.sem,))  # a child gets the bare semaphore (and wraps it itself)


def _bare(sem: Any) -> Any:
    return sem


class ProcessQueue:
    """A ``multiprocessing.JoinableQueue``; put / get / task_done / join report events.

    Puts and gets are dated when they take or give back a slot of the queue
    (see :class:`_StampedSlots`), so across processes no get comes before its
    put and a queue never looks deeper than its maxsize.
    """

    def __init__(self, index: int, emit: Emit, raw: Any) -> None:
        self.index = index
        self._emit = emit
        self.raw = raw
        if not isinstance(raw._sem, _StampedSlots):
            raw._sem = _StampedSlots(raw._sem)
        self._slots: _StampedSlots = raw._sem

    def put(self, actor: int, step: int, item: Any, block: bool, timeout: float | None) -> bool:
        try:
            return self._put(actor, step, item, block, timeout)
        finally:
            channel.let_go()  # emitted, or never taken

    def _put(self, actor: int, step: int, item: Any, block: bool, timeout: float | None) -> bool:
        emit, index = self._emit, self.index
        try:
            self.raw.put_nowait(item)
        except queue.Full:
            if not block:
                emit((ev.FULL, actor, index, monotonic_ns()))
                return False
            emit((ev.WAIT, actor, index, monotonic_ns(), step, "put", timeout))
            try:
                self.raw.put(item, True, timeout)
            except queue.Full:
                emit((ev.WAKE, actor, index, monotonic_ns(), False))
                emit((ev.FULL, actor, index, monotonic_ns()))
                return False
            t = self._slots.stamp()
            emit((ev.WAKE, actor, index, t, True))  # woken when it got its slot
            emit((ev.PUT, actor, index, t))
            return True
        emit((ev.PUT, actor, index, self._slots.stamp()))
        return True

    def get(self, actor: int, step: int, block: bool, timeout: float | None) -> tuple[bool, Any]:
        try:
            return self._get(actor, step, block, timeout)
        finally:
            channel.let_go()

    def _get(self, actor: int, step: int, block: bool, timeout: float | None) -> tuple[bool, Any]:
        emit, index = self._emit, self.index
        try:
            item = self.raw.get_nowait()
        except queue.Empty:
            if not block:
                emit((ev.EMPTY, actor, index, monotonic_ns()))
                return False, None
            emit((ev.WAIT, actor, index, monotonic_ns(), step, "get", timeout))
            try:
                item = self.raw.get(True, timeout)
            except queue.Empty:
                emit((ev.WAKE, actor, index, monotonic_ns(), False))
                emit((ev.EMPTY, actor, index, monotonic_ns()))
                return False, None
            t = self._slots.stamp()
            emit((ev.WAKE, actor, index, t, True))  # as it gave its slot back: in time order
            emit((ev.GOT_ITEM, actor, index, t, item))
            return True, item
        emit((ev.GOT_ITEM, actor, index, self._slots.stamp(), item))
        return True, item

    def task_done(self, actor: int) -> None:
        self._emit((ev.TASK_DONE, actor, self.index))
        self.raw.task_done()

    def join(self, actor: int, step: int) -> None:
        if self.raw._unfinished_tasks._semlock._is_zero():
            return
        self._emit((ev.WAIT, actor, self.index, monotonic_ns(), step, "qjoin", None))
        self.raw.join()
        self._emit((ev.WAKE, actor, self.index, monotonic_ns(), True))

    def qsize(self) -> int:
        return int(self.raw.qsize())

    def empty(self) -> bool:
        return bool(self.raw.empty())

    def full(self) -> bool:
        return bool(self.raw.full())


class PipeEnd:
    """One end of a ``multiprocessing.Pipe``: sends and receives are the pipe's puts / gets."""

    def __init__(self, index: int, emit: Emit, conn: Any, name: str) -> None:
        self.index = index
        self._emit = emit
        self.conn = conn
        self.name = name

    def send(self, actor: int, value: Any) -> None:
        self._emit((ev.PUT, actor, self.index))  # before: the other end cannot get it first
        self.conn.send(value)

    def recv(self, actor: int, step: int, block: bool) -> tuple[bool, Any]:
        emit, index = self._emit, self.index
        if not self.conn.poll():
            if not block:
                emit((ev.EMPTY, actor, index, monotonic_ns()))
                return False, None
            emit((ev.WAIT, actor, index, monotonic_ns(), step, "pipe", None))
            self.conn.poll(None)
            emit((ev.WAKE, actor, index, monotonic_ns(), True))
        value = self.conn.recv()
        emit((ev.GOT_ITEM, actor, index, monotonic_ns(), value))
        return True, value

    def close(self, actor: int) -> None:
        self.conn.close()


class SharedDict(Variable):
    """A dict (a Manager's ``dict()`` proxy between processes): ``update`` and ``read``."""

    def __init__(self, index: int, emit: Emit, raw: Any) -> None:
        super().__init__(index, emit, None)
        self.raw = raw

    @property  # type: ignore[override]
    def value(self) -> Any:
        return dict(self.raw.copy()) if hasattr(self.raw, "_callmethod") else dict(self.raw)

    @value.setter
    def value(self, _: Any) -> None:
        pass  # the content lives in ``raw``

    def update(self, actor: int, key: Any, value: Any) -> None:
        self.raw[key] = value
        self._emit((ev.STORED, actor, self.index, monotonic_ns(), key, value))

    def write(self, actor: int, value: Any) -> None:
        raise TypeError("a dict is changed with update steps")


class SharedList(Variable):
    """A list (a Manager's ``list()`` proxy between processes): ``append`` and ``read``."""

    def __init__(self, index: int, emit: Emit, raw: Any) -> None:
        super().__init__(index, emit, None)
        self.raw = raw

    @property  # type: ignore[override]
    def value(self) -> Any:
        return list(self.raw[:]) if hasattr(self.raw, "_callmethod") else list(self.raw)

    @value.setter
    def value(self, _: Any) -> None:
        pass

    def append(self, actor: int, item: Any) -> None:
        self.raw.append(item)
        self._emit((ev.APPENDED, actor, self.index, monotonic_ns(), item))

    def write(self, actor: int, value: Any) -> None:
        raise TypeError("a list is changed with append steps")


class ProcessVariable(Variable):
    """A shared variable held by a Manager (``manager.Value``) so processes share it."""

    def __init__(self, index: int, emit: Emit, raw: Any) -> None:
        super().__init__(index, emit, None)
        self.raw = raw

    @property  # type: ignore[override]
    def value(self) -> Any:
        return self.raw.value

    @value.setter
    def value(self, value: Any) -> None:
        if hasattr(self, "raw"):
            self.raw.value = value
