"""The Actors panel: one row per thread with its state in colour."""

from __future__ import annotations

from rich.text import Text

from tui_conc.state.model import ActorView, Snapshot
from tui_conc.ui.widgets.live_table import LiveTable, Row
from tui_conc.ui.widgets.styles import STATE_STYLES, seconds
from tui_conc.ui.widgets.timeline import timeline


class ActorsPanel(LiveTable):
    """Actors: name, native id, state, the step it is on, time in that state."""

    BORDER_TITLE = "Actors"

    #: Cells in the timeline column.
    TIMELINE_WIDTH = 20

    def __init__(self, **kwargs: object) -> None:
        super().__init__(["Actor", "id", "State", "For", "Timeline", "Step"], **kwargs)

    def show(self, snapshot: Snapshot) -> None:
        # Rows out of view keep their cells until scrolled to: with thousands of
        # actors, building every row's timeline at every redraw cost most of it.
        in_view = self.rows_in_view()
        rows: list[Row] = []
        for position, a in enumerate(snapshot.actors):
            key = str(a.index)
            shown = position in in_view or not self.has_row(key)
            rows.append((key, self._row(a, snapshot) if shown else None))
        hidden = snapshot.actor_total - len(snapshot.actors)
        if hidden > 0:
            counts = ", ".join(f"{n:,} {state}" for state, n in snapshot.actor_states)
            note = Text(f"+ {hidden:,} more (all {snapshot.actor_total:,}: {counts})", "italic")
            rows.append(("more", (note, "", "", "", "", "")))
        self.sync(rows)
        ended = ("new", "done", "failed", "killed")
        busy = sum(n for state, n in snapshot.actor_states if state not in ended)
        hub = f" · hub: {snapshot.hub.switches:,} switches" if snapshot.hub is not None else ""
        self.retitle(f"Actors · {busy:,} live of {snapshot.actor_total:,}{hub}")

    @staticmethod
    def _ident(a: ActorView) -> str:
        """A thread's native id, or a process's pid and its parent's."""
        if a.pid is not None:
            return f"pid {a.pid}←{a.ppid}"
        return str(a.native_id) if a.native_id else "-"

    @classmethod
    def _row(cls, a: ActorView, snapshot: Snapshot) -> tuple[str | Text, ...]:
        label = a.label
        if a.state in ("failed", "killed") and a.detail:
            label = f"{a.state}: {a.detail}"
        elif a.state == "new" and a.detail:
            label = f"new ({a.detail})"  # a child process being spawned
        elif a.state == "done" and a.cpu_s is not None and a.wall_s is not None:
            label = f"done · CPU {a.cpu_s:.2f}s of {a.wall_s:.2f}s"
        elif a.detail and a.group != a.name and a.state == "running" and a.pid:
            label = f"running {a.detail}"  # a pool worker: its task
        elif a.state in ("sleeping", "computing") and a.detail:
            label = f"{a.state} {a.detail}"
        elif a.timeout is not None:
            label = f"{label} (≤{a.timeout:g}s)"
        return (
            Text(a.name, style="bold" if not a.daemon else "italic"),
            Text(cls._ident(a), style="dim"),
            Text(label, style=STATE_STYLES.get(a.state, "")),
            seconds(a.since_s) if a.state not in ("new",) else "",
            timeline(a.history, snapshot.t0, snapshot.now, cls.TIMELINE_WIDTH),
            Text(a.step, style="dim"),
        )
