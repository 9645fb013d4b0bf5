"""A run's state on the cluster: over or not, paused or not, who is ready to start.

Each lives on the scheduler as a ``distributed.Variable`` or ``Queue`` named
after the run, read by the actors' tasks on the workers: so that a run never
leaves an actor blocked on someone else's cluster (its waits are cut into
:data:`SLICE_S` slices that ask whether the run is over), a pause reaches
every worker, and the first actors start their steps together.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from tui_conc.engine.backends.dask.named import Named

#: A wait on the scheduler is cut into slices this long, to notice the run's end.
SLICE_S = 1.0
#: Runs whose runner went away, as this process's channel found.
_gone: set[str] = set()


class RunOver(Exception):
    """The run ended (or its runner went away) while this actor waited."""


def runner_gone(run_id: str) -> None:
    """This process lost the runner of ``run_id``: its actors stop at their next wait."""
    _gone.add(run_id)


class RunState(Named):
    """Whether run ``run_id`` is over: a ``distributed.Variable`` the runner sets at
    its end, read at most every :data:`SLICE_S` (or this process lost the runner)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id
        self._over = False
        self._read_at = 0.0

    def _make(self, run_id: str) -> Any:
        from distributed import Variable

        return Variable(f"tui-conc-{run_id}-over")

    def start(self) -> None:
        """The runner: the run is on."""
        self.obj.set(False)

    def end(self) -> None:
        """The runner: the run is over."""
        self.obj.set(True)

    def over(self) -> bool:
        if self.run_id in _gone:
            return True
        now = time.monotonic()
        if not self._over and now - self._read_at >= SLICE_S:
            self._read_at = now
            with contextlib.suppress(Exception):  # the scheduler going away: not yet
                self._over = bool(self.obj.get(timeout=SLICE_S))
        return self._over

    def check(self) -> None:
        if self.over():
            raise RunOver("the run is over")


def sliced(attempt: Callable[[float], bool], timeout: float | None, run: RunState) -> bool:
    """``attempt(seconds)`` until it succeeds, ``timeout`` passes, or the run ends."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = SLICE_S if deadline is None else max(deadline - time.monotonic(), 0.0)
        if attempt(min(SLICE_S, left)):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        run.check()


class DaskFlag(Named):
    """The run's pause flag as a ``distributed.Variable`` (what ``SharedControl`` reads);
    a worker reads it at most every 0.1 s (a read is a round trip to the scheduler),
    and reads 0 once the run is over: nobody would ever resume it."""

    EVERY_S = 0.1

    def __init__(self, name: str, run_id: str) -> None:
        super().__init__(name, run_id)
        self._value = 0
        self._read_at = 0.0
        self.run = RunState(run_id)

    def _make(self, name: str, run_id: str) -> Any:
        from distributed import Variable

        return Variable(name)

    @property
    def value(self) -> int:
        now = time.monotonic()
        if now - self._read_at >= self.EVERY_S:
            self._read_at = now
            # (the scheduler going away: keep the last reading)
            with contextlib.suppress(Exception):
                self._value = int(self.obj.get(timeout=1))
            if self._value and self.run.over():
                self._value = 0
        return self._value

    @value.setter
    def value(self, value: int) -> None:
        self._value = value
        self.obj.set(value)


class DaskGateReady(Named):
    """The start gate's count of ready actors: items in a ``distributed.Queue``, counted
    by its size (a get that times out is an error in the scheduler's log)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.counted = 0

    def _make(self, name: str) -> Any:
        from distributed import Queue

        return Queue(name)

    def release(self) -> None:
        self.obj.put(1)

    def acquire(self, timeout: float) -> bool:
        if self.obj.qsize() > self.counted:
            self.counted += 1
            return True
        time.sleep(timeout)
        return False
