"""A run whose actors are long-running tasks on a Dask cluster's workers.

Each actor not ``runs_in: main`` is submitted as one task, pinned to a
worker (round robin, so two actors land on two workers), that secedes from
the worker's thread pool and runs the actor's steps as a child process of
the process backend would (:func:`~tui_conc.engine.backends.child.run_actor`),
its events going to the runner's relay over TCP. The runner watches each
task's future: a worker lost mid-run fails its actor as *killed*.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from time import monotonic_ns
from typing import Any

from tui_conc import __version__
from tui_conc.engine import native
from tui_conc.engine.backends.child import FAILED_EXIT, ChildSpec, run_actor
from tui_conc.engine.backends.dask import objects, runstate
from tui_conc.engine.backends.dask.cluster import DEFAULT_WORKERS, Cluster
from tui_conc.engine.backends.dask.leases import LeaseWatch
from tui_conc.engine.backends.process import ProcessHandle, ProcessRun
from tui_conc.engine.backends.shared_resources import SharedControl
from tui_conc.engine.backends.thread import ThreadRun
from tui_conc.engine.steps.context import ActorRuntime
from tui_conc.engine.steps.frame import set_pids
from tui_conc.engine.wire import events as ev


def actor_task(spec: ChildSpec) -> int:
    """An actor, as a task on a worker: leave the worker's thread pool (it runs as long
    as it runs) and run the steps; its source is unique among the worker's actors."""
    from distributed import get_worker, secede

    secede()
    set_pids()
    source = (os.getpid() << 16) | (spec.actor[0] & 0xFFFF)
    lost = functools.partial(runstate.runner_gone, spec.run_id)  # the worker is not ours
    return run_actor(spec, source=source, where=get_worker().address, on_lost=lost)


#: What a task's future raises when its worker went away under it.
_LOST = frozenset({"KilledWorker", "CancelledError", "FutureCancelledError"})


def _task_raised(actor: int, exc: Exception, worker: str) -> tuple[Any, ...]:
    """The end of an actor whose task raised outside its steps: its worker was lost, or
    the task could not run (a cluster with another tui-conc cannot read it)."""
    name = type(exc).__name__
    if name in _LOST:
        return (
            ev.ACTOR_KILLED,
            actor,
            -1,
            monotonic_ns(),
            f"its worker {worker} was lost ({name})",
        )
    first = str(exc).splitlines()[0] if str(exc) else ""
    message = f"{name}: {first}"
    if "deserializ" in message:
        message += f" (the scheduler and workers need tui-conc {__version__})"
    return (ev.ACTOR_FAILED, actor, -1, monotonic_ns(), message)


@dataclass(eq=False)
class DaskRun(ProcessRun):
    """A run on Dask; ``address`` and ``authkey`` are the relay's (TCP)."""

    authkey: bytes | None = None
    scheduler: str | None = None
    workers: int = DEFAULT_WORKERS

    def __post_init__(self) -> None:
        self.run_id = os.urandom(4).hex()
        self.cluster = Cluster.open(self.scheduler, self.workers)
        self._futures: dict[int, Any] = {}
        self._leases: LeaseWatch | None = None
        self.state = runstate.RunState(self.run_id)
        self.state.start()
        flag = runstate.DaskFlag(self._key("pause"), self.run_id)
        flag.value = 0
        self.control = SharedControl(flag)  # type: ignore[assignment]
        self.pools = []
        self._gate: tuple[Any, Any] | None = None
        self.raws: dict[str, Any] = {}
        ThreadRun.__post_init__(self)
        self._lanes = []
        self._placed = 0
        self.emit((ev.LOG, -1, -1, monotonic_ns(), self.cluster.describe()))

    def _key(self, what: str) -> str:
        return f"tui-conc-{self.run_id}-{what}"

    def reach_back(self) -> str:
        """The host the workers can reach the runner's relay at."""
        return self.cluster.reach_back()

    def _build_resources(self, env: dict[str, Any]) -> None:
        self.raws, self.resource_info = objects.make_raws(self.scenario, env, self.run_id)
        self.by_name.update(objects.wrap_resources(self.scenario, self.raws, self.emit, env))
        if self.cluster.local is not None:  # its scheduler is here: expiries are seen
            names = {
                raw.name: index
                for index, raw in enumerate(self.raws.values())
                if isinstance(raw, objects.DaskSemaphore)
            }
            self._leases = LeaseWatch(self.emit, names)
            self._leases.install()

    def prepare(self) -> None:
        """Nothing before the actors (the cluster is up: its start is in the log)."""

    def _new_gate(self) -> tuple[Any, Any]:
        return runstate.DaskGateReady(self._key("ready")), objects.DaskEvent(
            self._key("go"), self.run_id
        )

    def _spec(self, actor: ActorRuntime | None = None, args: dict[str, Any] | None = None) -> Any:
        spec = super()._spec(actor, args)
        spec.authkey, spec.remote, spec.backend = self.authkey, True, "dask"
        spec.run_id = self.run_id
        return spec

    def _start(self, actor: ActorRuntime, args: dict[str, Any]) -> None:
        if not self.scenario.in_process(actor.group, self.backend):
            ThreadRun._start(self, actor, args)
            return
        workers = self.cluster.workers()
        worker = workers[self._placed % len(workers)]
        self._placed += 1
        handle = self._spawning(actor, None)
        future = self.cluster.client.submit(
            actor_task,
            self._spec(actor, args),
            key=self._key(actor.name),
            pure=False,
            workers=[worker],
            allow_other_workers=False,
            retries=0,
        )
        self._futures[actor.index] = future
        native.start_thread(lambda: self._watch_task(actor, future, handle, worker))

    def _watch_task(
        self, actor: ActorRuntime, future: Any, handle: ProcessHandle, worker: str
    ) -> None:
        """Wait for an actor's task; report what it could not (its worker lost)."""
        try:
            code = future.result()
        except Exception as exc:  # KilledWorker, CancelledError, a failure in the task
            code = None
            if not actor.finished:
                self.emit(_task_raised(actor.index, exc, worker))
        if code not in (None, 0, FAILED_EXIT) and not actor.finished:
            self.emit((ev.ACTOR_FAILED, actor.index, -1, monotonic_ns(), f"exit code {code}"))
        self._ended(actor, handle)

    def cut_off_daemons(self) -> None:
        """Cancel what outlives the main actors."""
        for actor in self.actors:
            future = self._futures.get(actor.index)
            if actor.daemon and future is not None and not future.done():
                actor.finished = True
                future.cancel()
                self.emit(
                    (ev.ACTOR_KILLED, actor.index, -1, monotonic_ns(), "daemon cut off at exit")
                )
        ThreadRun.cut_off_daemons(self)

    def close(self) -> None:
        """End every actor still waiting (a deadlocked one's, a daemon's), then close the
        cluster — or, on a cluster of yours, leave it as it was: each waiting actor sees
        the run is over within a second, and a get on a queue receives an end marker."""
        if self._leases is not None:
            self._leases.remove()
        waiting = [f for f in self._futures.values() if not f.done()]
        if waiting and self.cluster.local is None:
            with contextlib.suppress(Exception):
                self.state.end()
                for raw in self.raws.values():
                    if isinstance(raw, objects.DaskQueueRaw):
                        for _ in waiting:
                            raw.obj.put(objects.END_OF_RUN)
                from distributed import wait

                wait(waiting, timeout=3 * runstate.SLICE_S)
        for future in self._futures.values():
            future.cancel()
        self.cluster.close()
