"""The Sockets panel: listeners and connections, their traffic, and select calls."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui_conc.state.model import SelectView, Snapshot, SocketView
from tui_conc.ui.widgets.live_table import Column, LiveTable
from tui_conc.ui.widgets.styles import sparkline


class SocketsPanel(Vertical):
    """A line per selector summing up its select calls, then a row per socket."""

    BORDER_TITLE = "Sockets"
    DEFAULT_CSS = """
    SocketsPanel { height: auto; }
    SocketsPanel > #select-summary { height: auto; padding: 0 1; color: $text-muted; }
    SocketsPanel > LiveTable { height: auto; max-height: 8; }
    """

    _summary: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="select-summary")
        yield LiveTable(
            [
                Column("Socket", min=6, max=28),
                Column("State", min=4, max=12),
                Column("In/Out bytes", min=6, max=16),
                Column("Polls empty/found", min=6, max=18, give=1),
                Column("Owner", min=4, max=16, grow=True),
            ]
        )

    def show(self, snapshot: Snapshot) -> None:
        self.display = bool(snapshot.sockets)
        self.query_one(LiveTable).sync([(str(s.id), self._row(s)) for s in snapshot.sockets])
        summary = self.query_one("#select-summary", Static)
        summary.display = bool(snapshot.selects)
        text = Text("\n").join(self._select_line(sel) for sel in snapshot.selects)
        if text.plain != self._summary:  # an update relayouts the screen: only on a change
            self._summary = text.plain
            summary.update(text)

    def reset(self) -> None:
        self.query_one(LiveTable).reset()
        self._summary = None

    @staticmethod
    def _select_line(sel: SelectView) -> Text:
        ready = ", ".join(sel.last_ready[:4]) + (" …" if len(sel.last_ready) > 4 else "")
        return Text.assemble(
            (sel.name, "bold"),
            f": {sel.calls} calls · {sel.blocked_s:.2f}s blocked · {len(sel.watched)} watched · "
            "ready per call ",
            (sparkline(sel.ready_sizes, 24, top=max(len(sel.watched), 1)), "cyan"),
            f" · last ready: {ready or '-'}",
        )

    @staticmethod
    def _row(s: SocketView) -> tuple[str | Text, ...]:
        if s.role == "listen":
            state = Text(
                f"listening · {s.accepted} accepted · {s.open_conns} open (max {s.max_open})",
                style="bold" if s.open else "dim",
            )
        else:
            state = Text("open" if s.open else "closed", style="green" if s.open else "dim")
        found = s.accepted if s.role == "listen" else s.reads
        polls = Text.assemble(
            (f"{s.misses:,}", "yellow" if s.misses else "dim"), " / ", (f"{found:,}", "green")
        )
        return (
            Text(s.label, style="bold" if s.open else "dim"),
            state,
            f"{s.bytes_in:,} / {s.bytes_out:,}",
            polls,
            s.owner,
        )
