"""Immutable snapshots of a run: what the panels and reports read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Actor states, for every backend.
NEW, RUNNING, BLOCKED, WAITING, SLEEPING, COMPUTING, IN_IO = (
    "new",
    "running",
    "blocked",
    "waiting",
    "sleeping",
    "computing",
    "io",
)
DONE, FAILED, KILLED = "done", "failed", "killed"
ENDED_STATES = frozenset({DONE, FAILED, KILLED})

#: Run statuses.
STARTING, RUN_RUNNING, PAUSED, FINISHED = "starting", "running", "paused", "finished"
DEADLOCK, STALL, STOPPED, TIMEOUT, ERROR = "deadlock", "stall", "stopped", "timeout", "error"
FINAL_STATUSES = frozenset({FINISHED, DEADLOCK, STALL, STOPPED, TIMEOUT, ERROR})

#: Live snapshots (and so the Actors panel) describe at most this many actors;
#: the rest are counted by state. Rows cost UI time at every redraw.
LIVE_ACTORS = 100


@dataclass(frozen=True, slots=True)
class ActorView:
    """One actor: who it is and what it is doing."""

    index: int
    name: str
    group: str
    native_id: int | None
    daemon: bool
    state: str
    target: str | None  #: the resource (or actor, for a join) it is blocked or waiting on
    how: str | None  #: acquire, put, get, event, cond, join, qjoin
    step: str  #: "L12 acquire mutexB"
    since_s: float  #: seconds in this state
    timeout: float | None = None
    detail: str = ""  #: failure message, sleep length, compute size
    #: (monotonic ns, state, target, how) at each change, the latest kept (see Snapshot.story)
    history: tuple[tuple[int, str, int | None, str | None], ...] = ()
    pid: int | None = None  #: a process actor's pid and its parent's pid
    ppid: int | None = None
    where: str = ""  #: the Dask worker it runs on (its address)
    cpu_s: float | None = None  #: CPU seconds used (known once it is done)
    wall_s: float | None = None  #: seconds from its start to its end (or to now)
    started_s: float | None = None  #: run time when it started
    holds: tuple[tuple[str, int], ...] = ()  #: the locks and permits it holds (name, holds)
    parked: str = ""  #: paused: the step it waits before ("L12 sleep 0.2")

    @property
    def label(self) -> str:
        """ "blocked on mutexB", "sleeping", "done"…"""
        return label_of(self.state, self.target, self.how)


_WAIT_WHAT = {
    "join": "join",
    "qjoin": "join",
    "cond": "notify",
    "switch": "switched out",
    "pipe": "recv",
    "pool": "its tasks",
    "barrier": "the others",
    "await": "await",
}


def label_of(state: str, target: str | None, how: str | None) -> str:
    """What an actor in ``state`` does, in words: "blocked on mutexB", "sleeping"…"""
    if state == BLOCKED:
        verb = {"put": "put to", "get": "get from"}.get(how or "", "on")
        return f"blocked {verb} {target}"
    if state == IN_IO:
        return f"in IO on {target}" + (f" ({how})" if how != "select" else "")
    if state == WAITING:
        what = _WAIT_WHAT.get(how or "")
        return f"waiting on {target}" + (f" ({what})" if what else "")
    return state


@dataclass(frozen=True, slots=True)
class LockView:
    """A lock, rlock, semaphore or condition: owners, value, waiters."""

    name: str
    kind: str
    owners: tuple[tuple[str, int], ...]  #: (actor, holds) — holds is the recursion count
    waiters: tuple[str, ...]  #: actors blocked acquiring, in arrival order
    cond_waiters: tuple[str, ...]  #: actors waiting for a notify (conditions)
    value: int | None  #: a semaphore's value
    initial: int | None
    acquisitions: int
    contended: int
    max_holders: int
    waves: int
    busy_s: float = 0.0  #: from its first acquisition to its last release
    #: on Dask: holders whose lease the scheduler took back (they think they hold it)
    stale: tuple[str, ...] = ()
    expiries: int = 0  #: on Dask: leases the scheduler took back


@dataclass(frozen=True, slots=True)
class QueueView:
    """A queue: depth, history, traffic and who is stuck on it."""

    name: str
    kind: str
    maxsize: int
    depth: int
    max_depth: int
    puts: int
    gets: int
    put_blocks: int
    get_blocks: int
    fulls: int
    empties: int
    tasks_done: int
    blocked_put: tuple[str, ...]
    blocked_get: tuple[str, ...]
    joiners: tuple[str, ...]
    history: tuple[int, ...]
    values: tuple[Any, ...] = ()  #: what was taken (process queues and pipes), latest kept


@dataclass(frozen=True, slots=True)
class LaneView:
    """One pool worker process and the task it is running."""

    actor: str
    pid: int | None
    state: str
    task: str  #: the task it runs now ("" when idle)
    task_s: float  #: seconds into that task
    done: int  #: tasks it has finished


@dataclass(frozen=True, slots=True)
class PoolView:
    """A process pool: a lane per worker, the queue of tasks, what became of them."""

    name: str
    workers: int
    lanes: tuple[LaneView, ...]
    waiting: tuple[str, ...]  #: the first queued tasks, in order
    waiting_count: int
    submitted: int
    done: int
    failed: int
    killed: int  #: running when the pool was terminated
    never_ran: tuple[str, ...]  #: queued when the pool was terminated
    max_busy: int
    closed: bool
    terminated: bool
    last_failure: str = ""
    lost: tuple[str, ...] = ()  #: tasks whose worker was killed under them (never finish)

    @property
    def busy(self) -> int:
        return sum(1 for lane in self.lanes if lane.task)


@dataclass(frozen=True, slots=True)
class EventView:
    """A ``threading.Event``: set or not, and who waits."""

    name: str
    is_set: bool
    waiters: tuple[str, ...]
    sets: int


@dataclass(frozen=True, slots=True)
class BarrierView:
    """A ``threading.Barrier``: how many must arrive, who waits, how often it opened."""

    name: str
    parties: int
    waiters: tuple[str, ...]
    rounds: int  #: times all parties got through
    broken: bool


@dataclass(frozen=True, slots=True)
class VariableView:
    """A shared variable and its traffic."""

    name: str
    value: Any
    reads: int
    writes: int


@dataclass(frozen=True, slots=True)
class SocketView:
    """A socket: who made it, its traffic, and the polls that found nothing."""

    id: int
    label: str
    role: str  #: listen, client or conn (a server-side connection)
    owner: str
    open: bool
    bytes_in: int
    bytes_out: int
    misses: int
    reads: int  #: receives that got data
    accepted: int  #: listeners: connections accepted so far
    open_conns: int  #: listeners: connections open now
    max_open: int  #: listeners: the most open at once


@dataclass(frozen=True, slots=True)
class SelectView:
    """select calls of a selector (or of plain ``select.select``)."""

    name: str
    calls: int
    blocked_s: float
    last_ready: tuple[str, ...]
    watched: tuple[str, ...]
    ready_sizes: tuple[int, ...] = ()  #: how many sockets each recent call found ready


@dataclass(frozen=True, slots=True)
class HubView:
    """The gevent hub: greenlet switches, and the times a greenlet kept it blocked."""

    switches: int
    blocked: tuple[tuple[str, float, float], ...]  #: (actor, milliseconds, at run time s)


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line an actor logged."""

    seq: int
    t_s: float
    actor: str
    text: str


@dataclass(frozen=True, slots=True)
class CycleEdge:
    """One link of a deadlock: ``actor`` holds ``holds`` and waits for ``waits_for``."""

    actor: str
    holds: tuple[str, ...]
    waits_for: str
    held_by: tuple[str, ...]
    where: str = ""  #: the Dask worker the actor runs on

    def sentence(self) -> str:
        who = f"{self.actor} (on {self.where})" if self.where else self.actor
        if not self.holds:
            return f"{who} waits for {self.waits_for}"
        return f"{who} holds {' and '.join(self.holds)} and waits for {self.waits_for}"


@dataclass(frozen=True, slots=True)
class Suspicion:
    """A deadlock suspected during a run: a cycle someone could still have broken."""

    at_s: float  #: run time when it was first seen
    cycle: tuple[CycleEdge, ...]
    could_break: tuple[str, ...]  #: the actors that could still break it

    @property
    def actors(self) -> tuple[str, ...]:
        return tuple(edge.actor for edge in self.cycle)


@dataclass(frozen=True, slots=True)
class StepOption:
    """An actor a controlled run's scheduler may let take its next step."""

    actor: str
    index: int
    line: int  #: the YAML line of its next step (0: none)
    text: str  #: the step's text (``with mutexA``)
    blocked_on: str = ""  #: what stops it ("" when it can go)

    @property
    def enabled(self) -> bool:
        return not self.blocked_on


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """A controlled run (step mode, a replayed schedule): the choices so far and next."""

    choices: tuple[str, ...] = ()  #: actor names, one per step taken
    options: tuple[StepOption, ...] = ()  #: who may go next (empty once it is over)
    clock_s: float = 0.0  #: virtual time: the sleeps and timeouts taken

    @property
    def enabled(self) -> tuple[StepOption, ...]:
        return tuple(o for o in self.options if o.enabled)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole state of a run at one moment."""

    title: str
    status: str
    elapsed_s: float
    t0: int = 0  #: monotonic ns when the run began
    now: int = 0  #: monotonic ns this snapshot describes
    actors: tuple[ActorView, ...] = ()
    locks: tuple[LockView, ...] = ()
    queues: tuple[QueueView, ...] = ()
    events: tuple[EventView, ...] = ()
    barriers: tuple[BarrierView, ...] = ()
    variables: tuple[VariableView, ...] = ()
    sockets: tuple[SocketView, ...] = ()
    selects: tuple[SelectView, ...] = ()
    pools: tuple[PoolView, ...] = ()
    log: tuple[LogLine, ...] = ()
    log_total: int = 0
    cycle: tuple[CycleEdge, ...] = ()
    stalled: bool = False
    error: str | None = None
    events_folded: int = 0
    knobs: dict[str, Any] = field(default_factory=dict)
    backend: str = "thread"
    hub: HubView | None = None
    actor_total: int = 0  #: every actor of the run (``actors`` may hold only the first ones)
    actor_states: tuple[tuple[str, int], ...] = ()  #: how many actors are in each state
    stopped: bool = False  #: stopped with x (after its verdict, if it had one)
    #: an earlier instant of the run (looking back): drawn exactly, never throttled
    past: bool = False
    resource_names: tuple[str, ...] = ()  #: by index (history entries name them so)
    actor_names: tuple[str, ...] = ()
    #: A likely deadlock: a cycle of waits that others could still break (not a verdict).
    suspect: tuple[CycleEdge, ...] = ()
    could_break: tuple[str, ...] = ()  #: who could still break the suspected cycle
    #: a controlled run's schedule (step mode, a replayed schedule), else None
    schedule: ScheduleView | None = None

    def story(self, actor: ActorView) -> list[tuple[float, str]]:
        """An actor's kept history as (run seconds, "blocked on mutexA"), oldest first."""
        out = []
        for t, state, target, how in actor.history:
            name: str | None = None
            if target is not None:
                if how in ("join", "switch", "await"):
                    name = self.actor_names[target] if 0 <= target < len(self.actor_names) else None
                elif how == "future":
                    name = "a future"
                elif how in ("accept", "recv", "fetch"):
                    sock = next((s for s in self.sockets if s.id == target), None)
                    name = sock.label if sock else f"socket {target}"
                elif how == "select":
                    name = "select.select" if target < 0 else self.resource_names[target]
                elif 0 <= target < len(self.resource_names):
                    name = self.resource_names[target]
            out.append(((t - self.t0) / 1e9, label_of(state, name, how)))
        return out

    @property
    def deadlock_text(self) -> str:
        """The jstack-style sentence naming the cycle ("" when there is none)."""
        return self.deadlock_text_of(self.cycle)

    @staticmethod
    def deadlock_text_of(cycle: tuple[CycleEdge, ...]) -> str:
        return "; ".join(edge.sentence() for edge in cycle)
