"""The Locks panel: owners, semaphore values and waiters; events and shared variables."""

from __future__ import annotations

from rich.text import Text

from tui_conc.state.model import LockView, Snapshot
from tui_conc.ui.widgets.live_table import LiveTable


def _names(names: tuple[str, ...], limit: int = 4) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" +{len(names) - limit}"


class LocksPanel(LiveTable):
    """Locks, rlocks, semaphores, conditions, events and variables with who holds and waits."""

    BORDER_TITLE = "Locks & semaphores"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(["Resource", "Kind", "Held by / value", "Waiters"], **kwargs)

    def show(self, snapshot: Snapshot) -> None:
        rows: list[tuple[str, tuple[str | Text, ...]]] = []
        for lock in snapshot.locks:
            rows.append((f"l:{lock.name}", self._lock(lock)))
        for event in snapshot.events:
            state = Text("set", style="bold green") if event.is_set else Text("clear", style="dim")
            waiting = Text(_names(event.waiters), style="yellow")
            rows.append((f"e:{event.name}", (event.name, "event", state, waiting)))
        for b in snapshot.barriers:
            state = Text(f"{len(b.waiters)}/{b.parties} arrived", style="bold")
            if b.broken:
                state = Text("broken", style="bold red")
            note = Text(_names(b.waiters), style="yellow")
            note.append(f"  opened {b.rounds}×", style="dim")
            rows.append((f"b:{b.name}", (b.name, "barrier", state, note)))
        for var in snapshot.variables:
            value = Text(repr(var.value), style="bold")
            rows.append((f"v:{var.name}", (var.name, "variable", value, f"{var.writes} writes")))
        self.sync(rows)
        self.display = bool(rows)

    @staticmethod
    def _lock(lock: LockView) -> tuple[str | Text, ...]:
        if lock.value is not None:
            holders = Text.assemble(
                (f"{lock.value}/{lock.initial} free", "bold" if lock.value else "bold red"),
                f"  {_names(tuple(name for name, _ in lock.owners), 3)}",
            )
        elif lock.owners:
            holders = Text(
                ", ".join(f"{name}" + (f" ×{n}" if n > 1 else "") for name, n in lock.owners),
                style="bold red" if lock.waiters else "bold",
            )
        else:
            holders = Text("free", style="green")
        waiting = Text(_names(lock.waiters), style="red")
        if lock.cond_waiters:
            waiting.append(f" notify? {_names(lock.cond_waiters)}", style="yellow")
        kind = lock.kind.replace("bounded_semaphore", "bsemaphore")
        return (lock.name, kind, holders, waiting)
