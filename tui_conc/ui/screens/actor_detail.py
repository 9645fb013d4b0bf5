"""One actor in detail: what it holds and waits for, its YAML step, its states over
time, its log lines. Opened with Enter (or a click) on a row of the Actors panel."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui_conc.state.model import ActorView, Snapshot
from tui_conc.ui.screens.overlay import Overlay
from tui_conc.ui.widgets.actors_panel import state_text
from tui_conc.ui.widgets.styles import STATE_STYLES, seconds

#: Lines of YAML shown either side of the actor's step.
CONTEXT = 3
_LINE = re.compile(r"^L(\d+) ")


def source_around(path: Path | None, step: str) -> Text | None:
    """The scenario's lines around the step ``L42 with mutexA``, that line marked."""
    match = _LINE.match(step)
    if path is None or match is None:
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    at = int(match.group(1))
    text = Text()
    for n in range(max(at - CONTEXT, 1), min(at + CONTEXT, len(lines)) + 1):
        mark = "▶" if n == at else " "
        style = "bold" if n == at else "dim"
        text.append(f"{mark}{n:4d}  ", "yellow" if n == at else "dim")
        text.append(lines[n - 1] + "\n", style)
    return text


def describe(actor: ActorView, snapshot: Snapshot, source: Path | None) -> RenderableType:
    """Everything the snapshot knows about ``actor``."""
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    ident = f"pid {actor.pid} (parent {actor.ppid})" if actor.pid else str(actor.native_id or "-")
    head.add_row(
        "actor", f"{actor.name} · group {actor.group}" + (" · daemon" if actor.daemon else "")
    )
    head.add_row("id", ident)
    head.add_row(
        "now", Text.assemble(state_text(actor, snapshot.stopped), f"  for {seconds(actor.since_s)}")
    )
    if actor.holds:
        head.add_row(
            "holds", ", ".join(f"{n}" + (f" ×{k}" if k > 1 else "") for n, k in actor.holds)
        )
    edge = next((e for e in snapshot.cycle if e.actor == actor.name), None)
    if edge is not None:
        head.add_row("deadlock", Text(edge.sentence(), style="bold red"))
    if actor.step:
        head.add_row("step", actor.step)
    if actor.cpu_s is not None and actor.wall_s is not None:
        head.add_row("time", f"CPU {actor.cpu_s:.2f} s of {actor.wall_s:.2f} s")
    parts: list[RenderableType] = [head]
    around = source_around(source, actor.step or actor.parked)
    if around is not None:
        parts += [Text("\nits step in the scenario", style="bold underline"), around]
    story = snapshot.story(actor)
    if story:
        parts.append(Text("\nstates (the latest kept)", style="bold underline"))
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", style="dim")
        table.add_column()
        table.add_column(justify="right", style="dim")
        end = (snapshot.now - snapshot.t0) / 1e9
        for k, (at, label) in enumerate(story):
            until = story[k + 1][0] if k + 1 < len(story) else end
            state = actor.history[k][1]
            table.add_row(
                f"{at:7.3f}s", Text(label, STATE_STYLES.get(state, "")), seconds(until - at)
            )
        parts.append(table)
    lines = [line for line in snapshot.log if line.actor == actor.name]
    if lines:
        parts.append(Text(f"\nits log ({len(lines)} of the last lines)", style="bold underline"))
        parts.extend(Text(f"{line.t_s:7.3f}  {line.text}") for line in lines[-30:])
    return Group(*parts)


class ActorDetail(Overlay):
    """The detail of one actor, kept up to date while the run goes on."""

    def __init__(
        self, index: int, latest: Callable[[], Snapshot | None], source: Path | None
    ) -> None:
        super().__init__()
        self.index = index
        self.latest = latest
        self.source = source

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="detail")

    def on_mount(self) -> None:
        self.refresh_detail()
        self.set_interval(0.5, self.refresh_detail)

    def refresh_detail(self) -> None:
        snapshot = self.latest()
        if snapshot is None:
            return
        actor = next((a for a in snapshot.actors if a.index == self.index), None)
        if actor is None:
            return
        self.query_one(VerticalScroll).border_title = f"{actor.name} · escape closes"
        self.query_one("#detail", Static).update(describe(actor, snapshot, self.source))
