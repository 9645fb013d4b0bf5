"""The Queues panel: depth against maxsize, a depth sparkline, traffic, who is stuck."""

from __future__ import annotations

from rich.text import Text

from tui_conc.state.model import QueueView, Snapshot
from tui_conc.ui.widgets.live_table import LiveTable
from tui_conc.ui.widgets.styles import bar, sparkline


class QueuesPanel(LiveTable):
    """One row per queue."""

    BORDER_TITLE = "Queues"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(["Queue", "Depth", "History", "Put/Got", "Blocked"], **kwargs)

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
        return (
            name,
            bar(q.depth, q.maxsize),
            Text(sparkline(q.history, 16, q.maxsize or None), style="cyan"),
            f"{q.puts:,}/{q.gets:,}",
            blocked,
        )
