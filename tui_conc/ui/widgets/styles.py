"""Colours and small renderings shared by the panels."""

from __future__ import annotations

from rich.text import Text

#: One colour per family of states, each distinct (blocked is the only red;
#: failed is the error colour on its own background, never grey).
STATE_STYLES = {
    "new": "dim",
    "running": "bold green",
    "blocked": "bold red",
    "waiting": "bold yellow",
    "sleeping": "bold blue",
    "computing": "bold magenta",
    "io": "bold cyan",
    "done": "dim green",
    "failed": "bold white on #af0000",
    "killed": "bold #ff87ff",
    "stopped": "dim italic",
}
#: The glyph of each state in a timeline: the states read apart without colour too.
STATE_GLYPHS = {
    "new": " ",
    "running": "█",
    "blocked": "▓",
    "waiting": "▒",
    "sleeping": "─",
    "computing": "▚",
    "io": "≈",
    "done": "▁",
    "failed": "✗",
    "killed": "†",
}


def legend() -> Text:
    """``█ running ▓ blocked …``: every state's glyph in its colour."""
    text = Text()
    for state, glyph in STATE_GLYPHS.items():
        if state == "new":
            continue
        text.append(glyph, STATE_STYLES[state].replace("on #af0000", "").strip() or "")
        text.append(f" {state}  ")
    return text


#: How each expectation outcome is marked.
OUTCOME_MARKS = {
    "passed": ("✓", "bold green"),
    "failed": ("✗", "bold red"),
    "inconclusive": ("?", "bold yellow"),
    "not checked": ("–", "dim"),
}

STATUS_STYLES = {
    "starting": "bold cyan",
    "running": "bold green",
    "paused": "bold yellow",
    "finished": "bold blue",
    "deadlock": "bold white on red",
    "stall": "bold black on yellow",
    "stopped": "bold white on grey37",
    "timeout": "bold black on yellow",
    "error": "bold white on red",
    "idle": "dim",
}

_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: tuple[int, ...], width: int, top: int | None = None) -> str:
    """The last ``width`` values as block characters, scaled to ``top`` (or the max);
    an empty sample is a space, so 0 and 1 read apart."""
    values = values[-width:]
    if not values:
        return ""
    peak = max(top or 0, max(values), 1)
    return "".join(
        " " if v <= 0 else _SPARKS[min(int(v / peak * (len(_SPARKS) - 1) + 0.5), 7)] for v in values
    )


def bar(depth: int, maxsize: int, width: int = 8) -> Text:
    """``███░░░ 3/5`` — a depth bar against maxsize (or the run's max when unbounded)."""
    if maxsize > 0:
        filled = min(round(depth / maxsize * width), width)
        style = "bold red" if depth >= maxsize else "green"
        return Text.assemble(
            ("█" * filled, style), ("░" * (width - filled), "dim"), f" {depth}/{maxsize}"
        )
    return Text(f"{depth}/∞")


def seconds(value: float) -> str:
    """Compact seconds: 0.4s, 12s, 3m05s."""
    if value < 10:
        return f"{value:.1f}s"
    if value < 60:
        return f"{value:.0f}s"
    return f"{int(value // 60)}m{int(value % 60):02d}s"


class Retitled:
    """A panel whose border title is set only when it changes: setting one repaints
    the whole panel, and the panels are told their title at every redraw."""

    _shown_title = ""

    def retitle(self, title: str) -> None:
        if title != self._shown_title:
            self._shown_title = self.border_title = title  # type: ignore[attr-defined]
