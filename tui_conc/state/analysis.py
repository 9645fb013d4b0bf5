"""Analyses on a run's state: the wait-for graph, deadlock cycles, global stalls.

A deadlock is a set of actors, each blocked without a timeout on something
only others in the set can give back: a lock or semaphore all of whose
holders are in the set, or a join on an actor in the set. The report walks
one cycle of it, as jstack does. A global stall is weaker: every live actor
is blocked or waiting with no timeout and nothing is sleeping or computing —
like Go's "all goroutines are asleep" — which the caller confirms by seeing
no new events for a while.
"""

from __future__ import annotations

from tui_conc.state import model as sm
from tui_conc.state.fold import StateFolder

#: Waits that something outside the actors answers (the run's HTTP server):
#: never "blocked for good".
_SERVED_BY_THE_RUN = frozenset({"fetch"})
#: Waits on an actor: not for good while that actor has not started yet (a process
#: being spawned), nor a pool's (its workers are lanes, answering from a queue).
_ON_ACTORS = frozenset({"join"})
_LOCKLIKE = frozenset({"lock", "rlock", "semaphore", "bounded_semaphore", "condition"})


def wait_for_graph(folder: StateFolder) -> dict[int, tuple[int, ...]]:
    """Actor → the actors it waits for (only waits that cannot time out)."""
    graph: dict[int, tuple[int, ...]] = {}
    for actor in (folder.actors[i] for i in sorted(folder.waiting)):
        if actor.state not in (sm.BLOCKED, sm.WAITING) or actor.timeout is not None:
            continue
        if actor.target is None:
            continue
        if actor.how == "join":
            graph[actor.index] = (actor.target,)
        elif actor.how == "acquire":
            res = folder.resources[actor.target]
            if res.type in _LOCKLIKE and res.holders:
                graph[actor.index] = tuple(h for h in res.holders if h != actor.index) or (
                    actor.index,
                )
    return graph


def deadlocked(folder: StateFolder) -> set[int]:
    """The actors that can never proceed (the greatest such set)."""
    graph = wait_for_graph(folder)
    stuck = set(graph)
    changed = True
    while changed:
        changed = False
        for a in list(stuck):
            if any(b not in stuck for b in graph[a]):
                stuck.discard(a)
                changed = True
    return stuck


def find_cycle(folder: StateFolder) -> tuple[sm.CycleEdge, ...]:
    """One cycle through the deadlocked actors, as report edges; () when none."""
    stuck = deadlocked(folder)
    if not stuck:
        return ()
    graph = wait_for_graph(folder)
    start = min(stuck)
    path: list[int] = []
    seen: dict[int, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = min(b for b in graph[node] if b in stuck)
    cycle = path[seen[node] :]
    # Start the report at the earliest actor, as a reader expects.
    first = cycle.index(min(cycle))
    cycle = cycle[first:] + cycle[:first]
    return tuple(_edge(folder, a) for a in cycle)


def _edge(folder: StateFolder, a: int) -> sm.CycleEdge:
    actor = folder.actors[a]
    holds = tuple(r.name for r in folder.resources if r.type in _LOCKLIKE and a in r.holders)
    if actor.how == "join":
        target = folder.actors[actor.target]  # type: ignore[index]
        return sm.CycleEdge(actor.name, holds, f"{target.name} to end", (target.name,))
    res = folder.resources[actor.target]  # type: ignore[index]
    held_by = tuple(folder.actors[h].name for h in res.holders)
    return sm.CycleEdge(actor.name, holds, res.name, held_by)


def is_stalled(folder: StateFolder) -> bool:
    """Every live actor is blocked or waiting for good (no timeout) — and one at least."""
    live = [a for a in folder.actors if a.state not in sm.ENDED_STATES and a.state != sm.NEW]
    if not live or folder.ended_at is not None:
        return False
    if any(a.spawned for a in folder.actors):
        return False  # a child process is still starting: it will act
    return all(
        a.state in (sm.BLOCKED, sm.WAITING, sm.IN_IO)
        and a.timeout is None
        and a.how not in _SERVED_BY_THE_RUN
        and a.how != "pool"
        and not (a.how in _ON_ACTORS and folder.actors[a.target].state == sm.NEW)  # type: ignore[index]
        for a in live
    )
