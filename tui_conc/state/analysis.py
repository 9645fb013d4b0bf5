"""Analyses on a run's state: who is stuck for good, deadlock cycles, global stalls.

The rule (the README states it for users):

* An actor is **stuck** when it waits without a timeout for something that is
  not there now (the lock is held, the semaphore is at 0, the queue is empty,
  the event is clear…) and every actor that could still give it — its
  *wakers* — is stuck too. Who could give it comes from the scenario
  (:mod:`tui_conc.scenario.effects`): a semaphore or a plain ``Lock`` may be
  released by any actor with a ``release`` step for it, or by a holder inside
  a ``with`` block; an ``RLock`` only by its owner; an item put only by an
  actor with a ``put`` step; a joined actor ends only by itself. The stuck
  set is the greatest set closed under that rule, so nothing in it can ever
  move: being stuck is *stable*, and the fold sees a causally consistent cut
  of the run, so what it finds stuck really is.
* A **deadlock** is a cycle among stuck actors, each waiting for the next
  (reported as jstack does: who holds what and waits for what).
* A **stall** is every live actor stuck — Go's "all goroutines are asleep".
* A **suspected** deadlock is a cycle of ownership among blocked actors that
  someone outside could still break (a thread with a ``release`` step for a
  plain Lock, say). It is shown as "likely", never acted on, and becomes a
  deadlock if those others end or get stuck.

Waits on things outside the actors (sockets, the run's HTTP server, pool
workers, greenlet switches) are never stuck: the analysis cannot see who
answers them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui_conc.engine.wire import events as ev
from tui_conc.scenario import effects as fx
from tui_conc.state import model as sm
from tui_conc.state.fold import StateFolder
from tui_conc.state.records import Actor, Resource

_LOCKLIKE = frozenset({"lock", "rlock", "semaphore", "bounded_semaphore", "condition"})
#: The verb that may end each kind of wait on a resource.
_WAKES = {
    "get": fx.PUT,
    "put": fx.GET,
    "qjoin": fx.TASK_DONE,
    "event": fx.SET,
    "cond": fx.NOTIFY,
    "pipe": fx.SEND,
    "barrier": fx.ARRIVE,
}
#: Waits the analysis cannot judge: something outside the actors answers them.
#: (A task awaiting a task is not judged either: anyone, a timer or a callback, may
#: cancel it.)
_UNJUDGED = frozenset({"pool", "switch", "fetch", *ev.IO_HOWS, *ev.TASK_HOWS})
#: A suspected cycle is shown once its actors have all waited this long.
SUSPECT_AFTER_NS = 500_000_000


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the analysis found at one moment."""

    stuck: frozenset[int] = frozenset()
    cycle: tuple[sm.CycleEdge, ...] = ()  #: a certain deadlock
    stalled: bool = False  #: every live actor is stuck
    suspect: tuple[sm.CycleEdge, ...] = ()  #: a likely deadlock (not certain)
    could_break: tuple[str, ...] = ()  #: who could still break the suspected cycle


def _live(folder: StateFolder, a: Actor) -> bool:
    """Started and not ended — or not started yet but sure to be (the runner starts
    every autostart group at the beginning)."""
    if a.state in sm.ENDED_STATES:
        return False
    return a.state != sm.NEW or a.spawned or folder.autostart.get(a.group, True)


def _waiting_for_good(a: Actor) -> bool:
    """Blocked or waiting with no timeout, on something the analysis can judge."""
    return (
        a.state in (sm.BLOCKED, sm.WAITING)
        and a.timeout is None
        and a.target is not None
        and a.how not in _UNJUDGED
    )


def _available(folder: StateFolder, a: Actor) -> bool:
    """Is what ``a`` waits for there now (it is about to wake)?"""
    how = a.how
    if how == "join":
        return folder.actors[a.target].state in sm.ENDED_STATES  # type: ignore[index]
    r = folder.resources[a.target]  # type: ignore[index]
    if how == "acquire":
        if r.counting:
            return (r.value or 0) > 0
        return not r.holders or (r.type == "rlock" and a.index in r.holders)
    if how == "get" or how == "pipe":
        return r.depth > 0
    if how == "put":
        return r.maxsize > 0 and r.depth < r.maxsize
    if how == "qjoin":
        return r.puts <= r.tasks_done
    if how == "event":
        return r.is_set
    if how == "cond":
        return a.index in folder.notified
    if how == "barrier":
        arrived = sum(1 for h in r.waiters.values() if h == "barrier")
        return r.broken or arrived >= r.parties
    return True  # a wait the analysis does not know: never stuck


def wakers(folder: StateFolder, a: Actor) -> frozenset[int] | None:
    """The actors that could still end ``a``'s wait; None when it may end by itself."""
    if a.group in folder.pool_of and a.state == sm.RUNNING:
        return _idle_worker_wakers(folder, a)
    if a.how == "pool" and a.timeout is None and a.target in folder.pools:
        pool = folder.pools[a.target]
        # Pool.join waits for every task's result: a lost one never comes (as in Python)
        return frozenset() if pool.lost and pool.closed else None
    if not _waiting_for_good(a) or _available(folder, a):
        return None
    if a.how == "join":
        return frozenset((a.target,))  # type: ignore[arg-type]
    r = folder.resources[a.target]  # type: ignore[index]
    if a.how == "acquire":
        # blocked here, it cannot run its own release step: only a hold of its own counts
        return frozenset(h for h in _releasers(folder, r) if h != a.index or h in r.holders)
    verb = _WAKES.get(a.how or "")
    if verb is None:
        return None
    found = _able(folder, verb, r.index)
    if verb == fx.ARRIVE:  # a party still to come: not one already waiting here
        return frozenset(i for i in found if i not in r.waiters)
    return frozenset(i for i in found if i != a.index)


def _idle_worker_wakers(folder: StateFolder, a: Actor) -> frozenset[int] | None:
    """A pool worker with no task waits for one: from whoever may still submit."""
    index = folder.pool_of[a.group]
    pool = folder.pools[index]
    if a.index in pool.running or pool.queued:
        return None
    if pool.closed:
        return frozenset()
    return frozenset(_able(folder, fx.SUBMIT, index))


def _releasers(folder: StateFolder, r: Resource) -> Iterable[int]:
    """Who could give ``r`` back: a holder inside a ``with`` block (or with a release
    step), and — but for an RLock, which only its owner may release — anyone
    with a release step for it."""
    for h in r.holders:
        if folder.actors[h].state in sm.ENDED_STATES:
            continue  # a thread that ended holding a lock never gives it back
        if folder.may(h, fx.WITH, r.index) or folder.may(h, fx.RELEASE, r.index):
            yield h
    if r.type != "rlock":
        yield from (i for i in _able(folder, fx.RELEASE, r.index) if i not in r.holders)


def _able(folder: StateFolder, verb: str, res: int) -> Iterable[int]:
    """Actors not yet ended (started or not) whose steps may do ``verb`` on ``res``."""
    for actor in folder.actors:
        if actor.state not in sm.ENDED_STATES and folder.may(actor.index, verb, res):
            yield actor.index


def _unstarted_wakers(folder: StateFolder, a: Actor) -> frozenset[int] | None:
    """An actor never started: only an actor with a ``start`` step for its group starts it."""
    if folder.autostart.get(a.group, True):
        return None  # the runner starts it at the beginning: it will run
    by = folder.starters.get(a.group)
    if by is None:
        return None  # an old trace: who starts it is unknown
    return frozenset(
        x.index for x in folder.actors if x.group in by and x.state not in sm.ENDED_STATES
    )


def stuck_actors(folder: StateFolder) -> tuple[frozenset[int], dict[int, frozenset[int]]]:
    """The greatest set of actors that can never move again, and each one's wakers."""
    edges: dict[int, frozenset[int]] = {}
    for a in folder.actors:
        if a.state in sm.ENDED_STATES:
            continue
        if a.state == sm.NEW and not a.spawned:
            w = _unstarted_wakers(folder, a)
        else:
            w = wakers(folder, a)
        if w is not None:
            edges[a.index] = w
    stuck = set(edges)
    changed = True
    while changed:
        changed = False
        for a in list(stuck):
            if not edges[a] <= stuck:
                stuck.discard(a)
                changed = True
    return frozenset(stuck), edges


def judge(folder: StateFolder, now: int | None = None) -> Verdict:
    """The certain verdicts (deadlock, stall) and a suspected deadlock, at ``now`` (ns).

    A run the backend itself declared blocked for good (gevent's ``LoopExit``)
    has every live actor stuck, whatever the scenario says.
    """
    stuck, edges = stuck_actors(folder)
    live = [a.index for a in folder.actors if _live(folder, a)]
    if folder.blocked_forever:  # nothing can ever run again: everyone live is stuck
        stuck = frozenset(stuck | set(live))
        for i in live:
            edges.setdefault(i, frozenset(_ownership(folder, folder.actors[i])))
    waiting = frozenset(i for i in stuck if folder.actors[i].target is not None)
    if not folder.effects_known:  # an old trace: only ownership is certain
        edges = {i: frozenset(_ownership(folder, folder.actors[i])) for i in waiting}
    cycle = _cycle(folder, waiting, edges)
    # (a program gevent ended with LoopExit ended because everyone was stuck)
    ended = folder.ended_at is not None and not folder.blocked_forever
    stalled = bool(live) and all(i in stuck for i in live) and not ended
    if cycle or stalled:
        return Verdict(stuck, cycle, stalled and not cycle)
    suspect, breakers = _suspected(folder, edges, now)
    return Verdict(stuck, suspect=suspect, could_break=breakers)


def _cycle(
    folder: StateFolder, among: frozenset[int], edges: dict[int, frozenset[int]]
) -> tuple[sm.CycleEdge, ...]:
    """One cycle through ``among`` (each waiting for the next), as report edges."""
    graph = {a: list(edges.get(a, frozenset()) & among) for a in among}
    # the natural "next" in a report: an owner of what it waits for, then another
    # holder of it, then anyone able to give it; itself last
    for a in graph:
        actor = folder.actors[a]
        owners = _ownership(folder, actor)
        held = folder.resources[actor.target].holders if actor.how == "acquire" else {}
        graph[a].sort(key=lambda b, a=a, o=owners, h=held: (b == a, b not in o, b not in h, b))
    on_cycle = _on_cycles(graph)
    if not on_cycle:
        return ()
    node = min(on_cycle)
    path: list[int] = []
    seen: dict[int, int] = {}
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(b for b in graph[node] if b in on_cycle)
    cycle = path[seen[node] :]
    first = cycle.index(min(cycle))  # start the report at the earliest actor
    cycle = cycle[first:] + cycle[:first]
    return tuple(_edge(folder, a, cycle[(k + 1) % len(cycle)]) for k, a in enumerate(cycle))


def _on_cycles(graph: dict[int, list[int]]) -> set[int]:
    """The nodes of ``graph`` that lie on a cycle (self-loops included)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    out: set[int] = set()
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(graph[w])))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1 or v in graph[v]:
                    out.update(comp)
    return out


def _ownership(folder: StateFolder, a: Actor) -> set[int]:
    """Who owns what ``a`` waits for: a lock's holders (a semaphore's only inside a
    ``with``), or the actor it joins. The edges a reader calls "waits for"."""
    if a.target is None or a.how in _UNJUDGED:
        return set()
    if a.how == "join":
        return {a.target}
    if a.how != "acquire":
        return set()
    r = folder.resources[a.target]
    return {
        h
        for h in r.holders
        if folder.actors[h].state not in sm.ENDED_STATES
        and (not r.counting or folder.may(h, fx.WITH, r.index))
    }


def _suspected(
    folder: StateFolder, edges: dict[int, frozenset[int]], now: int | None
) -> tuple[tuple[sm.CycleEdge, ...], tuple[str, ...]]:
    """A cycle of ownership among actors blocked for good, held for a while, that
    someone else could still break; and who."""
    now = folder.now if now is None else now
    blocked = {
        a.index
        for a in folder.actors
        if _waiting_for_good(a) and not _available(folder, a) and now - a.since >= SUSPECT_AFTER_NS
    }
    if not blocked:
        return (), ()
    own = {a: _ownership(folder, folder.actors[a]) & blocked for a in blocked}
    cycle = _cycle(folder, frozenset(blocked), {a: frozenset(o) for a, o in own.items()})
    if not cycle:
        return (), ()
    members = {folder.index_of(e.actor) for e in cycle}
    breakers = set().union(*(edges.get(m, frozenset()) for m in members)) - members
    return cycle, tuple(folder.actors[b].name for b in sorted(breakers))


def _edge(folder: StateFolder, a: int, nxt: int) -> sm.CycleEdge:
    actor = folder.actors[a]
    holds = tuple(r.name for r in folder.resources if r.type in _LOCKLIKE and a in r.holders)
    if actor.how == "join":
        target = folder.actors[actor.target]  # type: ignore[index]
        return sm.CycleEdge(actor.name, holds, f"{target.name} to end", (target.name,), actor.where)
    res = folder.resources[actor.target]  # type: ignore[index]
    return sm.CycleEdge(actor.name, holds, res.name, (folder.actors[nxt].name,), actor.where)


# -- the former API, kept for callers that want one answer


def find_cycle(folder: StateFolder) -> tuple[sm.CycleEdge, ...]:
    """A certain deadlock cycle; () when there is none."""
    return judge(folder).cycle


def is_stalled(folder: StateFolder) -> bool:
    """Every live actor is stuck for good (and one at least)."""
    return judge(folder).stalled
