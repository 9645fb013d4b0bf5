"""Fold an event stream into the state of a run.

The fold is deterministic: the same header and events give the same state,
whether they come live from a runner, from a trace file or from a test. It
keeps mutable working state for speed (a live run can send over a million
events a second) and hands out immutable :class:`Snapshot`s. Memory stays
bounded: the log and the depth histories keep only their latest entries.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.scenario.model import REMOTE_BACKENDS
from tui_conc.state import model as sm
from tui_conc.state.fold_outside import OutsideFolding
from tui_conc.state.fold_traced import TracedFolding
from tui_conc.state.lanes import Lanes, NoLanes
from tui_conc.state.records import HISTORY_KEEP, Actor, Pool, Resource, Select, Socket
from tui_conc.state.snapshots import take_snapshot

LOG_KEEP = 20_000  #: log lines kept (for the panel and for log_count)
HISTORY_BUCKET_NS = 100_000_000  #: one depth sample per 100 ms of run time
WAVE_GAP_NS = 100_000_000  #: acquisitions this far apart start a new wave (at least)
#: A semaphore's hold times (for its wave gap) are sampled over its first acquisitions.
WAVE_SAMPLE = 1_000

_WAITING_HOWS = frozenset(
    {"event", "cond", "join", "qjoin", "switch", "pipe", "pool", "barrier", "await", "future"}
)
_ACTOR_HOWS = frozenset({"join", "switch", "await"})  #: waits whose target is an actor
_IO_HOWS = ev.IO_HOWS
#: The fast-path kinds, in the order the fold tests them.
_FAST = (ev.ACQUIRED, ev.RELEASED, ev.PUT, ev.GOT, ev.TASK_DONE)


class StateFolder(OutsideFolding, TracedFolding):
    """Working state of one run; ``fold`` events in, take ``snapshot``s out."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.header = header
        self.title: str = header.get("title", "")
        self.t0: int = int(header.get("t0", 0))
        self.now: int = self.t0
        self.knobs: dict[str, Any] = dict(header.get("knobs", {}))
        self.steps: list[tuple[int, str]] = [tuple(s) for s in header.get("steps", [])]
        self.actors = [Actor(i, a, self.t0) for i, a in enumerate(header.get("actors", []))]
        firsts: dict[str, Actor] = {}
        for actor in self.actors:
            firsts.setdefault(actor.group, actor)
        #: The first actor of every group, in order (a limited snapshot always shows them).
        self.group_firsts = tuple(firsts.values())
        self.resources = [Resource(i, r) for i, r in enumerate(header.get("resources", []))]
        self.sockets: dict[int, Socket] = {}
        self.pools = {
            i: Pool(int(r.get("workers", 0)))
            for i, r in enumerate(header.get("resources", []))
            if r.get("type") == "pool"
        }
        #: A pool's worker lanes are the actors of the group named after it.
        self.pool_of = {self.resources[i].name: i for i in self.pools}
        self.selects: dict[int, Select] = {}  #: selector resource index (-1: plain select)
        self.backend: str = header.get("backend", "thread")
        #: Actors inside a WAIT right now.
        self.waiting: set[int] = set()
        #: What each actor's steps may do to each resource (None: unknown, an old
        #: trace: anything), for the analysis of who could wake whom.
        self._may = _effects_by_actor(header, self.actors)
        self.effects_known = "effects" in header
        self.autostart: dict[str, bool] = dict(header.get("autostart", {}))
        self.starters: dict[str, list[str]] = dict(header.get("starters", {}))
        self._by_name = {a.name: a.index for a in self.actors}
        self.actor_names = tuple(a.name for a in self.actors)
        self.resource_names = tuple(r.name for r in self.resources)
        #: Actors waiting on a condition that a notify has already woken.
        self.notified: set[int] = set()
        #: The backend itself found that nothing can ever run again (gevent's LoopExit).
        self.blocked_forever = False
        #: When an actor was last killed (a killed process's last events die with it).
        self.last_kill: int | None = None
        self.hub_switches = 0
        self.hub_blocked: deque[tuple[int, float, int]] = deque(maxlen=50)
        self.log: deque[tuple[int, int, int, str]] = deque(maxlen=LOG_KEEP)
        self.log_total = 0
        self.count = 0
        self.paused = False
        #: [start, end] of every pause (end None while paused): paused time does not count
        self.pauses: list[list[int | None]] = []
        #: (when, indices): the actors a limited snapshot chose last (see snapshots._shown)
        self.shown_cache: tuple[int, list[int]] | None = None
        self.ended_at: int | None = None
        self.end_reason: str | None = None
        self.error: str | None = header.get("error")
        #: the whole run's state changes and resource samples, for the Timeline
        self.lanes = Lanes(len(self.actors), self.resources)
        #: a folder restored from a checkpoint: the run's own lanes (see LazyHistory)
        self.full_lanes: Lanes | None = None
        #: a controlled run: the actors chosen so far, what is offered next, virtual time
        self.choices: list[int] | None = None
        self.offer: list[tuple[int, int, str]] = []
        self.clock_s = 0.0
        self._handlers = self._make_handlers()

    def _make_handlers(self) -> dict[int, Any]:
        return {
            ev.CLOCK: self._clock,
            ev.ACTOR_START: self._actor_start,
            ev.ACTOR_SPAWNED: self._actor_spawned,
            ev.ACTOR_NEW: self._actor_new,
            ev.RESOURCE_NEW: self._resource_new,
            ev.SITE_NEW: self._site_new,
            ev.ACTOR_DONE: self._actor_end,
            ev.ACTOR_FAILED: self._actor_end,
            ev.ACTOR_KILLED: self._actor_end,
            ev.WAIT: self._wait,
            ev.WAKE: self._wake,
            ev.SLEEP: self._sleep,
            ev.COMPUTE: self._sleep,
            ev.RUN: self._run,
            ev.FULL: self._full,
            ev.EMPTY: self._full,
            ev.SET: self._set,
            ev.CLEAR: self._set,
            ev.NOTIFY: self._notify,
            ev.BLOCKED_FOREVER: self._blocked_forever,
            ev.READ: self._rw,
            ev.WRITE: self._rw,
            ev.LOG: self._log,
            ev.PAUSED: self._pause,
            ev.RESUMED: self._pause,
            ev.PARKED: self._parked,
            ev.OFFER: self._offer,
            ev.CHOSEN: self._chosen,
            ev.PROGRESS: self._progress,
            ev.END: self._end,
            ev.ERROR: self._end,
            ev.SOCK_OPEN: self._sock_open,
            ev.SOCK_CLOSE: self._sock_close,
            ev.SENT: self._traffic,
            ev.RECEIVED: self._traffic,
            ev.IO_MISS: self._io_miss,
            ev.SELECTED: self._selected,
            ev.REGISTER: self._clock,  # who is watched shows in each SELECTED event
            ev.UNREGISTER: self._clock,
            ev.HUB: self._hub,
            ev.HUB_BLOCKED: self._hub,
            ev.GOT_ITEM: self._got_item,
            ev.STORED: self._stored,
            ev.APPENDED: self._stored,
            ev.HOLDS: self._holds,
            ev.LEASE: self._lease,
            ev.LEASE_EXPIRED: self._lease_expired,
            ev.SUBMIT: self._pool_event,
            ev.TASK_BEGIN: self._pool_event,
            ev.TASK_END: self._pool_event,
            ev.POOL_CLOSE: self._pool_event,
            ev.POOL_TERMINATE: self._pool_event,
        }

    def __getstate__(self) -> dict[str, Any]:
        """A checkpoint's copy: everything but the handlers (rebuilt) and the lanes
        (a restored folder shows one instant; the live one keeps the timeline)."""
        dropped = ("_handlers", "lanes", "full_lanes")
        state = {k: getattr(self, k) for k in self.__dict__ if k not in dropped}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lanes = NoLanes()
        self._handlers = self._make_handlers()

    # ------------------------------------------------------------ folding

    def fold(self, events: Sequence[Sequence[Any]]) -> None:
        """Apply events in stream order."""
        res, actors, handlers, lanes = self.resources, self.actors, self._handlers, self.lanes
        # locals, not module attributes: this loop runs a million times a second
        acquired, released, put, got, task_done = _FAST
        blocked, running = sm.BLOCKED, sm.RUNNING
        now = self.now  #: only the handlers move the clock: re-read after each
        for e in events:
            kind = e[0]
            if kind == acquired:
                r = res[e[2]]
                holders = r.holders
                if r.type == "lock" and not holders and r.last_acq + WAVE_GAP_NS > now:
                    # the hot path: a free plain lock, taken again within a wave
                    holders[e[1]] = 1
                    r.acquisitions += 1
                    r.last_acq = now
                    if r.max_holders == 0:
                        r.max_holders = 1
                    actor = actors[e[1]]
                    if actor.state == blocked and actor.target == r.index:
                        self._to(actor, running, now)
                    r.waiters.pop(e[1], None)
                elif r.counting and r.last_acq + r.wave_gap > now and not r.waiters:
                    # the hot path of a semaphore with permits left, within a wave
                    a = e[1]
                    holders[a] = holders.get(a, 0) + 1
                    if r.acquisitions < WAVE_SAMPLE:
                        r.acquired_at[a] = now
                    r.acquisitions += 1
                    r.value -= 1
                    r.last_acq = now
                    # held permits, not initial - value: a stray release adds a permit
                    held = sum(holders.values())
                    if held > r.max_holders:
                        r.max_holders = held
                    # nobody waits on r, so nobody is blocked on it: no state to change
                else:
                    self._acquired(actors[e[1]], r)
            elif kind == released:
                r = res[e[2]]
                holders = r.holders
                a = e[1]
                r.released = True
                r.last_rel = now
                if r.counting:
                    if r.stale and r.stale.get(a):  # its lease had expired: no permit back
                        self._unstale(r, a)
                    else:
                        r.value += 1  # any thread may release a semaphore
                    if r.acquired_at:  # waves: pauses of half a hold or more
                        taken = r.acquired_at.pop(a, None)
                        if taken is not None:
                            r.wave_gap = max(WAVE_GAP_NS, (now - taken) // 2)
                if a in holders:
                    if holders[a] > 1:
                        holders[a] -= 1
                    else:
                        del holders[a]
                    if r.stale and not r.counting and r.stale.get(a):
                        self._unstale(r, a)
                elif r.type == "lock":
                    holders.clear()  # a plain Lock may be released by any thread
            elif kind == put:
                r = res[e[2]]
                r.puts += 1
                r.depth += 1
                if r.depth > r.max_depth:
                    r.max_depth = r.depth
                self._sample(r)
            elif kind == got:
                r = res[e[2]]
                r.gets += 1
                r.depth -= 1
                self._sample(r)
            elif kind == task_done:
                res[e[2]].tasks_done += 1
            else:
                handlers[kind](e)
                now = self.now
                if now >= lanes.next_sample:
                    lanes.sample(now, res)
        self.count += len(events)

    def _acquired(self, actor: Actor, r: Resource) -> None:
        if r.first_acq is None:
            r.first_acq = self.now
        holders = r.holders
        a = actor.index
        holders[a] = holders.get(a, 0) + 1
        r.acquisitions += 1
        if r.counting:
            r.value -= 1
            if r.acquisitions <= WAVE_SAMPLE:
                r.acquired_at[a] = self.now
            held = sum(holders.values())
        else:
            held = len(holders)
        if held > r.max_holders:
            r.max_holders = held
        now = self.now
        # a new wave: acquisitions resume after a pause, on permits given back meanwhile
        # (processes that start one by one do not split the first wave)
        if now - r.last_acq >= r.wave_gap and (r.released or not r.waves):
            r.waves += 1
            r.released = False
        r.last_acq = now
        if actor.target == r.index and actor.state == sm.BLOCKED:
            self._to(actor, sm.RUNNING, now)
        r.waiters.pop(a, None)

    def _sample(self, r: Resource) -> None:
        if self.now - self.t0 < r.bucket_end:
            if r.depth > r.history[-1]:
                r.history[-1] = r.depth
            return
        bucket = (self.now - self.t0) // HISTORY_BUCKET_NS
        r.bucket_end = (bucket + 1) * HISTORY_BUCKET_NS
        if bucket == r.history_bucket:
            if r.depth > r.history[-1]:
                r.history[-1] = r.depth
            return
        last = r.history[-1]
        gap = min(int(bucket - r.history_bucket) - 1, HISTORY_KEEP)
        r.history.extend([last] * max(gap, 0))
        r.history.append(r.depth)
        r.history_bucket = bucket

    def _to(self, actor: Actor, state: str, t: int) -> None:
        self.waiting.discard(actor.index)
        self.notified.discard(actor.index)
        actor.parked = -1
        if state != actor.state:
            actor.history.append((t, state, None, None))
            actor.changes += 1
            self.lanes.change(t, actor.index, state, None, None)
        actor.state = state
        actor.since = t
        actor.target = None
        actor.how = None
        actor.timeout = None

    def _clock(self, e: Sequence[Any]) -> None:
        self.now = e[3]

    def _actor_start(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        actor = self.actors[e[1]]
        actor.native_id = e[4]
        actor.started = e[3]
        actor.spawned = False
        actor.detail = ""
        actor.ended = None
        if len(e) > 6:
            actor.pid, actor.ppid = e[5], e[6]
        if len(e) > 7:
            actor.where = str(e[7])
        self._to(actor, sm.RUNNING, e[3])

    def _actor_spawned(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        actor = self.actors[e[1]]
        actor.spawned = True
        if self.backend in REMOTE_BACKENDS:
            actor.detail = "spawning"  # a child process (a task) takes a while to report

    def _actor_end(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        actor = self.actors[e[1]]
        if actor.state in sm.ENDED_STATES and e[0] == ev.ACTOR_DONE:
            return  # a pool worker killed by terminate reports no normal end after it
        state = {ev.ACTOR_DONE: sm.DONE, ev.ACTOR_FAILED: sm.FAILED}.get(e[0], sm.KILLED)
        if state == sm.KILLED:
            self.last_kill = e[3]
            self._lose_task(actor)
        if self._waits_on_resource(actor):
            self.resources[actor.target].waiters.pop(actor.index, None)  # type: ignore[index]
        self._to(actor, state, e[3])
        actor.ended = e[3]
        actor.spawned = False
        if len(e) > 4:
            if e[0] == ev.ACTOR_DONE:
                actor.cpu_s = float(e[4])
            else:
                actor.detail = str(e[4])
        if state == sm.FAILED:  # said in the log too, where the story is read
            self.log_total += 1
            self.log.append((self.log_total, e[3], actor.index, f"✗ failed: {actor.detail}"))

    def _wait(self, e: Sequence[Any]) -> None:
        self.now = t = e[3]
        actor = self.actors[e[1]]
        if t < actor.since:  # late (see _run): the actor has moved on since
            return
        how = e[5]
        if how in _IO_HOWS:
            state = sm.IN_IO
        elif how in _WAITING_HOWS:
            state = sm.WAITING
        else:
            state = sm.BLOCKED
        actor.history.append((t, state, e[2], how))
        actor.changes += 1
        self.lanes.change(t, actor.index, state, e[2], how)
        actor.parked = -1
        actor.state = state
        actor.since = t
        actor.target = e[2]
        actor.how = how
        actor.step = e[4]
        actor.timeout = e[6]
        self.waiting.add(actor.index)
        if how in _ACTOR_HOWS or how in _IO_HOWS or how == "future":
            return
        r = self.resources[e[2]]
        r.waiters[actor.index] = how
        if how == "acquire":
            r.contended += 1
        elif how == "put":
            r.put_blocks += 1
        elif how == "get":
            r.get_blocks += 1

    def _wake(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        actor = self.actors[e[1]]
        if e[3] < actor.since:  # late: not the wait the actor is in now
            return
        if self._waits_on_resource(actor):
            r = self.resources[actor.target]  # type: ignore[index]
            r.waiters.pop(actor.index, None)
            if actor.how == "barrier":
                if e[4]:
                    r.sets += 1  # one party through
                else:
                    r.broken = True  # a timeout breaks a barrier for everyone
        self._to(actor, sm.RUNNING, e[3])

    @staticmethod
    def _waits_on_resource(actor: Actor) -> bool:
        return (
            actor.target is not None
            and actor.how not in _ACTOR_HOWS
            and actor.how not in _IO_HOWS
            and actor.how != "future"
        )

    def _got_item(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        r = self.resources[e[2]]
        r.gets += 1
        r.depth -= 1
        r.got_values.append(e[4])
        self._sample(r)

    def _stored(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        r = self.resources[e[2]]
        if e[0] == ev.STORED:
            r.value = {**(r.value or {}), e[4]: e[5]}
        else:
            r.value = [*(r.value or []), e[4]]
        r.writes += 1

    def _sleep(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        actor = self.actors[e[1]]
        if e[3] < actor.since:  # late: see _run
            return
        self._to(actor, sm.SLEEPING if e[0] == ev.SLEEP else sm.COMPUTING, e[3])
        actor.step = e[4]
        actor.detail = f"{e[5]:.2f}s" if e[0] == ev.SLEEP else f"{e[5]:,} iterations"
        actor.work = e[5] if e[0] == ev.COMPUTE else 0

    def _run(self, e: Sequence[Any]) -> None:
        """An actor runs again. A state change older than the actor's present state
        (``since``) is *late* — a batch that came behind later ones (a traced
        program's first events, as it turns into a merged stream, on a busy machine):
        one thread's events are in time order, so it is history, not news, and must
        not take the actor out of the wait it is in now."""
        self.now = e[3]
        actor = self.actors[e[1]]
        if e[3] < actor.since:
            return
        self._to(actor, sm.RUNNING, e[3])
        actor.detail = ""

    def _full(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        r = self.resources[e[2]]
        if e[0] == ev.FULL:
            r.fulls += 1
        else:
            r.empties += 1

    def _notify(self, e: Sequence[Any]) -> None:
        """Condition.notify(n) wakes the n longest waiters (all for notify_all)."""
        self.now = e[3]
        n = e[4]
        waiting = [
            a
            for a, how in self.resources[e[2]].waiters.items()
            if how == "cond" and a not in self.notified
        ]
        self.notified.update(waiting if n < 0 else waiting[:n])

    def _blocked_forever(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        self.blocked_forever = True

    def _set(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        r = self.resources[e[2]]
        r.is_set = e[0] == ev.SET
        r.sets += e[0] == ev.SET

    def _rw(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        r = self.resources[e[2]]
        if e[0] == ev.WRITE:
            r.value = e[4]
            r.writes += 1
        else:
            r.reads += 1

    def _log(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        self.log_total += 1
        self.log.append((self.log_total, e[3], e[1], e[4]))

    def _pause(self, e: Sequence[Any]) -> None:
        self.now = t = e[3]
        paused = e[0] == ev.PAUSED
        if paused and not self.paused:
            self.pauses.append([t, None])
        elif not paused and self.paused and self.pauses:
            self.pauses[-1][1] = t
            for actor in self.actors:
                actor.parked = -1
        self.paused = paused

    def _parked(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        self.actors[e[1]].parked = e[4]

    def _offer(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        if self.choices is None:
            self.choices = []
        self.offer = [(int(a), int(step), str(why)) for a, step, why in e[4]]
        self.clock_s = float(e[5])
        for a, step, _ in self.offer:  # where each waits for its turn
            self.actors[a].parked = step

    def _chosen(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        if self.choices is None:
            self.choices = []
        self.choices.append(e[1])
        self.offer = []
        for actor in self.actors:
            actor.parked = -1

    def _progress(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        actor = self.actors[e[1]]
        actor.detail = f"{e[4]:,} of {actor.work:,} iterations"

    def active_ns(self, start: int, end: int) -> int:
        """Nanoseconds from ``start`` to ``end`` that were not spent paused."""
        span = max(end - start, 0)
        for begun, ended in self.pauses:
            stop = end if ended is None else ended
            span -= max(min(stop, end) - max(begun, start), 0)
        return max(span, 0)

    def _end(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        self.ended_at = e[3]
        if e[0] == ev.ERROR:
            self.error = str(e[4])
            self.end_reason = sm.ERROR
        else:
            self.end_reason = sm.FINISHED

    # ------------------------------------------------------------ questions

    def may(self, actor: int, verb: str, res: int) -> bool:
        """Could ``actor``'s steps do ``verb`` to resource ``res`` (see scenario.effects)?"""
        may = self._may[actor]
        return may is None or (verb, res) in may or (verb, -1) in may

    def index_of(self, name: str) -> int:
        """The index of the actor called ``name``."""
        return self._by_name[name]

    # ------------------------------------------------------------ snapshots

    def snapshot(
        self,
        status: str,
        now: int | None = None,
        cycle: tuple[sm.CycleEdge, ...] = (),
        stalled: bool = False,
        log_tail: int = 200,
        actor_limit: int | None = None,
        suspect: tuple[sm.CycleEdge, ...] = (),
        could_break: tuple[str, ...] = (),
        stopped: bool = False,
    ) -> sm.Snapshot:
        """An immutable view; ``now`` (monotonic ns) dates "time in state" and elapsed."""
        snap = take_snapshot(self, status, now, cycle, stalled, log_tail, actor_limit)
        if suspect or stopped:
            snap = replace(snap, suspect=suspect, could_break=could_break, stopped=stopped)
        return snap


def _effects_by_actor(
    header: dict[str, Any], actors: list[Actor]
) -> list[frozenset[tuple[str, int]] | None]:
    """Each actor's (verb, resource) pairs from the header's per-group effects."""
    effects = header.get("effects")
    if effects is None:
        return [None] * len(actors)
    by_group = {
        g: frozenset((verb, int(res)) for verb, res in pairs) for g, pairs in effects.items()
    }
    return [by_group.get(a.group, frozenset()) for a in actors]
