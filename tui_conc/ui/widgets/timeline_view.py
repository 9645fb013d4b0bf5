"""The Timeline view: one lane per actor, the resources below, a time axis and a cursor.

Moving the cursor (← →, home, end, a click) looks back in the run: the app
sets every panel to the state at the cursor's time. ``end`` goes back to now.
With a run to compare (``c``), the previous run's lanes come first, on the
same axis (time since each run's start), under the differences of the two.
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

from tui_conc.state.lanes import ActorLane, Lanes, sampled_columns, state_columns
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
    full_at: int | None = field(default=None)


@dataclass(frozen=True)
class Compared:
    """A run to show above this one: its lanes, a title, and what differs."""

    data: TimelineData
    title: str
    differences: tuple[str, ...] = ()


#: A row of the view: ("note", text) | ("title", text) | ("actor", group, actor)
#: | ("rule", group) | ("resource", group, index in data.resources)
_Row = tuple


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
        self.compared: Compared | None = None
        self.cursor: int | None = None  #: the cursor's time (None: now)
        self.span: int | None = None  #: the window's width in ns (None: the whole run)
        self.start: int | None = None  #: the window's start, ns since t0 (None: follow)
        self.lane = 0  #: the selected lane (an index into the actors' order)
        self._layout: list[_Row] = []
        self._rows: dict[int, Strip] = {}
        self._labels = 10  #: the label column's width, set at each show

    # ------------------------------------------------------------ fed by the app

    def show(
        self, data: TimelineData | None, cursor: int | None, compared: Compared | None = None
    ) -> None:
        self.data, self.cursor, self.compared = data, cursor, compared
        self._rows.clear()
        self._layout = self._lay_out()
        self._labels = self._measure_labels()
        self.virtual_size = Size(self.size.width, 1 + len(self._layout))
        if data is not None:
            start, span = self.window()
            title = f"Timeline {start / 1e9:.3f}–{(start + span) / 1e9:.3f} s"
            if data.full_at is not None:
                title += f" · lanes end at {(data.full_at - data.t0) / 1e9:.2f} s"
            if compared is not None:
                title += " · compared with the run before (c: this run alone)"
            self.retitle(title)
        self.refresh()

    def reset(self) -> None:
        self.data, self.compared, self.cursor = None, None, None
        self.span, self.start, self.lane = None, None, 0
        self._layout = []
        self._rows.clear()
        self.refresh()

    @property
    def selected_actor(self) -> int | None:
        """The actor of the selected lane (of this run)."""
        if self.data is None or not self.data.order:
            return None
        return self.data.order[min(self.lane, len(self.data.order) - 1)]

    def _groups(self) -> list[TimelineData]:
        assert self.data is not None
        return [self.compared.data, self.data] if self.compared is not None else [self.data]

    def _lay_out(self) -> list[_Row]:
        if self.data is None:
            return []
        rows: list[_Row] = []
        if self.compared is not None:
            rows += [("note", line) for line in self.compared.differences]
        for g, data in enumerate(self._groups()):
            if self.compared is not None:
                title = self.compared.title if g == 0 else "this run"
                rows.append(("title", title))
            rows += [("actor", g, actor) for actor in data.order]
            if data.resources:
                rows.append(("rule", g))
                rows += [("resource", g, k) for k in range(len(data.resources))]
        return rows

    # ------------------------------------------------------------ the window (ns since t0)

    def cells(self) -> int:
        return max(self.scrollable_content_region.width - self._label_width(), 1)

    def _whole(self) -> int:
        return max(max(d.end - d.t0 for d in self._groups()), 1)

    def window(self) -> tuple[int, int]:
        """(start, span): ns since the runs' starts."""
        data = self.data
        assert data is not None
        whole = self._whole()
        span = whole if self.span is None else min(self.span, whole)
        if self.start is None:  # follow the run: its whole length, or the latest part
            start = 0 if self.span is None else max(data.end - data.t0 - span, 0)
        else:
            start = min(max(self.start, 0), whole - span)
        return start, span

    def _column(self, t: int) -> int:
        assert self.data is not None
        start, span = self.window()
        return int((t - self.data.t0 - start) / (span / self.cells()))

    def _time_of(self, column: int) -> int:
        assert self.data is not None
        start, span = self.window()
        return int(self.data.t0 + start + span * (column + 1) / self.cells())  # the column's end

    # ------------------------------------------------------------ keys

    def action_move(self, columns: int) -> None:
        data = self.data
        if data is None:
            return
        start, span = self.window()
        now = self.cursor if self.cursor is not None else data.end
        at = min(max(now + int(span / self.cells() * columns), data.t0), data.end)
        rel = at - data.t0
        if not start <= rel <= start + span:  # keep the cursor in view: pan
            self.start = min(max(rel - span // 2, 0), self._whole() - span)
        self._move_to(None if at >= data.end else at)

    def action_zoom(self, factor: float) -> None:
        data = self.data
        if data is None:
            return
        _, span = self.window()
        whole = self._whole()
        new = int(min(max(span * factor, _ZOOM_MIN_NS), whole))
        centre = (self.cursor if self.cursor is not None else data.end) - data.t0
        self.span = None if new >= whole else new
        self.start = None if self.span is None else int(centre - new / 2)
        self.show(data, self.cursor, self.compared)

    def action_edge(self, end: int) -> None:
        data = self.data
        if data is None:
            return
        if end:
            self.start = None
            self._move_to(None)
        else:
            self.start = 0
            self._move_to(data.t0)

    def action_lane(self, step: int) -> None:
        if self.data is None or not self.data.order:
            return
        self.lane = min(max(self.lane + step, 0), len(self.data.order) - 1)
        current = len(self._groups()) - 1
        line = 1 + next(
            (i for i, row in enumerate(self._layout) if row[:2] == ("actor", current)), 0
        )
        line += self.lane
        top, rows = int(self.scroll_offset.y), self.scrollable_content_region.height
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
        self.show(self.data, at, self.compared)

    # ------------------------------------------------------------ drawing

    def _label_width(self) -> int:
        return self._labels

    def _measure_labels(self) -> int:
        if self.data is None:
            return 10
        names = [n for d in self._groups() for n in d.actors]
        names += [r[1] for d in self._groups() for r in d.resources]
        return min(max(max((len(n) for n in names), default=4) + 3, 8), 18)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if self.data is None:
            text = Text(" no run yet: press r" if y == 0 else "", style="dim")
            return Strip(text.render(self.app.console)).adjust_cell_length(width)
        if y == 0:
            return self._axis(width)  # the axis stays on top
        line = y + int(self.scroll_offset.y)
        strip = self._rows.get(line)
        if strip is None:
            strip = self._rows[line] = self._line(line - 1, width)
        return strip

    def _strip(self, text: Text, width: int) -> Strip:
        return Strip(text.render(self.app.console)).adjust_cell_length(width)

    def _axis(self, width: int) -> Strip:
        start, span = self.window()
        label, cells = self._label_width(), self.cells()
        text = Text("time (s)".ljust(label)[:label], style="bold")
        marks = [" "] * cells
        step = max(cells // max(cells // 14, 1), 1)
        for c in range(0, cells, step):
            tick = f"┆{(start + span * c / cells) / 1e9:.3f}"
            for i, ch in enumerate(tick):
                if c + i < cells:
                    marks[c + i] = ch
        axis = Text("".join(marks), style="dim")
        cursor = self._cursor_column()
        if cursor is not None:
            axis.stylize("bold reverse", cursor, cursor + 1)
        text.append_text(axis)
        return self._strip(text, width)

    def _cursor_column(self) -> int | None:
        if self.data is None:
            return None
        column = self._column(self.cursor if self.cursor is not None else self.data.end)
        return min(max(column, 0), self.cells() - 1)

    def _line(self, index: int, width: int) -> Strip:
        if not 0 <= index < len(self._layout):
            return Strip.blank(width)
        row = self._layout[index]
        label, cells = self._label_width(), self.cells()
        kind = row[0]
        if kind == "note":
            return self._strip(Text(f" {row[1]}", style="italic"), width)
        if kind == "title":
            return self._strip(Text(f"── {row[1]} ".ljust(width, "─"), style="bold"), width)
        groups = self._groups()
        data = groups[row[1]]
        current = row[1] == len(groups) - 1
        start, span = self.window()
        start += data.t0  # this run's own clock
        if kind == "rule":
            return self._strip(Text("resources".ljust(label + cells, "─"), style="dim"), width)
        if kind == "actor":
            actor = row[2]
            mark = "◆ " if actor in data.cycle else "  "
            selected = current and actor == self.selected_actor and self.has_focus
            text = Text(mark, style="bold red")
            name = (data.actors[actor] + " " * label)[: label - 2]
            text.append(name, "bold reverse" if selected else "bold")
            lane = data.lanes.actors[actor] if actor < len(data.lanes.actors) else None
            body = self._states(data, lane, start, span, cells)
        else:
            res_index, name, res_kind, maxsize = data.resources[row[2]]
            text = Text((name + " " * label)[: label - 1] + " ", style="italic")
            body = self._resource(data, res_index, res_kind, maxsize, start, span, cells)
        cursor = self._cursor_column()
        if current and cursor is not None and body.cell_len > cursor:
            body.stylize(self.get_component_rich_style("timeline--cursor"), cursor, cursor + 1)
        text.append_text(body)
        return self._strip(text, width)

    @staticmethod
    def _states(
        data: TimelineData, lane: ActorLane | None, start: int, span: int, cells: int
    ) -> Text:
        text = Text()
        if lane is None:
            return text
        for column in state_columns(lane, start, span, cells, data.end):
            if column is None:
                text.append(" ")
            else:
                state = column[0]
                text.append(STATE_GLYPHS.get(state, "█"), STATE_STYLES.get(state, ""))
        return text

    @staticmethod
    def _resource(
        data: TimelineData, index: int, kind: str, maxsize: int, start: int, span: int, cells: int
    ) -> Text:
        times, values = data.lanes.sampled(index)
        columns = sampled_columns(times, values, start, span, cells, data.end)
        text = Text()
        if kind == "lock":
            return _holders(data, columns, cells)
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


def _holders(data: TimelineData, columns: list[int | None], cells: int) -> Text:
    """A lock's lane: each holder's name where its hold begins, then a rule in its colour."""
    text = Text()
    c = 0
    while c < len(columns):
        holder = columns[c]
        run = 1
        while c + run < len(columns) and columns[c + run] == holder:
            run += 1
        if holder is None:
            text.append(" " * run)
        elif holder < 0:
            text.append("·" * run, "dim")
        else:
            colour = _HOLDER_COLOURS[holder % len(_HOLDER_COLOURS)]
            name = data.actors[holder] if holder < len(data.actors) else "?"
            shown = name[: run - 1] if run >= 3 else ""
            text.append(shown, Style(color="black", bgcolor=colour))
            text.append("━" * (run - len(shown)), Style(color=colour))
        c += run
    text.truncate(cells)
    return text
