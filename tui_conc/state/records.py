"""The fold's working records: mutable, cheap to update, never handed to widgets."""

from __future__ import annotations

from collections import deque
from typing import Any

from tui_conc.state import model as sm

HISTORY_KEEP = 120  #: depth samples kept per queue (and ready sizes per selector)
STATES_KEEP = 64  #: state changes kept per actor, for its timeline
VALUES_KEEP = 2_000  #: values taken from a queue or pipe, kept for expectations


class Socket:
    """A socket as the fold knows it."""

    __slots__ = (
        "accepted",
        "bytes_in",
        "bytes_out",
        "id",
        "label",
        "max_open",
        "misses",
        "open",
        "open_conns",
        "owner",
        "parent",
        "reads",
        "role",
    )

    def __init__(self, sid: int, label: str, role: str, owner: int, parent: int) -> None:
        self.id, self.label, self.role, self.owner, self.parent = sid, label, role, owner, parent
        self.open = True
        self.bytes_in = self.bytes_out = self.misses = self.reads = 0
        self.accepted = self.open_conns = self.max_open = 0


class Select:
    """The select calls of one selector (or of plain select.select)."""

    __slots__ = ("blocked_ns", "calls", "last_ready", "name", "ready_sizes", "watched")

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = self.blocked_ns = 0
        self.last_ready: list[int] = []
        self.watched: list[int] = []
        self.ready_sizes: deque[int] = deque(maxlen=HISTORY_KEEP)


class LazyHistory(deque):  # type: ignore[type-arg]
    """An actor's history restored from a checkpoint, which leaves it out (thousands of
    actors' histories were most of a checkpoint): the whole run's lanes say it again
    (``snapshots.take_snapshot``); what is appended here meanwhile is a fallback."""


class Actor:
    """An actor as the fold knows it."""

    __slots__ = (
        "changes",
        "cpu_s",
        "daemon",
        "detail",
        "ended",
        "group",
        "history",
        "how",
        "index",
        "name",
        "native_id",
        "parked",
        "pid",
        "ppid",
        "since",
        "spawned",
        "started",
        "state",
        "step",
        "target",
        "timeout",
        "where",
        "work",
    )

    def __init__(self, index: int, info: dict[str, Any], t0: int) -> None:
        self.index = index
        self.name: str = info["name"]
        self.group: str = info.get("group", self.name)
        self.daemon: bool = bool(info.get("daemon", False))
        self.native_id: int | None = None
        self.pid: int | None = None  #: a process actor's pid and its parent's
        self.ppid: int | None = None
        self.where = ""  #: the Dask worker it runs on (its address)
        self.cpu_s: float | None = None  #: CPU seconds it used, once it is done
        self.started: int | None = None
        self.ended: int | None = None
        self.spawned = False  #: a child process on its way (spawned, not yet reporting)
        self.state = sm.NEW
        self.target: int | None = None
        self.how: str | None = None
        self.timeout: float | None = None
        self.since = t0
        self.step = -1
        self.detail = ""
        self.parked = -1  #: paused before this step (-1: not parked)
        self.work = 0  #: a compute step's size (its progress is told against it)
        #: (monotonic ns, state, target index, how) at each change, the latest kept
        self.history: deque[tuple[int, str, int | None, str | None]] = deque(maxlen=STATES_KEEP)
        self.changes = 0  #: state changes so far (its lane's length, while lanes keep all)

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        """For a checkpoint: every slot but the history (see :class:`LazyHistory`)."""
        return None, {k: getattr(self, k) for k in self.__slots__ if k != "history"}

    def __setstate__(self, state: tuple[None, dict[str, Any]]) -> None:
        for key, value in state[1].items():
            setattr(self, key, value)
        self.history = LazyHistory(maxlen=STATES_KEEP)


class Resource:
    """A resource as the fold knows it."""

    __slots__ = (
        "acquired_at",
        "acquisitions",
        "broken",
        "bucket_end",
        "contended",
        "counting",
        "depth",
        "empties",
        "expiries",
        "first_acq",
        "fulls",
        "get_blocks",
        "gets",
        "got_values",
        "history",
        "history_bucket",
        "holders",
        "index",
        "initial",
        "is_set",
        "kind",
        "last_acq",
        "last_rel",
        "leases",
        "max_depth",
        "max_holders",
        "maxsize",
        "name",
        "parties",
        "put_blocks",
        "puts",
        "reads",
        "released",
        "sets",
        "stale",
        "tasks_done",
        "type",
        "value",
        "waiters",
        "wave_gap",
        "waves",
        "writes",
    )

    def __init__(self, index: int, info: dict[str, Any]) -> None:
        self.index = index
        self.name: str = info["name"]
        self.type: str = info["type"]
        self.kind: str = info.get("kind", "")
        #: a semaphore: a value counted down and up, held by several at once
        self.counting = self.type in ("semaphore", "bounded_semaphore")
        self.holders: dict[int, int] = {}
        #: on Dask: lease id → its holder; holders whose lease the scheduler took back
        self.leases: dict[str, int] = {}
        self.stale: dict[int, int] = {}
        self.expiries = 0
        self.waiters: dict[int, str] = {}
        self.value: Any = info.get("value")
        self.initial: Any = info.get("value")
        self.acquisitions = self.contended = self.max_holders = self.waves = 0
        self.last_acq = -(10**18)
        self.first_acq: int | None = None  #: when it was first acquired
        self.last_rel: int | None = None  #: when a hold of it was last given back
        #: a semaphore's holders → when they took their permit, for the wave gap
        self.acquired_at: dict[int, int] = {}
        #: a pause this long between acquisitions starts a new wave (set by the fold)
        self.wave_gap = 100_000_000
        self.released = False  #: a hold was given back since the current wave began
        self.maxsize = int(info.get("maxsize", 0) or 0)
        self.depth = self.max_depth = int(info.get("initial", 0) or 0)
        self.puts = self.gets = self.put_blocks = self.get_blocks = 0
        self.fulls = self.empties = self.tasks_done = 0
        self.got_values: deque[Any] = deque(maxlen=VALUES_KEEP)
        self.history: deque[int] = deque([self.depth], maxlen=HISTORY_KEEP)
        self.history_bucket = 0
        self.bucket_end = 0  #: run time (ns since t0) where the current depth bucket ends
        self.is_set = bool(info.get("value")) if self.type == "event" else False
        self.parties = int(info.get("parties", 0) or 0)  #: a barrier's
        self.broken = False  #: a barrier that was broken (its waiters raise)
        self.sets = self.reads = self.writes = 0


class Pool:
    """A process pool: its tasks, queued, running on which worker, and finished."""

    __slots__ = (
        "closed",
        "done",
        "failed",
        "killed",
        "labels",
        "lane_done",
        "last_failure",
        "lost",
        "max_busy",
        "never_ran",
        "queued",
        "running",
        "submitted",
        "terminated",
        "workers",
    )

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.labels: dict[int, str] = {}
        self.queued: dict[int, str] = {}  #: task id → label, in submission order
        self.running: dict[int, tuple[int, int]] = {}  #: worker actor → (task id, since ns)
        self.lane_done: dict[int, int] = {}
        self.submitted = self.done = self.failed = self.killed = self.max_busy = 0
        self.never_ran: list[str] = []
        self.lost: list[str] = []  #: tasks whose worker was killed under them
        self.last_failure = ""
        self.closed = self.terminated = False
