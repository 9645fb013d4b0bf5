"""What runs inside a child process of the process backend.

A Process actor's target is :func:`child_main`; a pool worker runs
:func:`pool_worker_init` once and :func:`run_task` for each task. Both build
a :class:`ChildRun` — the scenario's resources wrapped around the shared
``multiprocessing`` objects the parent made — compile their steps with the
same :class:`~tui_conc.engine.steps.compiler.Compiler` as a thread, and send
their events to the runner through a :class:`~tui_conc.engine.channel.Channel`.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass, field
from time import monotonic_ns
from typing import Any

from tui_conc.engine.backends.shared_resources import SharedControl, wrap_resources
from tui_conc.engine.steps.compiler import Compiler
from tui_conc.engine.steps.context import ActorRuntime
from tui_conc.engine.steps.frame import Frame, StepFailed, set_pids
from tui_conc.engine.steps.numbering import number_steps
from tui_conc.engine.wire import codec
from tui_conc.engine.wire import events as ev
from tui_conc.engine.wire.channel import Channel
from tui_conc.scenario import model as m

#: The exit status of a child that reported its own failure (an exception in a step).
FAILED_EXIT = 70


def exit_reason(code: int) -> str:
    """``killed by SIGKILL (signal 9)`` or ``exit code 3``."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name} (signal {-code})"
    return f"exit code {code}"


def die_with_parent(parent: int) -> None:
    """In a helper process (the Manager's server): exit when ``parent`` is gone, however
    it went (a SIGKILL from outside leaves no one to stop it otherwise)."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


class TaskFailed(Exception):
    """A pool task raised: what the parent's AsyncResult holds (always picklable)."""


@dataclass
class ChildSpec:
    """Everything a child needs, pickled to it when it is spawned."""

    scenario: m.Scenario
    knobs: dict[str, Any]
    address: str  #: the runner's relay
    hold: Any  #: the shared pause flag
    raws: dict[str, Any]  #: resource name → the multiprocessing object(s) behind it
    t0: int
    gate: tuple[Any, Any] | None = None  #: (ready, go): say ready, wait to go
    authkey: bytes | None = None  #: the relay's key, when it listens on TCP (a cluster)
    remote: bool = False  #: on another host, maybe: agree a clock offset at connect
    backend: str = "process"  #: "dask": the resources are Dask's (see backends.dask)
    run_id: str = ""  #: a Dask run's name on the cluster
    actor: tuple[int, str, str, int, bool] = (0, "", "", 0, False)
    args: dict[str, Any] = field(default_factory=dict)


class ChildRun:
    """The part of a run a child process sees: its resources and its own actor."""

    def __init__(self, spec: ChildSpec, emit: Any) -> None:
        self.scenario = spec.scenario
        self.knobs = spec.knobs
        self.emit = emit
        self.t0 = spec.t0
        self.control = SharedControl(spec.hold)
        if spec.backend == "dask":
            from tui_conc.engine.backends.dask import objects

            self.by_name = objects.wrap_resources(
                spec.scenario, spec.raws, emit, spec.knobs, spec.actor[0]
            )
        else:
            self.by_name = wrap_resources(spec.scenario, spec.raws, emit, spec.knobs)
        self.steps, self._step_ids = number_steps(spec.scenario)
        self.groups: dict[str, list[ActorRuntime]] = {}
        #: send the buffered events now (before a step that holds the GIL)
        self.flush_events: Any = lambda: None

    def step_id(self, s: m.Step) -> int:
        return self._step_ids[id(s)]

    def _parent_only(self, *_: Any) -> Any:
        raise RuntimeError("only the main process can start, join or list the run's actors")

    start_group = start_one = alive = alive_names = _parent_only


def _report_end(
    emit: Any, run: ChildRun, actor: ActorRuntime, exc: BaseException | None, cpu: float
) -> int:
    if exc is None:
        emit((ev.ACTOR_DONE, actor.index, -1, monotonic_ns(), cpu))
        return 0
    if isinstance(exc, StepFailed):
        message = f"line {run.steps[exc.step][0]}: {exc}"
    else:
        message = f"{type(exc).__name__}: {exc}"
    emit((ev.ACTOR_FAILED, actor.index, -1, monotonic_ns(), f"{message} (exit {FAILED_EXIT})"))
    return FAILED_EXIT


def _start_with_the_others(gate: tuple[Any, Any] | None) -> None:
    """One of a run's first children: say it is ready, wait for the gate to open."""
    if gate is not None:
        ready, go = gate
        ready.release()
        go.wait()


def child_main(spec: ChildSpec) -> None:
    """A Process actor: run its group's steps, report, exit 0 (or FAILED_EXIT)."""
    set_pids()
    codec.tune_gc_for_streaming()
    sys.exit(run_actor(spec))


def run_actor(
    spec: ChildSpec, source: int | None = None, where: str = "", on_lost: Any = None
) -> int:
    """Run one actor outside the runner (a child process, a Dask worker's task): its
    steps, its events through a channel of its own; returns its exit status.
    ``where`` (a worker's address) goes out with its start; ``on_lost`` is called if
    the runner goes away (default: exit the process)."""
    channel = Channel(
        spec.address, source=source, authkey=spec.authkey, remote=spec.remote, on_lost=on_lost
    )
    emit = channel.emit
    run = ChildRun(spec, emit)
    run.flush_events = channel.flush
    channel.tick = run.control.refresh
    channel.start()
    actor = ActorRuntime(*spec.actor)
    error: BaseException | None = None
    try:
        body = Compiler(run, actor).block(spec.scenario.actors[actor.group].steps)
        frame = Frame(run, actor, spec.knobs)  # type: ignore[arg-type]
        frame.locals.update(spec.args)
        _start_with_the_others(spec.gate)
    except BaseException as exc:
        body, error = None, exc
    # CPU since the actor started (the interpreter's start-up is not its work): the
    # process's, or on a Dask worker — many tasks and an event loop — its thread's
    cpu_clock = time.thread_time if spec.backend == "dask" else time.process_time
    cpu0 = cpu_clock()
    pids = (os.getpid(), os.getpid(), os.getppid())
    emit((ev.ACTOR_START, actor.index, -1, monotonic_ns(), *pids, *([where] if where else [])))
    try:
        if body is not None:
            body(frame)
    except BaseException as exc:
        error = exc
    status = _report_end(emit, run, actor, error, cpu_clock() - cpu0)
    channel.close()
    return status


# ---------------------------------------------------------------- pool workers


class _Worker:
    """A pool worker's state: its channel, run, lane actor and compiled tasks."""

    def __init__(self, spec: ChildSpec, lane: ActorRuntime) -> None:
        self.channel = Channel(spec.address)
        self.run = ChildRun(spec, self.channel.emit)
        self.channel.tick = self.run.control.refresh
        self.channel.start()
        self.lane = lane
        self.tasks: dict[str, Any] = {}
        self.cpu0 = time.process_time()  #: the lane's CPU counts from here

    def body(self, task: str) -> Any:
        if task not in self.tasks:
            steps = self.run.scenario.tasks[task].steps
            self.tasks[task] = Compiler(self.run, self.lane).block(steps)  # type: ignore[arg-type]
        return self.tasks[task]


_worker: _Worker | None = None


def _claim_lane(lane_pids: Any) -> int:
    """The first lane with no live worker (a replacement takes over a dead one's)."""
    with lane_pids.get_lock():
        for k, pid in enumerate(lane_pids):
            if pid == 0 or not _alive(pid):
                lane_pids[k] = os.getpid()
                return k
    return 0  # unreachable: the pool never has more workers than lanes


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pool_worker_init(spec: ChildSpec, lane_pids: Any, lanes: list[tuple[Any, ...]]) -> None:
    """A pool worker's initializer: claim a lane, connect, report the start."""
    global _worker
    from multiprocessing import util

    set_pids()
    codec.tune_gc_for_streaming()
    lane = ActorRuntime(*lanes[_claim_lane(lane_pids)])
    _worker = _Worker(spec, lane)
    emit = _worker.channel.emit
    emit((ev.ACTOR_START, lane.index, -1, monotonic_ns(), os.getpid(), os.getpid(), os.getppid()))
    util.Finalize(None, _worker_exit, exitpriority=100)


def _worker_exit() -> None:
    if _worker is not None:
        lane = _worker.lane.index
        cpu = time.process_time() - _worker.cpu0
        _worker.channel.emit((ev.ACTOR_DONE, lane, -1, monotonic_ns(), cpu))
        _worker.channel.close()


def run_task(pool: int, task: str, task_id: int, args: dict[str, Any]) -> Any:
    """Run one task on this worker; its result is the local ``result`` if it set one."""
    assert _worker is not None, "run_task outside a pool worker"
    emit, lane = _worker.channel.emit, _worker.lane
    emit((ev.TASK_BEGIN, lane.index, pool, monotonic_ns(), task_id))
    frame = Frame(_worker.run, lane, _worker.run.knobs)  # type: ignore[arg-type]
    frame.locals.update(args)
    try:
        _worker.body(task)(frame)
    except BaseException as exc:
        detail = str(exc) if isinstance(exc, StepFailed) else f"{type(exc).__name__}: {exc}"
        emit((ev.TASK_END, lane.index, pool, monotonic_ns(), task_id, False, detail))
        raise TaskFailed(f"task {task} #{task_id}: {detail}") from None
    emit((ev.TASK_END, lane.index, pool, monotonic_ns(), task_id, True, ""))
    return frame.locals.get("result")
