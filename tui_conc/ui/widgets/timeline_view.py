"""The Timeline view: one lane per actor, the resources below, a time axis and a cursor.

Moving the cursor (← →, home, end, a click) looks back in the run: the app
sets every panel to the state at the cursor's time. ``end`` goes back to now.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_conc.state.lanes import Lanes, sampled_columns, state_columns
from tui_conc.ui.widgets.styles import STATE_GLYPHS, STATE_STYLES, Retitled

_SPARKS = "▁▂▃▄▅▆▇█"
#: Holders of a lock read apart by colour as well as by name.
_HOLDER_COLOURS = ("#5fafff", "#ffaf5f", "#5fd7af", "#d787ff", "#ffd75f", "#ff8787", "#87d7ff")
_ZOOM_MIN_NS = 10_000  #: the narrowest window: 10 µs across the view


@dataclass(frozen=True)
class TimelineData:
    """What the Timeline draws of one run."""

    t0: int  #: the run's start (monotonic ns)
    end: int  #: now, or the run's end
    lanes: Lanes
    actors: tuple[str, ...]  #: names, by index
    order: tuple[int, ...]  #: the actors' lanes, top to bottom (the interesting first)
    cycle: frozenset[int] = frozenset()
    #: (index, name, kind, maxsize) of every sampled resource
    resources: tuple[tuple[int, str, str, int], ...] = ()
    version: int = 0
    full_at: int | None = field(default=None)


class TimelineView(Retitled, ScrollView, can_focus=True):
    """Lanes over a time window; the cursor picks an instant of the run.

    | Key | Action |
    | :- | :- |
    | ← / → | move the cursor one column (shift: ten) |
    | + / - | zoom in / out around the cursor |
    | home / end | the run's start / now (end leaves the past) |
    | ↑ / ↓ | select a lane (``{`` ``}`` step through its actor's events) |
    """

    DEFAULT_CSS = """
    TimelineView { height: 1fr; }
    TimelineView > .timeline--cursor { background: $accent 40%; }
    """
    COMPONENT_CLASSES = {"timeline--cursor"}
    BINDINGS = [
        Binding("left", "move(-1)", "Earlier", show=False),
        Binding("right", "move(1)", "Later", show=False),
        Binding("shift+left", "move(-10)", "Earlier", show=False),
        Binding("shift+right", "move(10)", "Later", show=False),
        Binding("plus,equals_sign", "zoom(0.5)", "Zoom in"),
        Binding("minus", "zoom(2)", "Zoom out"),
        Binding("home", "edge(0)", "Start", show=False),
        Binding("end", "edge(1)", "Now", show=False),
        Binding("up", "lane(-1)", "Up", show=False),
        Binding("down", "lane(1)", "Down", show=False),
    ]

    class Moved(Message):
        """The cursor moved to ``at`` (monotonic ns), or back to now (None)."""

        def __init__(self, at: int | None) -> None:
            super().__init__()
            self.at = at

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.data: TimelineData | None = None
        self.cursor: int | None = None  #: the cursor's time (None: now)
        self.span: int | None = None  #: the window's width in ns (None: the whole run)
        self.start: int | None = None  #: the window's start (None: follow the run)
        self.lane = 0  #: the selected lane (an index into the actors' order)
        self._rows: dict[int, Strip] = {}

    # ------------------------------------------------------------ fed by the app

    def show(self, data: TimelineData | None, cursor: int | None) -> None:
        self.data, self.cursor = data, cursor
        self._rows.clear()
        lines = 1
        if data is not None:
            lines += len(data.order) + (1 + len(data.resources) if data.resources else 0)
        self.virtual_size = Size(self.size.width, lines)
        if data is not None:
            start, span = self.window()
            title = f"Timeline {(start - data.t0) / 1e9:.3f}–{(start + span - data.t0) / 1e9:.3f} s"
            if data.full_at is not None:
                title += f" · lanes end at {(data.full_at - data.t0) / 1e9:.2f} s"
            self.retitle(title)
            self.border_subtitle = "←→ cursor · +/- zoom · home/end · [ ] events · { } this actor's"
        self.refresh()

    def reset(self) -> None:
        self.data, self.cursor, self.span, self.start, self.lane = None, None, None, None, 0
        self._rows.clear()
        self.refresh()

    @property
    def selected_actor(self) -> int | None:
        """The actor of the selected lane."""
        if self.data is None or not self.data.order:
            return None
        return self.data.order[min(self.lane, len(self.data.order) - 1)]

    # ------------------------------------------------------------ the window

    def cells(self) -> int:
        return max(self.scrollable_content_region.width - self._label_width(), 1)

    def window(self) -> tuple[int, int]:
        """(start, span) in monotonic ns."""
        data = self.data
        assert data is not None
        whole = max(data.end - data.t0, 1)
        span = whole if self.span is None else min(self.span, whole)
        if self.start is None:  # follow the run: its whole length, or the latest part
            start = data.t0 if self.span is None else data.end - span
        else:
            start = min(max(self.start, data.t0), data.end - span)
        return start, span

    def _column(self, t: int) -> int:
        start, span = self.window()
        return int((t - start) / (span / self.cells()))

    def _time_of(self, column: int) -> int:
        start, span = self.window()
        return int(start + span * (column + 1) / self.cells())  # the column's end

    # ------------------------------------------------------------ keys

    def action_move(self, columns: int) -> None:
        data = self.data
        if data is None:
            return
        start, span = self.window()
        now = self.cursor if self.cursor is not None else data.end
        at = min(max(now + int(span / self.cells() * columns), data.t0), data.end)
        if not start <= at <= start + span:  # keep the cursor in view: pan
            self.start = min(max(at - span // 2, data.t0), data.end - span)
        self._move_to(None if at >= data.end else at)

    def action_zoom(self, factor: float) -> None:
        data = self.data
        if data is None:
            return
        _, span = self.window()
        whole = max(data.end - data.t0, 1)
        new = int(min(max(span * factor, _ZOOM_MIN_NS), whole))
        centre = self.cursor if self.cursor is not None else data.end
        self.span = None if new >= whole else new
        self.start = None if self.span is None else int(centre - new / 2)
        self.show(data, self.cursor)

    def action_edge(self, end: int) -> None:
        data = self.data
        if data is None:
            return
        if end:
            self.start = None
            self._move_to(None)
        else:
            self.start = data.t0
            self._move_to(data.t0)

    def action_lane(self, step: int) -> None:
        if self.data is None or not self.data.order:
            return
        self.lane = min(max(self.lane + step, 0), len(self.data.order) - 1)
        top, rows = int(self.scroll_offset.y), self.scrollable_content_region.height
        line = self.lane + 1
        if line < top + 1:
            self.scroll_to(y=max(line - 1, 0), animate=False)
        elif line >= top + rows:
            self.scroll_to(y=line - rows + 1, animate=False)
        self._rows.clear()
        self.refresh()

    def on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        if self.data is None:
            return
        column = event.x - self._label_width()
        if column >= 0:
            self._move_to(min(self._time_of(column), self.data.end))

    def _move_to(self, at: int | None) -> None:
        self.cursor = at
        self.post_message(self.Moved(at))
        self.show(self.data, at)

    # ------------------------------------------------------------ drawing

    def _label_width(self) -> int:
        if self.data is None:
            return 10
        longest = max((len(n) for n in self.data.actors), default=4)
        longest = max([longest, *(len(r[1]) for r in self.data.resources)])
        return min(max(longest + 3, 8), 18)

    def render_line(self, y: int) -> Strip:
        scroll_y = int(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        if self.data is None:
            text = Text(" no run yet: press r" if y == 0 else "", style="dim")
            return Strip(text.render(self.app.console)).adjust_cell_length(width)
        if y == 0:
            return self._axis(width)  # the axis stays on top
        line = y + scroll_y
        strip = self._rows.get(line)
        if strip is None:
            strip = self._rows[line] = self._lane_line(line - 1, width)
        return strip

    def _axis(self, width: int) -> Strip:
        data = self.data
        assert data is not None
        start, span = self.window()
        label, cells = self._label_width(), self.cells()
        text = Text("time (s)".ljust(label)[:label], style="bold")
        marks = [" "] * cells
        step = max(cells // max(cells // 14, 1), 1)
        for c in range(0, cells, step):
            tick = f"┆{(start + span * c / cells - data.t0) / 1e9:.3f}"
            for i, ch in enumerate(tick):
                if c + i < cells:
                    marks[c + i] = ch
        cursor = self._cursor_column()
        axis = Text("".join(marks), style="dim")
        if cursor is not None:
            axis.stylize("bold reverse", cursor, cursor + 1)
        text.append_text(axis)
        return Strip(text.render(self.app.console)).adjust_cell_length(width)

    def _cursor_column(self) -> int | None:
        if self.data is None:
            return None
        column = self._column(self.cursor if self.cursor is not None else self.data.end)
        return column if 0 <= column < self.cells() else min(column, self.cells() - 1)

    def _lane_line(self, index: int, width: int) -> Strip:
        data = self.data
        assert data is not None
        label = self._label_width()
        cells = self.cells()
        start, span = self.window()
        cursor = self._cursor_column()
        actors = len(data.order)
        if index < actors:
            actor = data.order[index]
            name = data.actors[actor]
            mark = "◆ " if actor in data.cycle else "  "
            style = "bold reverse" if index == self.lane and self.has_focus else "bold"
            text = Text(mark, style="bold red").append((name + " " * label)[: label - 2], style)
            lane = data.lanes.actors[actor] if actor < len(data.lanes.actors) else None
            body = self._states(lane, start, span, cells) if lane is not None else Text()
        elif index == actors and data.resources:
            text = Text("resources".ljust(label + cells, "─")[: label + cells], style="dim")
            return Strip(text.render(self.app.console)).adjust_cell_length(width)
        elif 0 <= index - actors - 1 < len(data.resources):
            res_index, name, kind, maxsize = data.resources[index - actors - 1]
            text = Text((name + " " * label)[: label - 1] + " ", style="italic")
            body = self._resource(res_index, kind, maxsize, start, span, cells)
        else:
            return Strip.blank(width)
        if cursor is not None and body.cell_len > cursor:
            body.stylize(self.get_component_rich_style("timeline--cursor"), cursor, cursor + 1)
        text.append_text(body)
        return Strip(text.render(self.app.console)).adjust_cell_length(width)

    def _states(self, lane, start: int, span: int, cells: int) -> Text:  # type: ignore[no-untyped-def]
        data = self.data
        assert data is not None
        columns = state_columns(lane, start, span, cells, data.end)
        text = Text()
        for column in columns:
            if column is None:
                text.append(" ")
            else:
                state = column[0]
                text.append(STATE_GLYPHS.get(state, "█"), STATE_STYLES.get(state, ""))
        return text

    def _resource(
        self, index: int, kind: str, maxsize: int, start: int, span: int, cells: int
    ) -> Text:
        data = self.data
        assert data is not None
        times, values = data.lanes.sampled(index)
        columns = sampled_columns(times, values, start, span, cells, data.end)
        text = Text()
        if kind == "lock":
            previous: int | None = -2
            for c, holder in enumerate(columns):
                if holder is None or holder < 0:
                    text.append("·" if holder is not None else " ", "dim")
                else:
                    colour = _HOLDER_COLOURS[holder % len(_HOLDER_COLOURS)]
                    name = data.actors[holder] if holder < len(data.actors) else "?"
                    # a new holder: its name starts the run (as far as the run of cells goes)
                    run = len(columns[c:]) - len(_drop_same(columns[c:], holder))
                    if holder != previous and run >= 3:
                        shown = name[: run - 1]
                        text.append(shown, Style(color="black", bgcolor=colour))
                        text.append("━" * (run - len(shown)), Style(color=colour))
                    elif holder != previous:
                        text.append("━" * run, Style(color=colour))
                previous = holder
            return _trim(text, cells)
        if kind == "semaphore":
            for value in columns:
                if value is None:
                    text.append(" ")
                else:
                    digit = str(value) if 0 <= value < 10 else "+"
                    text.append(digit, "bold red" if value <= 0 else "green")
            return text
        if kind == "queue":
            seen = [v for v in columns if v is not None]
            top = max(maxsize, max(seen, default=0), 1)
            for value in columns:
                if value is None:
                    text.append(" ")
                elif value <= 0:
                    text.append("·", "dim")
                else:
                    spark = _SPARKS[min(int(value / top * (len(_SPARKS) - 1) + 0.5), 7)]
                    text.append(spark, "bold red" if maxsize and value >= maxsize else "cyan")
            return text
        for value in columns:  # an event: set or not
            glyph = " " if value is None else "━" if value else "·"
            text.append(glyph, "green" if value else "dim")
        return text


def _drop_same(values: list[int | None], holder: int) -> list[int | None]:
    """``values`` after their leading run of ``holder``."""
    for i, v in enumerate(values):
        if v != holder:
            return values[i:]
    return []


def _trim(text: Text, cells: int) -> Text:
    text.truncate(cells)
    return text
