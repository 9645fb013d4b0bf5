"""A recorded run as Chrome trace-event JSON, for ui.perfetto.dev and chrome://tracing.

What goes in:

- a process per OS process of the run (one for a run on threads or greenlets),
  a track per actor, and on it a slice per state (``blocked on mutexA``,
  ``sleeping``, ``running`` …);
- a "resources" process with a track per lock: who held it, when;
- flow arrows from each release of a lock to the acquire it let happen, by
  another actor;
- counters for every queue's depth and every semaphore's value;
- an instant for the verdict (deadlock with its cycle, stall).

Times are whole microseconds since the run's start: every slice's end is
computed from the same rounded instants as the next one's start, so slices
on a track never overlap by a rounding (a fractional ``ts`` makes 1 ns
overlaps that the viewers draw as nesting).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from tui_conc.engine.wire import events as ev
from tui_conc.state import analysis
from tui_conc.state import model as sm
from tui_conc.state.fold import StateFolder
from tui_conc.state.history import build_history

RESOURCES_PID = 0  #: the "process" whose tracks are the locks
_LOCK_TID = 1_000_000  #: lock tracks: this plus the lock's index


class _Collector:
    """Walks the events once (after the fold has seen them) for what the lanes do
    not keep: lock holds, hand-overs, depths and values over time."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.t0 = int(header.get("t0", 0))
        self.now = self.t0
        resources = header.get("resources", [])
        self.types = [r.get("type", "") for r in resources]
        self.names = [r.get("name", "") for r in resources]
        self.locks = {i for i, t in enumerate(self.types) if t in ("lock", "rlock")}
        self.counted = {
            i for i, t in enumerate(self.types) if t in ("semaphore", "bounded_semaphore")
        }
        self.queues = {i for i, t in enumerate(self.types) if t == "queue"}
        self.value = {i: int(resources[i].get("value", 1) or 0) for i in self.counted}
        self.depth = {i: int(resources[i].get("initial", 0) or 0) for i in self.queues}
        self.depth_of: dict[int, int] = {}
        self.holds: dict[tuple[int, int], tuple[int, int]] = {}  #: (lock, actor) → (since, depth)
        self.slices: list[tuple[int, int, int, int]] = []  #: (lock, actor, start, end)
        self.released: dict[int, tuple[int, int]] = {}  #: lock → (actor, when) of the last release
        self.flows: list[tuple[int, int, int, int, int]] = []  #: (lock, from, at, to, at)
        self.counters: dict[int, list[tuple[int, int]]] = {}  #: resource → (µs, value)
        #: on Dask: lease id → (lock, actor); holds whose lease the scheduler took back
        self.leases: dict[str, tuple[int, int]] = {}
        self.stale: set[tuple[int, int]] = set()
        self.expiries: list[tuple[int, int, int]] = []  #: (lock, actor, when)

    def us(self, t: int) -> int:
        return (t - self.t0) // 1_000

    def see(self, _folder: StateFolder, batch: Sequence[Sequence[Any]]) -> None:
        acquired, released, put, got = ev.ACQUIRED, ev.RELEASED, ev.PUT, ev.GOT
        locks, counted, queues = self.locks, self.counted, self.queues
        for e in batch:
            kind = e[0]
            if kind >= ev.CLOCK:
                self.now = e[3]
                if kind == ev.LEASE and e[2] in locks:
                    self.leases[str(e[4])] = (e[2], e[1])
                elif kind == ev.LEASE_EXPIRED:
                    self._expired(str(e[4]))
                continue
            res = e[2]
            if kind == acquired:
                if res in locks:
                    self._acquired(res, e[1])
                elif res in counted:
                    self.value[res] -= 1
                    self._count(res, self.value[res])
            elif kind == released:
                if res in locks:
                    self._released(res, e[1])
                elif res in counted:
                    self.value[res] += 1
                    self._count(res, self.value[res])
            elif kind == put and res in queues:
                self.depth[res] += 1
                self._count(res, self.depth[res])
            elif kind == got and res in queues:
                self.depth[res] -= 1
                self._count(res, self.depth[res])

    def _acquired(self, lock: int, actor: int) -> None:
        since, depth = self.holds.get((lock, actor), (self.now, 0))
        self.holds[(lock, actor)] = (since, depth + 1)
        if depth == 0:
            last = self.released.get(lock)
            if last is not None and last[0] != actor:
                self.flows.append((lock, last[0], last[1], actor, self.now))
            self.released.pop(lock, None)

    def _expired(self, lease: str) -> None:
        """The scheduler took a lock's lease back: on the lock's track the hold ends here
        (another may take it now); the holder's own release, later, gives back nothing."""
        lock, actor = self.leases.pop(lease, (-1, -1))
        if (lock, actor) in self.holds:
            since, _ = self.holds.pop((lock, actor))
            self.slices.append((lock, actor, since, self.now))
            self.stale.add((lock, actor))
            self.expiries.append((lock, actor, self.now))

    def _released(self, lock: int, actor: int) -> None:
        if (lock, actor) in self.stale:
            self.stale.discard((lock, actor))
            return
        held = self.holds.get((lock, actor))
        if held is None:  # a plain Lock released by another thread: end its holder's hold
            holder = next((a for (r, a) in self.holds if r == lock), None)
            if holder is None:
                return
            actor, held = holder, self.holds[(lock, holder)]
        since, depth = held
        if depth > 1:
            self.holds[(lock, actor)] = (since, depth - 1)
            return
        del self.holds[(lock, actor)]
        self.slices.append((lock, actor, since, self.now))
        self.released[lock] = (actor, self.now)

    def _count(self, res: int, value: int) -> None:
        samples = self.counters.setdefault(res, [])
        at = self.us(self.now)
        if samples and samples[-1][0] == at:
            samples[-1] = (at, value)  # one value per microsecond: the last
        else:
            samples.append((at, value))


def chrome_events(path: str | Path) -> tuple[list[dict[str, Any]], StateFolder, str | None]:
    """The trace-event list of a recorded run, its final state, and what cut the
    trace short (None if it is whole). Raises TraceError for a file that is not a trace."""
    collector: _Collector | None = None

    def see(folder: StateFolder, batch: Sequence[Sequence[Any]]) -> None:
        nonlocal collector
        if collector is None:
            collector = _Collector(folder.header)
        collector.see(folder, batch)

    history, folder, problem = build_history(path, see)
    history.close()
    col = collector or _Collector(folder.header)
    col.now = max(col.now, folder.now)
    end = folder.ended_at or folder.now
    out: list[dict[str, Any]] = []
    pids = _pids(folder)
    for pid, name in sorted({(p, n) for p, n in pids.values()}):
        out.append(_meta("process_name", pid, 0, {"name": name}))
    out.append(_meta("process_name", RESOURCES_PID, 0, {"name": "resources"}))
    for actor in folder.actors:
        pid = pids[actor.index][0]
        out.append(_meta("thread_name", pid, actor.index + 1, {"name": actor.name}))
        out.append(_meta("thread_sort_index", pid, actor.index + 1, {"sort_index": actor.index}))
        for seg in folder.lanes.actors[actor.index].segments(folder.t0, end):
            if seg.state == sm.NEW:
                continue
            start, stop = seg.start // 1_000, seg.end // 1_000
            if seg.state in sm.ENDED_STATES:
                out.append(_instant(seg.state, pid, actor.index + 1, start, "t"))
                continue
            if stop <= start:
                continue
            out.append(
                {
                    "ph": "X",
                    "name": _state_name(folder, seg.state, seg.target, seg.how),
                    "cat": "state",
                    "pid": pid,
                    "tid": actor.index + 1,
                    "ts": start,
                    "dur": stop - start,
                    "args": {"state": seg.state, "how": seg.how},
                }
            )
    for lock in sorted(col.locks):
        tid = _LOCK_TID + lock
        out.append(_meta("thread_name", RESOURCES_PID, tid, {"name": f"lock {col.names[lock]}"}))
    holds = list(col.slices)
    holds += [(lock, a, since, end) for (lock, a), (since, _) in col.holds.items()]  # still held
    for lock, actor, since, until in holds:
        start, stop = col.us(since), col.us(until)
        out.append(
            {
                "ph": "X",
                "name": f"held by {folder.actors[actor].name}",
                "cat": "lock",
                "pid": RESOURCES_PID,
                "tid": _LOCK_TID + lock,
                "ts": start,
                "dur": max(stop - start, 0),
                "args": {"lock": col.names[lock], "holder": folder.actors[actor].name},
            }
        )
    for lock, actor, when in col.expiries:
        who = folder.actors[actor].name
        out.append(
            _instant(f"lease of {who} expired", RESOURCES_PID, _LOCK_TID + lock, col.us(when), "t")
        )
    for n, (lock, giver, given, taker, taken) in enumerate(col.flows):
        name = f"{col.names[lock]} handed over"
        common = {"name": name, "cat": "handover", "id": n + 1}
        out.append(
            {**common, "ph": "s", "pid": pids[giver][0], "tid": giver + 1, "ts": col.us(given)}
        )
        out.append(
            {
                **common,
                "ph": "f",
                "bp": "e",
                "pid": pids[taker][0],
                "tid": taker + 1,
                "ts": col.us(taken),
            }
        )
    for res, samples in col.counters.items():
        key = "depth" if res in col.queues else "value"
        for at, value in samples:
            out.append(
                {
                    "ph": "C",
                    "name": col.names[res],
                    "pid": RESOURCES_PID,
                    "ts": at,
                    "args": {key: value},
                }
            )
    out.append(_verdict(folder, end))
    return out, folder, problem


def export_chrome(path: str | Path, out: str | Path) -> str:
    """Write ``path``'s run to ``out`` as Chrome trace-event JSON; says what it wrote."""
    events, folder, problem = chrome_events(path)
    data = msgspec.json.encode({"traceEvents": events, "displayTimeUnit": "ms"})
    Path(out).write_bytes(data)
    line = (
        f"{out}: {len(events):,} trace events from {folder.count:,} run events, "
        f"{len(data) / 1e6:.1f} MB (open it in ui.perfetto.dev or chrome://tracing)"
    )
    return line + (f"; the trace was cut short: {problem}" if problem else "")


def _pids(folder: StateFolder) -> dict[int, tuple[int, str]]:
    """Each actor's (pid, process name) in the export: its own process on the process
    backend, its worker's on Dask (the tasks of one worker share its process), else
    one process for the whole run."""
    out = {}
    for actor in folder.actors:
        if folder.backend == "dask" and actor.pid and actor.where:
            out[actor.index] = (actor.pid, f"Dask worker {actor.where} (pid {actor.pid})")
        elif folder.backend == "process" and actor.pid:
            out[actor.index] = (actor.pid, f"{actor.name} (pid {actor.pid})")
        else:
            out[actor.index] = (1, f"{folder.title or 'run'} ({folder.backend})")
    return out


def _state_name(folder: StateFolder, state: str, target: int | None, how: str | None) -> str:
    if target is None or state not in (sm.BLOCKED, sm.WAITING, sm.IN_IO):
        return state
    if how in ("join", "switch", "await"):
        names = folder.actor_names
    elif how == "future":
        return f"{state} on a future"
    elif how in ev.IO_HOWS:
        return f"{state} ({how})"
    else:
        names = folder.resource_names
    what = names[target] if 0 <= target < len(names) else str(target)
    return f"{state} on {what}"


def _verdict(folder: StateFolder, end: int) -> dict[str, Any]:
    verdict = analysis.judge(folder, folder.now)
    at = (end - folder.t0) // 1_000
    if verdict.cycle:
        cycle = "; ".join(e.sentence() for e in verdict.cycle)
        return _instant("DEADLOCK", RESOURCES_PID, 0, at, "g", {"cycle": cycle})
    if verdict.stalled:
        return _instant("STALL", RESOURCES_PID, 0, at, "g", {"stuck": len(verdict.stuck)})
    status = folder.end_reason or sm.STOPPED
    return _instant(status.upper(), RESOURCES_PID, 0, at, "g", {"error": folder.error or ""})


def _meta(name: str, pid: int, tid: int, args: dict[str, Any]) -> dict[str, Any]:
    return {"ph": "M", "name": name, "pid": pid, "tid": tid, "args": args}


def _instant(
    name: str, pid: int, tid: int, ts: int, scope: str, args: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "ph": "i",
        "name": name,
        "pid": pid,
        "tid": tid,
        "ts": ts,
        "s": scope,
        "args": args or {},
    }
