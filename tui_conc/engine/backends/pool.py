"""A ``multiprocessing.Pool`` whose submissions, tasks and workers report events.

It lives in the main process (a pool cannot be handed to a child). Each
worker process is an actor — a lane in the Pool panel — and reports the
task it starts and ends itself (see :mod:`tui_conc.engine.process_child`).
"""

from __future__ import annotations

import threading
import time
from time import monotonic, monotonic_ns
from typing import Any

from tui_conc.engine.backends.child import ChildSpec, exit_reason, pool_worker_init, run_task
from tui_conc.engine.backends.shared_resources import CTX
from tui_conc.engine.primitives.base import Emit
from tui_conc.engine.wire import events as ev

#: How long a pool's workers may take to start before the run goes on regardless.
READY_TIMEOUT_S = 30.0
#: How often the pool's worker processes are checked for one killed from outside.
WATCH_EVERY_S = 0.05


def task_label(task: str, args: dict[str, Any]) -> str:
    """``square(n=3)``: how a task shows in the panel."""
    return f"{task}({', '.join(f'{k}={v!r}' for k, v in args.items())})"


class PoolResource:
    """A Pool of N worker processes, one lane actor each."""

    def __init__(self, index: int, name: str, emit: Emit, workers: int) -> None:
        self.index = index
        self.name = name
        self.workers = workers
        self._emit = emit
        self._ids = 0
        self._lock = threading.Lock()
        self.pool: Any = None
        self.lanes: list[tuple[Any, ...]] = []
        self.lane_pids: Any = None  #: lane → the pid of the worker on it (shared)
        self.ended = False
        self._terminating = False

    def start(self, spec: ChildSpec, lanes: list[tuple[Any, ...]]) -> None:
        """Start the worker processes (each takes a lane as it starts)."""
        self.lanes = lanes
        self.lane_pids = CTX.Array("i", len(lanes))
        self.pool = CTX.Pool(
            self.workers, initializer=pool_worker_init, initargs=(spec, self.lane_pids, lanes)
        )
        # Ready before the run starts, so start-up is not counted as the first wave.
        deadline = monotonic() + READY_TIMEOUT_S
        while not all(self.lane_pids) and monotonic() < deadline:
            time.sleep(0.005)
        # the workers as they are now: Pool drops a dead one from its list within 0.1 s
        procs = {p.pid: p for p in self.pool._pool}
        watch = threading.Thread(target=self._watch, args=(procs,), name=f"{self.name}-watch")
        watch.daemon = True
        watch.start()

    def _watch(self, procs: dict[int, Any]) -> None:
        """Report a worker killed from outside: Pool replaces it silently, and the task
        it ran is lost (its result never comes, and ``join`` waits for ever).

        ``procs`` (pid → worker) keeps every worker seen, dead ones included.
        """
        lane_of: dict[int, int] = {}  #: pid → lane
        while not self.ended and not self._terminating:
            time.sleep(WATCH_EVERY_S)
            with self.lane_pids.get_lock():
                lane_of.update((pid, k) for k, pid in enumerate(self.lane_pids) if pid)
            procs.update((p.pid, p) for p in list(getattr(self.pool, "_pool", ())))
            for pid, proc in list(procs.items()):
                code = proc.exitcode
                if code is None or self._terminating:
                    continue
                del procs[pid]
                if code < 0 and pid in lane_of:
                    lane = self.lanes[lane_of.pop(pid)]
                    reason = f"{exit_reason(code)}: its task is lost"
                    self._emit((ev.ACTOR_KILLED, lane[0], -1, monotonic_ns(), reason))

    def _next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def _submit_event(self, actor: int, task: str, args: dict[str, Any]) -> int:
        task_id = self._next_id()
        label = task_label(task, args)
        self._emit((ev.SUBMIT, actor, self.index, monotonic_ns(), task_id, label))
        return task_id

    def submit(self, actor: int, task: str, args: dict[str, Any]) -> Any:
        """``apply_async``: queue the task and go on; returns the AsyncResult."""
        task_id = self._submit_event(actor, task, args)
        return self.pool.apply_async(run_task, (self.index, task, task_id, args))

    def map(self, actor: int, step: int, task: str, items: list[Any]) -> list[Any]:
        """``map``: one task per item (its ``item``), wait for all, their results in order."""
        calls = [
            (self.index, task, self._submit_event(actor, task, {"item": x}), {"item": x})
            for x in items
        ]
        self._emit((ev.WAIT, actor, self.index, monotonic_ns(), step, "pool", None))
        try:
            return list(self.pool.starmap(run_task, calls))
        finally:
            self._emit((ev.WAKE, actor, self.index, monotonic_ns(), True))

    def close(self, actor: int) -> None:
        self._emit((ev.POOL_CLOSE, actor, self.index, monotonic_ns()))
        self.pool.close()

    def join(self, actor: int, step: int) -> None:
        """Wait for every worker to exit (after close or terminate)."""
        self._emit((ev.WAIT, actor, self.index, monotonic_ns(), step, "pool", None))
        self.pool.join()
        self.ended = True
        self._emit((ev.WAKE, actor, self.index, monotonic_ns(), True))

    def terminate(self, actor: int, reason: str = "terminated") -> None:
        """Kill the workers now: running tasks die, queued tasks never run."""
        self._terminating = True
        self._emit((ev.POOL_TERMINATE, actor, self.index, monotonic_ns()))
        workers = list(self.pool._pool)
        self.pool.terminate()
        self.ended = True
        for lane, proc in zip(self.lanes, workers, strict=False):
            code = proc.exitcode
            self._emit((ev.ACTOR_KILLED, lane[0], -1, monotonic_ns(), f"{reason} (exit {code})"))
