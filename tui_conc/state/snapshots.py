"""Turn the fold's working state into immutable :class:`Snapshot`s."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from operator import attrgetter
from typing import TYPE_CHECKING

from tui_conc.engine.wire import events as ev
from tui_conc.state import model as sm
from tui_conc.state.records import Actor

if TYPE_CHECKING:
    from tui_conc.state.fold import StateFolder

_IO_HOWS = ev.IO_HOWS
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
                    history=tuple(r.history),
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
        elapsed_s=max(end - folder.t0, 0) / 1e9,
        actors=_actor_views(folder, now, actor_limit),
        actor_total=len(folder.actors),
        actor_states=_state_counts(folder),
        locks=tuple(locks),
        queues=tuple(queues),
        events=tuple(events),
        barriers=tuple(barriers),
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
    )


def _span(first: int | None, last: int | None) -> float:
    return 0.0 if first is None or last is None else max(last - first, 0) / 1e9


def _state_counts(folder: StateFolder) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(Counter(map(_STATE, folder.actors)).items()))


def _actor_views(
    folder: StateFolder, now: int, limit: int | None = None
) -> tuple[sm.ActorView, ...]:
    out = []
    for a in _shown(folder, limit):
        target = _target_name(folder, a)
        step = ""
        if 0 <= a.step < len(folder.steps):
            line, text = folder.steps[a.step]
            step = f"L{line} {text}"
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
                since_s=max(now - a.since, 0) / 1e9,
                timeout=a.timeout,
                detail=a.detail,
                history=tuple(a.history),
                pid=a.pid,
                ppid=a.ppid,
                cpu_s=a.cpu_s,
                wall_s=None if a.started is None else ((a.ended or now) - a.started) / 1e9,
                started_s=None if a.started is None else (a.started - folder.t0) / 1e9,
            )
        )
    return tuple(out)


def _shown(folder: StateFolder, limit: int | None) -> list[Actor]:
    """The first ``limit`` actors, but never without the first of each group
    (10,000 workers must not hide the one drain greenlet)."""
    actors = folder.actors
    if limit is None or len(actors) <= limit:
        return actors
    chosen = {a.index: a for a in folder.group_firsts[:limit]}
    for a in actors:
        if len(chosen) >= limit:
            break
        chosen.setdefault(a.index, a)
    return [chosen[i] for i in sorted(chosen)]


def _target_name(folder: StateFolder, a: Actor) -> str | None:
    if a.target is None:
        return None
    if a.how in ("join", "switch"):
        return folder.actors[a.target].name
    if a.how == "select":
        return "select.select" if a.target < 0 else folder.resources[a.target].name
    if a.how in _IO_HOWS:
        sock = folder.sockets.get(a.target)
        return sock.label if sock else f"socket {a.target}"
    return folder.resources[a.target].name


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
        for a in folder.actors:
            if a.group != folder.resources[index].name:
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
