"""The process backend: a scenario's actors as real ``multiprocessing`` processes.

The runner is the main process. Groups with ``runs_in: main`` stay threads of
it (the parent that starts, feeds and joins the others); every other actor is
a spawned :class:`multiprocessing.Process`, and every pool worker a lane
actor of its pool. Each child sends its events through the run's
:class:`~tui_conc.engine.channel.Relay`; the main process's own go out as
source 0 (see :mod:`tui_conc.engine.merge`).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.managers import SyncManager
from time import monotonic_ns
from typing import Any

from tui_conc.engine import native
from tui_conc.engine.backends.child import (
    FAILED_EXIT,
    ChildSpec,
    child_main,
    die_with_parent,
    exit_reason,
)
from tui_conc.engine.backends.pool import PoolResource
from tui_conc.engine.backends.shared_resources import CTX, SharedControl, make_raws, wrap_resources
from tui_conc.engine.backends.thread import ThreadRun
from tui_conc.engine.steps.context import ActorRuntime
from tui_conc.engine.wire import events as ev
from tui_conc.scenario.sizes import check_processes

#: The longest the first children are waited for before the gate opens anyway.
GATE_WAIT_S = 60.0


class ProcessHandle:
    """What a join step sees of a child process: only its watcher thread reaps it.

    (Two threads in ``Process.join`` race for ``waitpid``; the loser reads
    no exit code and would report the child alive.)
    """

    def __init__(self, proc: Any) -> None:
        self.proc = proc
        self.ended = threading.Event()

    def join(self, timeout: float | None = None) -> None:
        self.ended.wait(timeout)

    def is_alive(self) -> bool:
        return not self.ended.is_set()


@dataclass(eq=False)
class ProcessRun(ThreadRun):
    """A run whose actors are processes; ``address`` is the relay's."""

    address: str = ""

    def __post_init__(self) -> None:
        self.control = SharedControl()  # type: ignore[assignment]
        self._manager: Any = None
        self._gate: tuple[Any, Any] | None = None  #: while the first children start
        self.raws: dict[str, Any] = {}
        self.pools: list[PoolResource] = []
        check_processes(self.scenario, self.knobs, self.backend)
        super().__post_init__()
        self._lanes: list[list[tuple[Any, ...]]] = []
        for pool in self.pools:
            lanes = []
            for k in range(pool.workers):
                lane = ActorRuntime(len(self.actors), f"{pool.name}-w{k}", pool.name, k, False)
                self.actors.append(lane)
                lanes.append((lane.index, lane.name, lane.group, k, False))
            self._lanes.append(lanes)

    def prepare(self) -> None:
        """Start every pool's workers and wait for them (the header is out: the app
        shows them coming up), so start-up is not counted as the first wave."""
        for pool, lanes in zip(self.pools, self._lanes, strict=True):
            pool.start(self._spec(), lanes)

    def _manager_once(self) -> Any:
        if self._manager is None:  # a server process; the proxies talk to it
            self._manager = SyncManager(ctx=CTX)
            self._manager.start(die_with_parent, (os.getpid(),))
        return self._manager

    def _build_resources(self, env: dict[str, Any]) -> None:
        self.raws, self.resource_info = make_raws(self.scenario, env, self._manager_once)
        self.by_name.update(wrap_resources(self.scenario, self.raws, self.emit, env))
        for index, info in enumerate(self.resource_info):
            if info["type"] == "pool":
                name = info["name"]
                pool = PoolResource(index, name, self.emit, info["workers"])
                self.pools.append(pool)
                self.by_name[name] = pool

    def start(self) -> None:
        """Start the autostart groups behind one gate, so that the scenario's times
        count from a common start, as on threads.

        A spawned child takes 0.1–2 s to import and connect (longer on a busy
        machine), and a sibling started first would otherwise be seconds into its
        steps — a lock held "for 1 s" let go before the other process even ran.
        Each child gets ready, says so and waits; the gate opens when all have
        (or have died, or after :data:`GATE_WAIT_S`). The main process's own
        actors start as it opens.
        """
        autostart = [g for g, group in self.scenario.actors.items() if group.autostart]
        children = [g for g in autostart if self.scenario.in_process(g, self.backend)]
        self._gate = self._new_gate()
        for group in children:
            self.start_group(group)
        gated, self._gate = self._gate, None
        self._open(gated, [a for g in children for a in self.groups[g]])
        for group in autostart:
            if group not in children:
                self.start_group(group)

    def _new_gate(self) -> tuple[Any, Any]:
        """(ready, go): what the first children release when ready and wait on."""
        return CTX.Semaphore(0), CTX.Event()

    def _open(self, gate: tuple[Any, Any], actors: list[ActorRuntime]) -> None:
        ready, go = gate
        count, deadline = 0, time.monotonic() + GATE_WAIT_S
        while time.monotonic() < deadline:
            dead = sum(1 for a in actors if a.finished)
            if count + dead >= len(actors):
                break
            count += ready.acquire(timeout=0.05)
        go.set()

    def _spec(self, actor: ActorRuntime | None = None, args: dict[str, Any] | None = None) -> Any:
        spec = ChildSpec(
            self.scenario,
            self.knobs,
            self.address,
            self.control.flag,  # type: ignore[attr-defined]
            self.raws,
            self.t0,
            gate=self._gate,
        )
        if actor is not None:
            spec.actor = (actor.index, actor.name, actor.group, actor.index_in_group, actor.daemon)
            spec.args = dict(args or {})
        return spec

    def _start(self, actor: ActorRuntime, args: dict[str, Any]) -> None:
        if not self.scenario.in_process(actor.group, self.backend):
            super()._start(actor, args)
            return
        proc = CTX.Process(target=child_main, args=(self._spec(actor, args),), name=actor.name)
        actor.runner = proc
        handle = self._spawning(actor, proc)
        proc.start()
        native.start_thread(lambda: self._watch(actor, handle))

    def _spawning(self, actor: ActorRuntime, proc: Any) -> ProcessHandle:
        """An actor about to start outside the runner: counted live, shown spawning."""
        handle = ProcessHandle(proc)
        actor.thread = handle  # type: ignore[assignment]
        if not actor.daemon:
            with self._live_cond:
                self._live += 1
        self.emit((ev.ACTOR_SPAWNED, actor.index, -1, monotonic_ns()))
        return handle

    def _watch(self, actor: ActorRuntime, handle: ProcessHandle) -> None:
        """Wait for a child to end; report what it could not (a signal, a crash)."""
        proc = handle.proc
        proc.join()
        while proc.exitcode is None:  # reaped by another thread: its code lands shortly
            time.sleep(0.001)
        code = proc.exitcode
        if actor.finished:
            pass  # cut off by the run's end, and reported there
        elif code is not None and code < 0:
            self.emit((ev.ACTOR_KILLED, actor.index, -1, monotonic_ns(), exit_reason(code)))
        elif code not in (0, FAILED_EXIT):
            self.emit((ev.ACTOR_FAILED, actor.index, -1, monotonic_ns(), exit_reason(code)))
        self._ended(actor, handle)

    def _ended(self, actor: ActorRuntime, handle: ProcessHandle) -> None:
        """An actor outside the runner has ended: its joiners and the run's end go on."""
        actor.finished = True
        handle.ended.set()
        if not actor.daemon:
            with self._live_cond:
                self._live -= 1
                self._live_cond.notify_all()

    def cut_off_daemons(self) -> None:
        """End what outlives the main actors: daemon processes, unjoined pools, the Manager."""
        for actor in self.actors:
            proc = actor.runner
            handle = actor.thread
            if actor.daemon and isinstance(handle, ProcessHandle) and handle.is_alive():
                actor.finished = True  # reported here, not by its watcher
                proc.kill()
                self.emit(
                    (ev.ACTOR_KILLED, actor.index, -1, monotonic_ns(), "daemon cut off at exit")
                )
        super().cut_off_daemons()
        for pool in self.pools:
            if not pool.ended:
                pool.terminate(-1, "pool never joined: ended with the run")
        if self._manager is not None:
            self._manager.shutdown()
