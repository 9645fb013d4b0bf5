"""The Pool panel: one lane per worker process, the task it runs, and the tasks waiting."""

from __future__ import annotations

from rich.text import Text

from tui_conc.state.model import LaneView, PoolView, Snapshot
from tui_conc.ui.widgets.live_table import Column, LiveTable
from tui_conc.ui.widgets.styles import STATE_STYLES, seconds

#: Waiting tasks named in a pool's queue row before "+ N more".
WAITING_SHOWN = 3


class PoolPanel(LiveTable):
    """Per pool: a row per worker lane, then a row for its queue of waiting tasks."""

    BORDER_TITLE = "Pool"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            [
                Column("Worker", min=6, max=16),
                Column("pid", min=0, max=8, give=2),
                Column("Running", min=10, grow=True),
                Column("For", min=4, max=6),
                Column("Done", min=4, max=6),
            ],
            **kwargs,
        )

    def show(self, snapshot: Snapshot) -> None:
        rows: list[tuple[str, tuple[str | Text, ...]]] = []
        for pool in snapshot.pools:
            rows += [(f"{pool.name}:{lane.actor}", self._lane(lane)) for lane in pool.lanes]
            rows.append((f"{pool.name}:queue", self._queue(pool)))
        self.sync(rows)
        self.display = bool(snapshot.pools)
        if snapshot.pools:
            self.retitle(" · ".join(self._title(p) for p in snapshot.pools))

    @staticmethod
    def _title(pool: PoolView) -> str:
        parts = [f"Pool {pool.name}: {pool.busy}/{pool.workers} busy (max {pool.max_busy})"]
        parts.append(f"{pool.done}/{pool.submitted} done")
        if pool.failed:
            parts.append(f"{pool.failed} failed")
        if pool.lost:
            parts.append(f"{len(pool.lost)} lost with a killed worker: {', '.join(pool.lost)}")
        if pool.terminated:
            parts.append(f"terminated: {pool.killed} killed, {len(pool.never_ran)} never ran")
        elif pool.closed:
            parts.append("closed")
        return " · ".join(parts)

    @staticmethod
    def _lane(lane: LaneView) -> tuple[str | Text, ...]:
        if lane.task:
            running: str | Text = Text(lane.task, style="bold green")
            since = seconds(lane.task_s)
        else:
            idle = "idle" if lane.state == "running" else lane.state
            running, since = Text(idle, style=STATE_STYLES.get(lane.state, "dim")), ""
        return (
            Text(lane.actor, style="bold"),
            Text(str(lane.pid) if lane.pid else "-", style="dim"),
            running,
            since,
            str(lane.done),
        )

    @staticmethod
    def _queue(pool: PoolView) -> tuple[str | Text, ...]:
        if pool.terminated:
            names = pool.never_ran
            head = Text(f"never ran ({len(names)}): ", style="red")
        else:
            names = pool.waiting
            head = Text(f"waiting ({pool.waiting_count}): ", style="yellow")
        shown = ", ".join(names[:WAITING_SHOWN])
        total = len(names) if pool.terminated else pool.waiting_count
        more = total - WAITING_SHOWN
        head.append(shown or "none", style="dim")
        if more > 0:
            head.append(f" + {more} more", style="dim italic")
        return (Text("queue", style="italic"), "", head, "", "")
