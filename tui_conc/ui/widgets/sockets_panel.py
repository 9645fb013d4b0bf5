"""The Sockets panel: listeners and connections, their traffic, and select calls."""

from __future__ import annotations

from rich.text import Text

from tui_conc.state.model import Snapshot, SocketView
from tui_conc.ui.widgets.live_table import LiveTable


class SocketsPanel(LiveTable):
    """One row per socket; the subtitle sums up the select calls."""

    BORDER_TITLE = "Sockets"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(["Socket", "Owner", "State", "In/Out bytes", "Empty polls"], **kwargs)

    def show(self, snapshot: Snapshot) -> None:
        self.sync([(str(s.id), self._row(s)) for s in snapshot.sockets])
        self.display = bool(snapshot.sockets)
        parts = []
        for sel in snapshot.selects:
            ready = ", ".join(sel.last_ready[:3]) + ("…" if len(sel.last_ready) > 3 else "")
            parts.append(
                f"{sel.name}: {sel.calls} calls, {sel.blocked_s:.2f}s blocked, "
                f"{len(sel.watched)} watched, ready: {ready or '-'}"
            )
        self.border_title = " · ".join(["Sockets", *parts])

    @staticmethod
    def _row(s: SocketView) -> tuple[str | Text, ...]:
        if s.role == "listen":
            state = Text(
                f"listening: {s.accepted} accepted, {s.open_conns} open (max {s.max_open})",
                style="bold" if s.open else "dim",
            )
        else:
            state = Text("open" if s.open else "closed", style="green" if s.open else "dim")
        misses = Text(f"{s.misses:,}", style="yellow") if s.misses else Text("-", style="dim")
        return (
            Text(s.label, style="bold" if s.open else "dim"),
            s.owner,
            state,
            f"{s.bytes_in:,} / {s.bytes_out:,}",
            misses,
        )
