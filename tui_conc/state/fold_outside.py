"""The fold's handlers for what lives beside the actors: sockets and ``select``, process
pools, gevent's hub, and Dask's leases (a part of :class:`~tui_conc.state.fold.StateFolder`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.state.records import Actor, Pool, Resource, Select, Socket


class OutsideFolding:
    """Sockets, selects, pools, the hub and leases, as the fold keeps them."""

    now: int
    actors: list[Actor]
    resources: list[Resource]
    sockets: dict[int, Socket]
    selects: dict[int, Select]
    pools: dict[int, Pool]
    hub_switches: int
    hub_blocked: list[tuple[int, float, int]]
    log: Any
    log_total: int

    # -- sockets and select

    def _sock_open(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        sock = Socket(e[2], e[4], e[5], e[1], e[6])
        self.sockets[e[2]] = sock
        parent = self.sockets.get(e[6]) if sock.role == "conn" else None
        if parent is not None:
            parent.accepted += 1
            parent.open_conns += 1
            parent.max_open = max(parent.max_open, parent.open_conns)

    def _sock_close(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        sock = self.sockets[e[2]]
        sock.open = False
        parent = self.sockets.get(sock.parent) if sock.role == "conn" else None
        if parent is not None:
            parent.open_conns -= 1

    def _traffic(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        sock = self.sockets[e[2]]
        if e[0] == ev.SENT:
            sock.bytes_out += e[4]
        else:
            sock.bytes_in += e[4]
            sock.reads += e[4] > 0

    def _io_miss(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        self.sockets[e[2]].misses += 1

    def _selected(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        key = e[2]
        sel = self.selects.get(key)
        if sel is None:
            name = "select.select" if key < 0 else self.resources[key].name
            sel = self.selects[key] = Select(name)
        sel.calls += 1
        sel.blocked_ns += e[6]
        sel.last_ready = list(e[4])
        sel.watched = list(e[5])
        sel.ready_sizes.append(len(e[4]))

    # -- process pools

    def _pool_event(self, e: Sequence[Any]) -> None:
        self.now = t = e[3]
        pool = self.pools[e[2]]
        kind, actor = e[0], e[1]
        if kind == ev.SUBMIT:
            pool.labels[e[4]] = pool.queued[e[4]] = e[5]
            pool.submitted += 1
        elif kind == ev.TASK_BEGIN:
            pool.queued.pop(e[4], None)
            pool.running[actor] = (e[4], t)
            pool.max_busy = max(pool.max_busy, len(pool.running))
            self.actors[actor].detail = pool.labels.get(e[4], f"task {e[4]}")
        elif kind == ev.TASK_END:
            pool.running.pop(actor, None)
            self.actors[actor].detail = ""
            if e[5]:
                pool.done += 1
                pool.lane_done[actor] = pool.lane_done.get(actor, 0) + 1
            else:
                pool.failed += 1
                pool.last_failure = f"{pool.labels.get(e[4], e[4])}: {e[6]}"
        elif kind == ev.POOL_CLOSE:
            pool.closed = True
        else:
            pool.terminated = True
            pool.killed += len(pool.running)
            pool.running.clear()
            pool.never_ran = list(pool.queued.values())
            pool.queued.clear()

    def _lose_task(self, actor: Actor) -> None:
        """A pool worker killed under its task: the task never finishes (Pool replaces
        the worker, but nobody runs the task again)."""
        for pool in self.pools.values():
            running = pool.running.pop(actor.index, None)
            if running is not None and not pool.terminated:
                pool.lost.append(pool.labels.get(running[0], f"task {running[0]}"))

    def _hub(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        if e[0] == ev.HUB:
            self.hub_switches = e[4]
        else:
            self.hub_blocked.append((e[1], float(e[4]), e[3]))

    # -- Dask's leases

    def _lease(self, e: Sequence[Any]) -> None:
        self.now = e[3]
        self.resources[e[2]].leases[str(e[4])] = e[1]

    def _lease_expired(self, e: Sequence[Any]) -> None:
        """Dask's scheduler took a lease back: the permit is free again, while its
        holder, not told, goes on as if it held it (two may "hold" a lock now)."""
        self.now = e[3]
        r = self.resources[e[2]]
        holder = r.leases.pop(str(e[4]), None)
        r.expiries += 1
        who = "a holder" if holder is None else self.actors[holder].name
        if holder is not None and holder in r.holders:
            r.stale[holder] = r.stale.get(holder, 0) + 1
            if r.counting:
                r.value += 1
        text = (
            f"{r.name}: the scheduler took back {who}'s lease (no refresh for"
            f" {float(e[5]):.1f} s); {who} thinks it still holds it"
        )
        self.log_total += 1
        self.log.append((self.log_total, e[3], -1, text))

    def _unstale(self, r: Resource, a: int) -> None:
        if r.stale[a] > 1:
            r.stale[a] -= 1
        else:
            del r.stale[a]
