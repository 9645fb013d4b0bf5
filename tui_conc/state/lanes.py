"""What the Timeline draws: each actor's state changes and the resources over a whole run.

The fold's records keep only what the live panels need (the latest 64 state
changes of an actor, 12 s of a queue's depth). A timeline needs the whole
run, so the fold also writes here, compactly: an actor's changes as three
arrays (time, state and how, target), the resources as samples taken at
most every :data:`SAMPLE_NS` of run time. Both are bounded: past
:data:`CHANGES_KEEP` changes the lanes stop (and say when); past
:data:`SAMPLES_KEEP` samples every other one is dropped and the interval
doubles.

The samples are taken as the events pass, not by a timer, so the same
events give the same lanes however they were cut into batches (live, or
from a trace).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.state import model as sm

#: Every actor state, in the order of their codes.
STATES: tuple[str, ...] = (
    sm.NEW,
    sm.RUNNING,
    sm.BLOCKED,
    sm.WAITING,
    sm.SLEEPING,
    sm.COMPUTING,
    sm.IN_IO,
    sm.DONE,
    sm.FAILED,
    sm.KILLED,
)
_STATE_CODE = {s: i for i, s in enumerate(STATES)}
#: How an actor waits (index 0: not waiting), in the order of their codes.
HOWS: tuple[str | None, ...] = (None, *ev.WAIT_HOWS)
_HOW_CODE = {h: i for i, h in enumerate(HOWS)}
_HOW_BITS = 5  #: a change's code is state << 5 | how
assert len(HOWS) <= 1 << _HOW_BITS

#: State changes kept for the whole run, all actors together.
CHANGES_KEEP = 2_000_000
#: The resources are sampled at most this often (run time), at first.
SAMPLE_NS = 2_000_000
#: At most this many samples; past it every other one goes and the interval doubles.
SAMPLES_KEEP = 20_000


@dataclass(frozen=True, slots=True)
class Segment:
    """An actor in one state from ``start`` to ``end`` (ns since the run's t0)."""

    start: int
    end: int
    state: str
    target: int | None  #: the resource (or actor, for a join) it waits on
    how: str | None


class ActorLane:
    """One actor's state changes: when, to what, on what."""

    __slots__ = ("codes", "targets", "times")

    def __init__(self) -> None:
        self.times = array("q")
        self.codes = array("H")
        self.targets = array("i")

    def segments(self, t0: int, end: int) -> list[Segment]:
        """The lane as segments, times relative to ``t0``; the last runs to ``end``."""
        out: list[Segment] = []
        times, codes, targets = self.times, self.codes, self.targets
        for k in range(len(times)):
            stop = times[k + 1] if k + 1 < len(times) else end
            code = codes[k]
            target = targets[k]
            out.append(
                Segment(
                    times[k] - t0,
                    max(stop, times[k]) - t0,
                    STATES[code >> _HOW_BITS],
                    None if target == _NO_TARGET else target,
                    HOWS[code & ((1 << _HOW_BITS) - 1)],
                )
            )
        return out

    def recent(self, changes: int, keep: int) -> list[tuple[int, str, int | None, str | None]]:
        """The last ``keep`` of the first ``changes`` changes: (time, state, target, how)."""
        k = min(changes, len(self.targets))
        out = []
        for i in range(max(k - keep, 0), k):
            code, target = self.codes[i], self.targets[i]
            out.append(
                (
                    self.times[i],
                    STATES[code >> _HOW_BITS],
                    None if target == _NO_TARGET else target,
                    HOWS[code & ((1 << _HOW_BITS) - 1)],
                )
            )
        return out

    def state_at(self, t: int) -> tuple[str, int | None, str | None] | None:
        """(state, target, how) at monotonic time ``t``; None before the first change."""
        k = bisect_right(self.times, t) - 1
        if k < 0:
            return None
        code, target = self.codes[k], self.targets[k]
        return (
            STATES[code >> _HOW_BITS],
            None if target == _NO_TARGET else target,
            HOWS[code & ((1 << _HOW_BITS) - 1)],
        )


class Lanes:
    """Every actor's lane and the resources' samples, for one run."""

    def __init__(self, actors: int, resources: Sequence[Any]) -> None:
        self.actors = [ActorLane() for _ in range(actors)]
        self.changes = 0
        #: monotonic ns of the last change kept, once the lanes are full (None: not full)
        self.full_at: int | None = None
        self.kinds = [sampled_kind(r.type) for r in resources]
        self.sample_ns = SAMPLE_NS
        self.next_sample = 0
        self.sample_times = array("q")
        #: per resource: its sampled value (lock: first holder or -1; semaphore: value;
        #: queue: depth; event: 1 if set; anything else: 0)
        self.samples = [array("q") for _ in resources]

    def add_actor(self) -> None:
        """A lane for an actor met mid-run (a traced program's new thread)."""
        self.actors.append(ActorLane())

    def add_resource(self, resource: Any) -> None:
        """Samples for a resource created mid-run: nothing before it existed (0)."""
        self.kinds.append(sampled_kind(resource.type))
        self.samples.append(array("q", bytes(8 * len(self.sample_times))))

    def change(self, t: int, actor: int, state: str, target: int | None, how: str | None) -> None:
        """Record that ``actor`` went to ``state`` at ``t``."""
        if self.changes >= CHANGES_KEEP:
            if self.full_at is None:
                self.full_at = t
            return
        self.changes += 1
        lane = self.actors[actor]
        lane.times.append(_clamp(t, _I64))
        lane.codes.append(_STATE_CODE[state] << _HOW_BITS | _HOW_CODE.get(how, 0))
        lane.targets.append(_NO_TARGET if target is None else max(-_I32, min(target, _I32)))

    def sample(self, now: int, resources: Sequence[Any]) -> None:
        """Sample every resource at ``now`` (the fold calls this when ``now`` passes
        :attr:`next_sample`)."""
        if len(self.sample_times) >= SAMPLES_KEEP:
            self._thin()
        self.sample_times.append(_clamp(now, _I64))
        for kind, values, r in zip(self.kinds, self.samples, resources, strict=True):
            if kind == "lock":
                values.append(next(iter(r.holders), -1))
            elif kind == "semaphore":
                values.append(_clamp(r.value, _I64) if isinstance(r.value, int) else 0)
            elif kind == "queue":
                values.append(_clamp(r.depth, _I64))
            elif kind == "event":
                values.append(1 if r.is_set else 0)
            else:
                values.append(0)
        self.next_sample = now + self.sample_ns

    def _thin(self) -> None:
        self.sample_times = self.sample_times[::2]
        self.samples = [values[::2] for values in self.samples]
        self.sample_ns *= 2

    def sampled(self, index: int) -> tuple[array[int], array[int]]:
        """(times, values) of resource ``index``'s samples."""
        return self.sample_times, self.samples[index]


_I64 = (1 << 63) - 1
_I32 = (1 << 31) - 1
_NO_TARGET = -(1 << 31)  #: a change with no target (-1 is one: a plain select's)


def _clamp(value: int, limit: int) -> int:
    """``value`` within a typed array's range (a damaged trace may say anything)."""
    return max(-limit, min(value, limit))


def sampled_kind(rtype: str) -> str:
    """What the lanes sample of a resource of type ``rtype`` ("" for nothing)."""
    if rtype in ("lock", "rlock"):
        return "lock"
    if rtype in ("semaphore", "bounded_semaphore"):
        return "semaphore"
    if rtype == "queue":
        return "queue"
    if rtype == "event":
        return "event"
    return ""


class NoLanes(Lanes):
    """Lanes that keep nothing: a folder restored from a checkpoint to show one
    instant needs no timeline of its own."""

    def __init__(self) -> None:
        super().__init__(0, ())
        self.next_sample = 1 << 62

    def change(self, t: int, actor: int, state: str, target: int | None, how: str | None) -> None:
        return None

    def sample(self, now: int, resources: Sequence[Any]) -> None:
        self.next_sample = 1 << 62


def state_columns(
    lane: ActorLane, start: int, span: int, width: int, end: int
) -> list[tuple[str, int | None] | None]:
    """The lane over ``width`` columns from monotonic ``start`` for ``span`` ns: each
    column's (state, target) that took most of its time (None where the lane has
    nothing: before its first change, or after ``end``, the run's present)."""
    if width <= 0 or span <= 0:
        return [None] * max(width, 0)
    times, codes, targets = lane.times, lane.codes, lane.targets
    n = len(targets)  # appended last: the three agree up to here (another thread appends)
    best: list[tuple[str, int | None] | None] = [None] * width
    best_ns = [0] * width
    parts: dict[int, dict[tuple[str, int | None], int]] = {}
    dt = span / width
    first = max(bisect_right(times, start, 0, n) - 1, 0)
    stop = min(end, start + span)
    for k in range(first, n):
        a = max(times[k], start)
        b = min(times[k + 1] if k + 1 < n else end, stop)
        if a >= stop:
            break
        if b <= a:
            continue
        code, target = codes[k], targets[k]
        key = (STATES[code >> _HOW_BITS], None if target == _NO_TARGET else target)
        c0, c1 = int((a - start) / dt), min(int((b - start) / dt), width - 1)
        if c0 == c1:
            acc = parts.setdefault(c0, {})
            acc[key] = acc.get(key, 0) + (b - a)
            continue
        first_end = start + (c0 + 1) * dt
        acc = parts.setdefault(c0, {})
        acc[key] = acc.get(key, 0) + int(first_end - a)
        for c in range(c0 + 1, c1):
            best[c], best_ns[c] = key, int(dt)
            parts.pop(c, None)
        acc = parts.setdefault(c1, {})
        acc[key] = acc.get(key, 0) + int(b - (start + c1 * dt))
    for c, acc in parts.items():
        key, ns = max(acc.items(), key=lambda kv: kv[1])
        if 0 <= c < width and ns >= best_ns[c]:
            best[c] = key
    return best


def sampled_columns(
    times: array[int], values: array[int], start: int, span: int, width: int, end: int
) -> list[int | None]:
    """A resource's sampled value at the end of each of ``width`` columns (None where
    there is no sample yet, or after ``end``)."""
    out: list[int | None] = []
    n = min(len(times), len(values))
    for c in range(width):
        at = start + span * (c + 1) / width
        if at - span / width > end:
            out.append(None)
            continue
        k = bisect_right(times, min(at, end), 0, n) - 1
        out.append(values[k] if k >= 0 else None)
    return out
