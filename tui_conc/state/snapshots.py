"""Turn the fold's working state into immutable :class:`Snapshot`s."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from operator import attrgetter
from typing import TYPE_CHECKING

from tui_conc.engine.wire import events as ev
from tui_conc.state import model as sm
from tui_conc.state.records import HISTORY_KEEP, STATES_KEEP, Actor, LazyHistory, Resource

if TYPE_CHECKING:
    from tui_conc.state.fold import StateFolder

#: One depth sample per this much run time (as the fold keeps them).
HISTORY_BUCKET_NS = 100_000_000

_IO_HOWS = ev.IO_HOWS
_LOCKLIKE = frozenset({"lock", "rlock", "semaphore", "bounded_semaphore", "condition"})
_STATE = attrgetter("state")


def take_snapshot(
    folder: StateFolder,
    status: str,
    now: int | None,
    cycle: tuple[sm.CycleEdge, ...],
    stalled: bool,
    log_tail: int,
    actor_limit: int | None = None,
) -> sm.Snapshot:
    """The whole state of ``folder`` at ``now`` (monotonic ns), immutable.

    ``actor_limit`` keeps only the first actors' views (a live panel cannot
    show ten thousand rows); ``actor_states`` still counts every actor.
    """
    now = max(folder.now if now is None else now, folder.now)
    locks, queues, events, variables, barriers = [], [], [], [], []
    for r in folder.resources:
        if r.type in ("lock", "rlock", "semaphore", "bounded_semaphore", "condition"):
            waiters = tuple(folder.actors[i].name for i, h in r.waiters.items() if h == "acquire")
            cond = tuple(folder.actors[i].name for i, h in r.waiters.items() if h == "cond")
            sem = r.counting
            locks.append(
                sm.LockView(
                    name=r.name,
                    kind=r.type,
                    owners=tuple((folder.actors[i].name, n) for i, n in r.holders.items()),
                    waiters=waiters,
                    cond_waiters=cond,
                    value=r.value if sem else None,
                    initial=r.initial if sem else None,
                    acquisitions=r.acquisitions,
                    contended=r.contended,
                    max_holders=r.max_holders,
                    waves=r.waves,
                    busy_s=_span(r.first_acq, r.last_rel),
                    stale=tuple(folder.actors[i].name for i in r.stale),
                    expiries=r.expiries,
                )
            )
        elif r.type in ("queue", "pipe"):
            by_how = {"put": [], "get": [], "qjoin": []}
            for i, how in r.waiters.items():
                by_how.setdefault(how, []).append(folder.actors[i].name)
            queues.append(
                sm.QueueView(
                    name=r.name,
                    kind=r.kind if r.type == "queue" else "pipe",
                    maxsize=r.maxsize,
                    depth=r.depth,
                    max_depth=r.max_depth,
                    puts=r.puts,
                    gets=r.gets,
                    put_blocks=r.put_blocks,
                    get_blocks=r.get_blocks,
                    fulls=r.fulls,
                    empties=r.empties,
                    tasks_done=r.tasks_done,
                    blocked_put=tuple(by_how["put"]),
                    blocked_get=tuple(by_how["get"]),
                    joiners=tuple(by_how["qjoin"]),
                    history=_history_to(folder, r, now),
                    values=tuple(r.got_values),
                )
            )
        elif r.type == "event":
            events.append(sm.EventView(r.name, r.is_set, _names(folder, r.waiters), r.sets))
        elif r.type == "barrier":
            rounds = r.sets // r.parties if r.parties else 0
            barriers.append(
                sm.BarrierView(r.name, r.parties, _names(folder, r.waiters), rounds, r.broken)
            )
        elif r.type in ("variable", "dict", "list"):
            variables.append(sm.VariableView(r.name, r.value, r.reads, r.writes))
    names = {s.id: s.label for s in folder.sockets.values()}
    sockets = tuple(
        sm.SocketView(
            id=s.id,
            label=s.label,
            role=s.role,
            owner=folder.actors[s.owner].name if s.owner >= 0 else "run",
            open=s.open,
            bytes_in=s.bytes_in,
            bytes_out=s.bytes_out,
            misses=s.misses,
            reads=s.reads,
            accepted=s.accepted,
            open_conns=s.open_conns,
            max_open=s.max_open,
        )
        for s in folder.sockets.values()
    )
    selects = tuple(
        sm.SelectView(
            name=sel.name,
            calls=sel.calls,
            blocked_s=sel.blocked_ns / 1e9,
            last_ready=tuple(names.get(i, str(i)) for i in sel.last_ready),
            watched=tuple(names.get(i, str(i)) for i in sel.watched),
            ready_sizes=tuple(sel.ready_sizes),
        )
        for sel in folder.selects.values()
    )
    end = folder.ended_at if folder.ended_at is not None else now
    log = [
        sm.LogLine(seq, (t - folder.t0) / 1e9, folder.actors[a].name if a >= 0 else "run", text)
        for seq, t, a, text in list(folder.log)[-log_tail:]
    ]
    return sm.Snapshot(
        title=folder.title,
        t0=folder.t0,
        now=now if folder.ended_at is None else folder.ended_at,
        status=status,
        elapsed_s=folder.active_ns(folder.t0, end) / 1e9,
        actors=_actor_views(folder, now, actor_limit, {e.actor for e in cycle}),
        actor_total=len(folder.actors),
        actor_states=_state_counts(folder),
        locks=tuple(locks),
        queues=tuple(queues),
        events=tuple(events),
        barriers=tuple(barriers),
        resource_names=folder.resource_names,
        actor_names=folder.actor_names,
        variables=tuple(variables),
        sockets=sockets,
        selects=selects,
        pools=_pool_views(folder, now),
        log=tuple(log),
        log_total=folder.log_total,
        cycle=cycle,
        stalled=stalled,
        error=folder.error,
        events_folded=folder.count,
        knobs=dict(folder.knobs),
        backend=folder.backend,
        hub=_hub_view(folder) if folder.backend == "gevent" else None,
        schedule=_schedule_view(folder),
    )


def _schedule_view(folder: StateFolder) -> sm.ScheduleView | None:
    """A controlled run's choices and options (None for a free run)."""
    if folder.choices is None:
        return None
    names = folder.actor_names
    options = []
    for a, step, why in folder.offer if folder.ended_at is None else ():
        line, text = folder.steps[step] if 0 <= step < len(folder.steps) else (0, "")
        options.append(sm.StepOption(names[a], a, line, text, why))
    return sm.ScheduleView(tuple(names[a] for a in folder.choices), tuple(options), folder.clock_s)


def _span(first: int | None, last: int | None) -> float:
    return 0.0 if first is None or last is None else max(last - first, 0) / 1e9


def _state_counts(folder: StateFolder) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(Counter(map(_STATE, folder.actors)).items()))


def _actor_views(
    folder: StateFolder, now: int, limit: int | None = None, cycle: set[str] | None = None
) -> tuple[sm.ActorView, ...]:
    out = []
    holding = _holding(folder)
    active = folder.active_ns
    for a in _shown(folder, limit, cycle or set()):
        target = _target_name(folder, a)
        step = _step_text(folder, a.step)
        out.append(
            sm.ActorView(
                index=a.index,
                name=a.name,
                group=a.group,
                native_id=a.native_id,
                daemon=a.daemon,
                state=a.state,
                target=target,
                how=a.how,
                step=step,
                since_s=active(a.since, now) / 1e9,
                timeout=a.timeout,
                detail=a.detail,
                history=_actor_history(folder, a),
                pid=a.pid,
                ppid=a.ppid,
                where=a.where,
                cpu_s=a.cpu_s,
                wall_s=None if a.started is None else active(a.started, a.ended or now) / 1e9,
                started_s=None if a.started is None else (a.started - folder.t0) / 1e9,
                holds=tuple(holding.get(a.index, ())),
                parked=_step_text(folder, a.parked),
            )
        )
    return tuple(out)


#: A limited snapshot chooses its actors again at most this often (ns).
RECHOOSE_NS = 250_000_000
#: How interesting each state is (lower first) when a snapshot can show only some.
_STATE_RANK = {
    sm.FAILED: 1,
    sm.BLOCKED: 4,
    sm.WAITING: 4,
    sm.RUNNING: 5,
    sm.SLEEPING: 5,
    sm.COMPUTING: 5,
    sm.IN_IO: 5,
    sm.NEW: 6,
    sm.KILLED: 7,
    sm.DONE: 8,
}


def interest(state: str, holds: bool, in_cycle: bool) -> int:
    """How interesting an actor is now (lower first): a deadlock's members, the
    failed, holders that wait, holders, waiters, the active, the new, the ended."""
    if in_cycle:
        return 0
    rank = _STATE_RANK.get(state, 5)
    if holds and rank in (4, 5):
        return 2 if rank == 4 else 3
    return rank


def _shown(folder: StateFolder, limit: int | None, cycle: set[str]) -> list[Actor]:
    """Every actor, or for a limited snapshot the ``limit`` most interesting (the
    first of each group always among them: 10,000 workers must not hide the one
    drain greenlet), chosen again at most every RECHOOSE_NS, in declared order."""
    actors = folder.actors
    if limit is None or len(actors) <= limit:
        return actors
    cached = folder.shown_cache
    if cached is not None and folder.now - cached[0] < RECHOOSE_NS and not cycle:
        return [actors[i] for i in cached[1]]
    holding = _holding(folder)
    buckets: list[list[int]] = [[] for _ in range(9)]
    for a in actors:
        bucket = buckets[interest(a.state, a.index in holding, a.name in cycle)]
        if len(bucket) < limit:
            bucket.append(a.index)
    chosen = {a.index for a in folder.group_firsts[:limit]}
    for bucket in buckets:
        for i in bucket:
            if len(chosen) >= limit:
                break
            chosen.add(i)
    indices = sorted(chosen)
    folder.shown_cache = (folder.now, indices)
    return [actors[i] for i in indices]


def _holding(folder: StateFolder) -> dict[int, list[tuple[str, int]]]:
    """Actor → the lock-likes it holds (name, holds), in resource order; a hold whose
    Dask lease the scheduler took back says so."""
    out: dict[int, list[tuple[str, int]]] = {}
    for r in folder.resources:
        if r.holders and r.type in _LOCKLIKE:
            for a, n in r.holders.items():
                name = f"{r.name} (lease expired)" if r.stale.get(a) else r.name
                out.setdefault(a, []).append((name, n))
    return out


def _actor_history(folder: StateFolder, a: Actor) -> tuple[tuple, ...]:
    """An actor's latest state changes; for a folder restored from a checkpoint, read
    from the whole run's lanes (the checkpoint left them out)."""
    if not isinstance(a.history, LazyHistory):
        return tuple(a.history)
    lanes = folder.full_lanes
    if lanes is None or a.index >= len(lanes.actors):
        return tuple(a.history)
    lane = lanes.actors[a.index]
    if len(lane.targets) < a.changes:
        return tuple(a.history)  # the lanes stopped before now: what was folded since
    return tuple(lane.recent(a.changes, STATES_KEEP))


def _history_to(folder: StateFolder, r: Resource, now: int) -> tuple[int, ...]:
    """A queue's depth per 100 ms up to ``now`` (buckets with no event repeat the depth),
    its last sample the depth now."""
    end = folder.ended_at if folder.ended_at is not None else now
    bucket = max(end - folder.t0, 0) // HISTORY_BUCKET_NS
    gap = min(int(bucket - r.history_bucket), HISTORY_KEEP)
    history = list(r.history)
    if gap > 0:
        history.extend([r.depth] * gap)
    if history:
        history[-1] = r.depth
    return tuple(history[-HISTORY_KEEP:])


def _step_text(folder: StateFolder, step: int) -> str:
    if 0 <= step < len(folder.steps):
        line, text = folder.steps[step]
        return f"L{line} {text}" if line else text  # 0: not a line (a traced exit)
    return ""


def _target_name(folder: StateFolder, a: Actor) -> str | None:
    return _name_of(folder, a.target, a.how)


def _name_of(folder: StateFolder, target: int | None, how: str | None) -> str | None:
    """The name of what a wait is on: an actor, a resource, a socket, a selector."""
    if target is None:
        return None
    if how in ("join", "switch", "await"):
        return folder.actors[target].name
    if how == "future":
        return "a future (a timer, IO, a callback)"
    if how == "select":
        return "select.select" if target < 0 else folder.resources[target].name
    if how in _IO_HOWS:
        sock = folder.sockets.get(target)
        return sock.label if sock else f"socket {target}"
    return folder.resources[target].name


def _names(folder: StateFolder, ids: Iterable[int]) -> tuple[str, ...]:
    return tuple(folder.actors[i].name for i in ids)


def _hub_view(folder: StateFolder) -> sm.HubView:
    blocked = tuple(
        (folder.actors[a].name if a >= 0 else "?", ms, (t - folder.t0) / 1e9)
        for a, ms, t in folder.hub_blocked
    )
    return sm.HubView(folder.hub_switches, blocked)


def _pool_views(folder: StateFolder, now: int) -> tuple[sm.PoolView, ...]:
    out = []
    for index, pool in folder.pools.items():
        lanes = []
        # its workers: the group named after it (a scenario's), or whoever has run its
        # tasks (a traced program's processes or threads)
        name = folder.resources[index].name
        for a in folder.actors:
            if a.group != name and a.index not in pool.running and a.index not in pool.lane_done:
                continue
            task_id, since = pool.running.get(a.index, (None, now))
            lanes.append(
                sm.LaneView(
                    actor=a.name,
                    pid=a.pid,
                    state=a.state,
                    task=pool.labels.get(task_id, "") if task_id is not None else "",
                    task_s=max(now - since, 0) / 1e9,
                    done=pool.lane_done.get(a.index, 0),
                )
            )
        out.append(
            sm.PoolView(
                name=folder.resources[index].name,
                workers=pool.workers,
                lanes=tuple(lanes),
                waiting=tuple(list(pool.queued.values())[:50]),
                waiting_count=len(pool.queued),
                submitted=pool.submitted,
                done=pool.done,
                failed=pool.failed,
                killed=pool.killed,
                never_ran=tuple(pool.never_ran),
                max_busy=pool.max_busy,
                closed=pool.closed,
                terminated=pool.terminated,
                last_failure=pool.last_failure,
                lost=tuple(pool.lost),
            )
        )
    return tuple(out)
