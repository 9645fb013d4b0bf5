"""The Queues panel: depth against maxsize, a depth sparkline, traffic, who is stuck."""

from __future__ import annotations

from rich.text import Text

from tui_conc.state.model import QueueView, Snapshot
from tui_conc.ui.widgets.live_table import Column, Fill, LiveTable
from tui_conc.ui.widgets.styles import bar, sparkline


class QueuesPanel(LiveTable):
    """One row per queue."""

    BORDER_TITLE = "Queues"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            [
                Column("Queue", min=4, max=20),
                Column("Depth", min=6, max=14),
                Column("History", min=8, max=48, grow=True),
                Column("Put/Got", min=5, max=15, give=1),
                Column("Blocked", min=6, max=40),
            ],
            **kwargs,
        )

    def show(self, snapshot: Snapshot) -> None:
        self.sync([(q.name, self._row(q)) for q in snapshot.queues])
        self.display = bool(snapshot.queues)

    @staticmethod
    def _row(q: QueueView) -> tuple[str | Text, ...]:
        blocked = Text()
        if q.blocked_put:
            blocked.append(f"put: {', '.join(q.blocked_put[:2])}", style="red")
        if q.blocked_get:
            blocked.append(
                (" " if blocked else "") + f"get: {', '.join(q.blocked_get[:2])}", "yellow"
            )
        if q.joiners:
            blocked.append((" " if blocked else "") + f"join: {', '.join(q.joiners[:2])}", "yellow")
        name = f"{q.name} ({q.kind})" if q.kind != "fifo" else q.name
        # bounded: against maxsize; unbounded: against the run's deepest (at least 4)
        top = q.maxsize or max(q.max_depth, 4)
        history = Fill(
            lambda w, h=q.history: Text(sparkline(h, w, top), style="cyan"),
            (q.history, top),
            16,
        )
        return (name, bar(q.depth, q.maxsize), history, f"{q.puts:,}/{q.gets:,}", blocked)
