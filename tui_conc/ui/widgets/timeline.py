"""A one-line timeline of an actor's states over the whole run, and its time scale."""

from __future__ import annotations

from bisect import bisect_right
from itertools import groupby

from rich.text import Text

from tui_conc.ui.widgets.styles import STATE_GLYPHS, STATE_STYLES


def timeline(history: tuple[tuple, ...], t0: int, now: int, width: int) -> Text:
    """``width`` cells from the run's start to ``now``, each the state then: its glyph
    in its colour. Time before the oldest kept change shows as ``·`` (the history is
    bounded)."""
    if width <= 0:
        return Text()
    if now <= t0 or not history:
        return Text("·" * width, style="dim")
    times = [entry[0] for entry in history]
    span = now - t0
    cells: list[tuple[str, str]] = []
    for cell in range(width):
        at = t0 + span * (cell + 0.5) / width
        i = bisect_right(times, at) - 1
        if i < 0:
            cells.append(("·" if history[0][0] > t0 + span / width else " ", "dim"))
        else:
            state = history[i][1]
            cells.append((STATE_GLYPHS.get(state, "█"), STATE_STYLES.get(state, "")))
    text = Text()
    for (glyph, style), run in groupby(cells):  # one span per run of equal cells
        text.append(glyph * len(list(run)), style)
    return text


def scale(seconds: float, width: int) -> Text:
    """The header of a timeline column: ``0s ······ 2.03s`` across ``width`` cells."""
    end = f"{seconds:.2f}s" if seconds < 100 else f"{seconds:.0f}s"
    if width < len(end) + 4:
        return Text("Timeline"[:width], style="bold")
    fill = width - len(end) - 3
    return Text.assemble(("0s ", "bold"), ("─" * fill, "dim"), (end, "bold"))
