"""The Actors panel: one row per thread, process or greenlet — what it holds, what it
waits for, its states over time, the step it is on. The interesting rows come first."""

from __future__ import annotations

import time

from rich.text import Text
from textual.binding import Binding

from tui_conc.state.model import ENDED_STATES, ActorView, Snapshot
from tui_conc.state.snapshots import interest
from tui_conc.ui.widgets.live_table import Column, Fill, LiveTable, Row
from tui_conc.ui.widgets.styles import STATE_STYLES, seconds
from tui_conc.ui.widgets.timeline import scale, timeline

#: How the rows are ordered: the interesting first (a deadlock's members, the failed,
#: holders, waiters…), or as the scenario declares the actors.
ORDERS = ("interesting first", "as declared")
#: Which rows show: all, those not ended, those blocked or waiting.
FILTERS = ("all", "live", "blocked")
#: The order of the rows changes at most this often (a row that jumps is hard to follow).
REORDER_EVERY_S = 0.5
_TIMELINE = 4  #: the timeline's column


class ActorsPanel(LiveTable):
    """Actors: name, id, what it holds and does, for how long, a timeline, its step.

    | Key | Action |
    | :- | :- |
    | o | order: interesting first / as declared |
    | f | show: all / live / blocked |
    | enter | the selected actor's details |
    """

    BORDER_TITLE = "Actors"
    BINDINGS = [
        Binding("o", "order", "Order", show=False),
        Binding("f", "filter", "Filter", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            [
                Column("Actor", min=6, max=20),
                Column("id", min=0, max=28, give=3),  # a Dask worker: host:port pid N
                Column("State", min=12, max=48),
                Column("For", min=4, max=6),
                Column("Timeline", min=8, grow=True),
                Column("Step", min=6, max=28, give=1),
            ],
            **kwargs,
        )
        self.order = 0
        self.filter = 0
        self._last: Snapshot | None = None
        self._order_keys: list[str] = []
        self._reordered = 0.0

    def reset(self) -> None:
        super().reset()
        self._order_keys = []
        self._last = None

    def show(self, snapshot: Snapshot) -> None:
        self._last = snapshot
        cycle = {e.actor for e in snapshot.cycle} | {e.actor for e in snapshot.suspect}
        shown = [a for a in snapshot.actors if self._passes(a)]
        keys = self._ordered(shown, cycle, snapshot)
        by_key = {str(a.index): a for a in shown}
        # Rows out of view keep their cells until scrolled to: with thousands of
        # actors, building every row's timeline at every redraw cost most of it.
        in_view = self.rows_in_view()
        # a run that ended is drawn no more: every row must be right now, in view or not
        final = snapshot.past or snapshot.status not in ("running", "paused", "starting")
        rows: list[Row] = []
        for position, key in enumerate(keys):
            fresh = final or position in in_view or not self.has_row(key)
            rows.append((key, self._row(by_key[key], snapshot, cycle) if fresh else None))
        hidden = snapshot.actor_total - len(snapshot.actors)
        if hidden > 0:
            counts = ", ".join(f"{n:,} {state}" for state, n in snapshot.actor_states)
            note = Text(f"+ {hidden:,} more (all {snapshot.actor_total:,}: {counts})", "italic")
            rows.append(("more", (note, "", "", "", "", "")))
        self.sync(rows)
        span = max(snapshot.now - snapshot.t0, 0) / 1e9
        self.set_header(_TIMELINE, Fill(lambda w, s=span: scale(s, w), round(span, 1), 8))
        ended = ("new", *ENDED_STATES)
        busy = sum(n for state, n in snapshot.actor_states if state not in ended)
        hub = f" · hub: {snapshot.hub.switches:,} switches" if snapshot.hub is not None else ""
        view = [] if self.order == 0 else [ORDERS[self.order]]
        view += [] if self.filter == 0 else [f"{FILTERS[self.filter]} only"]
        extra = f" · {', '.join(view)}" if view else ""
        self.retitle(f"Actors · {busy:,} live of {snapshot.actor_total:,}{hub}{extra}")

    def _passes(self, a: ActorView) -> bool:
        if self.filter == 1:
            return a.state not in ("new", *ENDED_STATES)
        if self.filter == 2:
            return a.state in ("blocked", "waiting")
        return True

    def _ordered(self, actors: list[ActorView], cycle: set[str], snapshot: Snapshot) -> list[str]:
        """Row keys in the panel's order; an order once shown holds for REORDER_EVERY_S."""
        if self.order == 1:
            return [str(a.index) for a in actors]
        wanted = [
            str(a.index)
            for a in sorted(
                actors, key=lambda a: (interest(a.state, bool(a.holds), a.name in cycle), a.index)
            )
        ]
        now = time.monotonic()
        final = snapshot.past or snapshot.status not in ("running", "paused", "starting")
        due = now - self._reordered >= REORDER_EVERY_S
        if set(wanted) != set(self._order_keys) or final or due:
            if wanted != self._order_keys:
                self._reordered = now
            self._order_keys = wanted
        return self._order_keys

    @staticmethod
    def _ident(a: ActorView) -> str:
        """A thread's native id, a process's pid and its parent's, or a Dask worker's
        address (host:port) and the pid of the worker process."""
        if a.where:
            return f"{a.where.removeprefix('tcp://')} pid {a.pid}"
        if a.pid is not None:
            return f"pid {a.pid}←{a.ppid}"
        return str(a.native_id) if a.native_id else "-"

    @classmethod
    def _row(
        cls, a: ActorView, snapshot: Snapshot, cycle: set[str]
    ) -> tuple[str | Text | Fill, ...]:
        name = Text(a.name, style="bold" if not a.daemon else "italic")
        if a.name in cycle:
            certain = any(e.actor == a.name for e in snapshot.cycle)
            mark = ("◆ ", "bold red") if certain else ("◇ ", "bold yellow")
            name = Text.assemble(mark, (a.name, "bold reverse red" if certain else "bold yellow"))
        elif a.state == "failed":
            name = Text.assemble(("✗ ", "bold red"), (a.name, "bold red"))
        else:
            name = Text.assemble("  ", name)
        stopped = snapshot.stopped and a.state not in ("new", *ENDED_STATES)
        return (
            name,
            Text(cls._ident(a), style="dim"),
            state_text(a, stopped, stepping=snapshot.schedule is not None),
            "" if a.state == "new" or stopped else seconds(a.since_s),
            Fill(
                lambda w, h=a.history, t0=snapshot.t0, now=snapshot.now: timeline(h, t0, now, w),
                (a.history[-1] if a.history else None, len(a.history), snapshot.now // 50_000_000),
                8,  # it takes what the other columns leave
            ),
            Text(a.step, style="dim"),
        )

    def action_order(self) -> None:
        self.order = (self.order + 1) % len(ORDERS)
        self._order_keys = []
        self._redraw()

    def action_filter(self) -> None:
        self.filter = (self.filter + 1) % len(FILTERS)
        self._redraw()

    def _redraw(self) -> None:
        if self._last is not None:
            self.show(self._last)
        self.app.notify(f"Actors: {ORDERS[self.order]}, {FILTERS[self.filter]}", timeout=2)


def state_text(a: ActorView, stopped: bool = False, stepping: bool = False) -> Text:
    """What the actor holds and does: ``holds mutexB · blocked on mutexA``."""
    style = STATE_STYLES.get(a.state, "")
    if a.state in ("failed", "killed") and a.detail:
        return Text(f"{a.state}: {a.detail}", style=style)
    if a.state == "new":
        return Text("new (spawning)" if a.detail else "new", style=style)
    if a.state == "done" and a.cpu_s is not None and a.wall_s is not None:
        return Text(f"done · CPU {a.cpu_s:.2f}s of {a.wall_s:.2f}s", style=style)
    label = a.label
    if a.detail and a.group != a.name and a.state == "running" and a.pid:
        label = f"running {a.detail}"  # a pool worker: its task
    elif a.state in ("sleeping", "computing") and a.detail:
        label = f"{a.state} {a.detail}"
    elif a.timeout is not None:
        label = f"{label} (≤{a.timeout:g}s)"
    text = Text()
    if a.holds:
        held = ", ".join(name + (f" ×{n}" if n > 1 else "") for name, n in a.holds)
        text.append(f"holds {held}", style="bold")
        text.append(" · ", style="dim")
    if stopped:
        text.append(f"stopped ({label})", style=STATE_STYLES["stopped"])
        return text
    if stepping and a.parked and a.state == "running":  # step mode: it waits for its turn
        text.append(f"parked · next: {a.parked}", style="italic yellow")
        return text
    text.append(label, style=style)
    if a.parked:
        text.append(f" · paused before {a.parked}", style="italic yellow")
    return text
