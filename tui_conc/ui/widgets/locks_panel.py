"""The Locks panel: owners, semaphore values and waiters; events, barriers, variables."""

from __future__ import annotations

from rich.text import Text

from tui_conc.state.model import LockView, Snapshot
from tui_conc.ui.widgets.live_table import Column, Fill, LiveTable


def names_fitting(
    names: tuple[str, ...], width: int, style: str = "", marked: frozenset[str] = frozenset()
) -> Text:
    """As many of ``names`` as fit in ``width`` cells, the marked (a deadlock's members)
    first, with ``+N`` for the rest; every name when there is room."""
    ordered = [n for n in names if n in marked] + [n for n in names if n not in marked]
    text = Text()
    for k, name in enumerate(ordered):
        rest = len(ordered) - k - 1
        piece = (", " if k else "") + ("◆ " if name in marked else "") + name
        tail = f" +{rest}" if rest else ""
        if text.cell_len + len(piece) + len(tail) > width and k:
            text.append(f" +{len(ordered) - k}", style="dim italic")
            return text
        text.append(", " if k else "")
        if name in marked:
            text.append(f"◆ {name}", style="bold reverse red")
        else:
            text.append(name, style=style)
    return text


def _waiting(names: tuple[str, ...], style: str, marked: frozenset[str]) -> Fill:
    natural = sum(len(n) + 2 for n in names) + 2 * len(marked)
    return Fill(lambda w: names_fitting(names, w, style, marked), (names, style, marked), natural)


class LocksPanel(LiveTable):
    """Locks, rlocks, semaphores, conditions, events, barriers and variables: who holds
    them and who waits."""

    BORDER_TITLE = "Locks & semaphores"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            [
                Column("Resource", min=6, max=18),
                Column("Kind", min=4, max=10, give=2),
                Column("Held by / value", min=8, max=32),
                Column("Waiters", min=8, grow=True),
            ],
            **kwargs,
        )

    def show(self, snapshot: Snapshot) -> None:
        cycle = frozenset(e.actor for e in snapshot.cycle) | frozenset(
            e.actor for e in snapshot.suspect
        )
        rows: list[tuple[str, tuple[str | Text | Fill, ...]]] = []
        for lock in snapshot.locks:
            rows.append((f"l:{lock.name}", self._lock(lock, cycle)))
        for event in snapshot.events:
            state = Text("set", style="bold green") if event.is_set else Text("clear", style="dim")
            rows.append(
                (
                    f"e:{event.name}",
                    (event.name, "event", state, _waiting(event.waiters, "yellow", cycle)),
                )
            )
        for b in snapshot.barriers:
            state = Text(f"{len(b.waiters)}/{b.parties} arrived", style="bold")
            if b.broken:
                state = Text("broken", style="bold red")
            rows.append(
                (f"b:{b.name}", (b.name, "barrier", state, _waiting(b.waiters, "yellow", cycle)))
            )
        for var in snapshot.variables:
            value = Text(repr(var.value), style="bold")
            rows.append((f"v:{var.name}", (var.name, "variable", value, f"{var.writes} writes")))
        self.sync(rows)
        self.display = bool(rows)

    @staticmethod
    def _lock(lock: LockView, cycle: frozenset[str]) -> tuple[str | Text | Fill, ...]:
        owners = tuple(
            name + (" (lease expired)" if name in lock.stale else "") for name, _ in lock.owners
        )
        if lock.value is not None:
            holders = Text.assemble(
                (f"{lock.value}/{lock.initial} free", "bold" if lock.value else "bold red"),
                "  ",
                ", ".join(owners),
            )
        elif lock.owners:
            holders = Text()
            for k, (name, n) in enumerate(lock.owners):
                text = name + (f" ×{n}" if n > 1 else "")
                text += " (lease expired)" if name in lock.stale else ""
                holders.append(", " if k else "")
                holders.append(
                    f"◆ {text}" if name in cycle else text,
                    style="bold reverse red"
                    if name in cycle
                    else "bold red"
                    if lock.waiters
                    else "bold",
                )
        else:
            holders = Text("free", style="green")
        waiting: Fill | Text = _waiting(lock.waiters, "red", cycle)
        if lock.cond_waiters:
            both = lock.waiters + lock.cond_waiters
            waiting = Fill(
                lambda w: Text.assemble(
                    names_fitting(lock.waiters, max(w // 2, 8), "red", cycle),
                    (" notify? ", "yellow"),
                    names_fitting(lock.cond_waiters, max(w - w // 2 - 9, 8), "yellow", cycle),
                ),
                (both, lock.cond_waiters, cycle),
                sum(len(n) + 2 for n in both) + 9,
            )
        kind = lock.kind.replace("bounded_semaphore", "bsemaphore")
        return (lock.name, kind, holders, waiting)
