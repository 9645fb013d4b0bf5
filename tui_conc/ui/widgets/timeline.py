"""A one-line timeline of an actor's states over the whole run."""

from __future__ import annotations

from bisect import bisect_right
from itertools import groupby

from rich.text import Text

from tui_conc.ui.widgets.styles import STATE_STYLES

#: The block drawn for each state (colour does most of the work).
_GLYPHS = {"new": " ", "done": "▁", "failed": "✗", "killed": "✗"}


def timeline(history: tuple[tuple[int, str], ...], t0: int, now: int, width: int) -> Text:
    """``width`` cells from the run's start to ``now``, each coloured by the state then.

    Time before the oldest kept change shows as ``·`` (the history is bounded).
    """
    if now <= t0 or not history:
        return Text("·" * width, style="dim")
    times = [t for t, _ in history]
    span = now - t0
    cells: list[tuple[str, str]] = []
    for cell in range(width):
        at = t0 + span * (cell + 0.5) / width
        i = bisect_right(times, at) - 1
        if i < 0:
            cells.append(("·" if history[0][0] > t0 + span / width else " ", "dim"))
        else:
            state = history[i][1]
            cells.append((_GLYPHS.get(state, "█"), STATE_STYLES.get(state, "")))
    text = Text()
    for (glyph, style), run in groupby(cells):  # one span per run of equal cells
        text.append(glyph * len(list(run)), style)
    return text
