"""A read-only table that follows keyed rows, fits its columns to its width, and redraws
only the rows that changed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_conc.ui.widgets.styles import Retitled


class Fill:
    """A cell drawn at whatever width its column gets (a timeline, a bar).

    ``draw(width)`` makes the text; ``key`` says when it changed (cells are
    compared to redraw only the rows that changed).
    """

    __slots__ = ("draw", "key", "natural")

    def __init__(self, draw: Callable[[int], Text], key: object, natural: int = 8) -> None:
        self.draw, self.key, self.natural = draw, key, natural

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fill) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


Cell = str | Text | Fill
#: A row: its key and cells, or None for "unchanged if shown, else build it" (see sync).
Row = tuple[str, Sequence[Cell] | None]


@dataclass(frozen=True)
class Column:
    """A column: its header, the least and most it may take, whether it takes the width
    left over (a timeline does, a name does not), and how soon it gives way when the
    table is too narrow (higher first; then the widest)."""

    name: str
    min: int = 3
    max: int | None = None
    grow: bool = False
    give: int = 0


def _width(cell: Cell) -> int:
    if isinstance(cell, Fill):
        return cell.natural
    return cell.cell_len if isinstance(cell, Text) else len(cell)


def fit(natural: list[int], columns: Sequence[Column], width: int) -> list[int]:
    """Column widths for ``width`` cells: each as wide as its widest cell (up to its max);
    spare width to the growing columns; short of width, the widest columns give way
    first, never below their min."""
    want = [
        max(min(n, c.max) if c.max else n, len(c.name), c.min)
        for n, c in zip(natural, columns, strict=True)
    ]
    spare = width - 2 * len(columns) - sum(want)
    # a column that may vanish (min 0) goes first when it cannot show its content
    for i in sorted(range(len(columns)), key=lambda j: -columns[j].give):
        if spare < 0 and columns[i].min == 0:
            spare += want[i] + 2
            want[i] = 0
    growing = [i for i, c in enumerate(columns) if c.grow]
    if spare > 0 and growing:
        for k, i in enumerate(growing):
            want[i] += spare // len(growing) + (k < spare % len(growing))
    while spare < 0:
        able = [j for j in range(len(want)) if want[j] > max(columns[j].min, 1)]
        if not able:
            break  # nothing gives way any more: the table scrolls sideways
        i = max(able, key=lambda j: (columns[j].give, want[j]))
        want[i] -= 1
        spare += 1
    return want


def ellipsis(cell: str | Text, width: int) -> Text:
    """``cell`` cut to ``width`` cells, with … when it was longer."""
    text = cell if isinstance(cell, Text) else Text(cell)
    if text.cell_len <= width:
        return text
    cut = text.copy()
    cut.truncate(max(width - 1, 0))
    cut.append("…", style="dim")
    return cut


class LiveTable(Retitled, ScrollView, can_focus=True):
    """Rows synced by key: stale rows go, changed rows are redrawn, new rows added.

    Built on Textual's line API rather than ``DataTable``: a live run changes
    some cell of most rows at every redraw, and a ``DataTable`` then renders
    every visible cell again through Rich (most of a frame under a flood of
    events, ``benchmarks/process_events.py``). Here a row is one line, drawn
    once per change and cached; the header stays on top while the rows
    scroll. Columns fit the panel's width (see :func:`fit`).

    | Key | Action |
    | :- | :- |
    | up / down | move the cursor |
    | pageup / pagedown / home / end | scroll |
    | enter | select the row under the cursor |
    """

    DEFAULT_CSS = """
    LiveTable { height: 1fr; }
    LiveTable > .live-table--header { text-style: bold; background: $panel; }
    LiveTable > .live-table--cursor { background: $accent 30%; }
    """
    COMPONENT_CLASSES = {"live-table--header", "live-table--cursor"}
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "Top", show=False),
        Binding("end", "edge(1)", "Bottom", show=False),
        Binding("enter", "select", "Details", show=False),
    ]

    class Selected(Message):
        """A row was chosen (Enter, or a click)."""

        def __init__(self, table: LiveTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

    def __init__(self, columns: Sequence[Column | str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._columns = [c if isinstance(c, Column) else Column(c) for c in columns]
        self._natural = [len(c.name) for c in self._columns]
        self._widths = list(self._natural)
        self._fitted_for = -1  #: the panel width the widths were fitted for
        self._live_cells: dict[str, tuple[Cell, ...]] = {}  #: key → cells, in row order
        self._keys: list[str] = []  #: the row keys in order (row i is line i + 1)
        self._header: list[Cell] = [c.name for c in self._columns]
        self._lines: dict[str, Strip] = {}  #: key → its drawn line, until it changes
        self.cursor = -1  #: the highlighted row (-1: none; shown when the table has focus)

    def on_mount(self) -> None:
        self.virtual_size = Size(self._row_width(), len(self._keys) + 1)

    def on_resize(self) -> None:
        self._refit()

    def on_focus(self) -> None:
        if self.cursor < 0 and self._keys:
            self.cursor = 0
        self._lines.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._lines.clear()
        self.refresh()

    # ------------------------------------------------------------ rows

    def sync(self, rows: Sequence[Row]) -> None:
        """Make the table show exactly ``rows`` (key, cells), in that order.

        Cells of None keep a shown row as it is (a caller skipping rows out of view).
        """
        wanted = {key for key, _ in rows}
        stale = [key for key in self._live_cells if key not in wanted]
        for key in stale:
            del self._live_cells[key]
            self._lines.pop(key, None)
        added = False
        changed: list[str] = []
        natural, grew = self._natural, False
        for key, new in rows:
            if new is None:
                continue
            cells = tuple(new)
            old = self._live_cells.get(key)
            if old == cells:
                continue
            added = added or old is None
            self._live_cells[key] = cells
            self._lines.pop(key, None)
            changed.append(key)
            for i, cell in enumerate(cells):
                if _width(cell) > natural[i]:
                    natural[i], grew = _width(cell), True
        order = [key for key, _ in rows if key in self._live_cells]
        moved = order != self._keys
        if moved:
            selected = self._keys[self.cursor] if 0 <= self.cursor < len(self._keys) else None
            self._keys = order
            if selected in self._live_cells:
                self.cursor = order.index(selected)  # the cursor follows its row
        if grew:
            self._refit(force=True)
        if stale or added or moved:
            self.virtual_size = Size(self._row_width(), len(self._keys) + 1)
            self.refresh()
        elif changed:  # only the lines that changed are drawn again
            line_of = {key: i + 1 for i, key in enumerate(self._keys)}
            for key in changed:
                self.refresh_lines(line_of[key])

    def rows_in_view(self, margin: int = 5) -> range:
        """Positions of the rows on screen now (header aside), widened by ``margin``."""
        top = int(self.scroll_y)
        return range(max(top - margin, 0), top + self.size.height + margin)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor (None: no cursor)."""
        return self._keys[self.cursor] if 0 <= self.cursor < len(self._keys) else None

    def has_row(self, key: str) -> bool:
        """Whether the row ``key`` is in the table."""
        return key in self._live_cells

    @property
    def row_keys(self) -> list[str]:
        """The keys of the rows, in the order shown."""
        return list(self._keys)

    def set_header(self, index: int, cell: Cell) -> None:
        """Show ``cell`` in the header instead of column ``index``'s name."""
        if self._header[index] != cell:
            self._header[index] = cell
            self.refresh_lines(int(self.scroll_y))  # the header: the first line on screen

    def column_width(self, index: int) -> int:
        """The width column ``index`` has now."""
        return self._widths[index]

    def reset(self) -> None:
        """Forget every row (a new run starts)."""
        self._live_cells.clear()
        self._keys.clear()
        self._lines.clear()
        self._natural = [len(c.name) for c in self._columns]
        self.cursor = -1
        self._refit(force=True)
        self.virtual_size = Size(self._row_width(), 1)
        self.scroll_to(0, 0, animate=False)
        self.refresh(layout=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()  # a new theme: draw every line again

    # ------------------------------------------------------------ keys

    def action_cursor(self, step: int) -> None:
        if not self._keys:
            return
        self.cursor = min(max(self.cursor + step, 0), len(self._keys) - 1)
        self._follow_cursor()

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(self.size.height - 2, 1))

    def action_edge(self, end: int) -> None:
        self.action_cursor(len(self._keys) if end else -len(self._keys))

    def action_select(self) -> None:
        if 0 <= self.cursor < len(self._keys):
            self.post_message(self.Selected(self, self._keys[self.cursor]))

    def on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        row = int(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= row < len(self._keys):
            self.cursor = row
            self._lines.clear()
            self.refresh()
            self.post_message(self.Selected(self, self._keys[row]))

    def _follow_cursor(self) -> None:
        top, rows = int(self.scroll_y), max(self.size.height - 1, 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False)
        self._lines.clear()
        self.refresh()

    # ------------------------------------------------------------ drawing

    def _refit(self, force: bool = False) -> None:
        width = self.size.width
        if width <= 0 or (width == self._fitted_for and not force):
            return
        widths = fit(self._natural, self._columns, width)
        self._fitted_for = width
        if widths != self._widths:
            self._widths = widths
            self._lines.clear()
            self.virtual_size = Size(self._row_width(), len(self._keys) + 1)
            self.refresh()

    def _row_width(self) -> int:
        return sum(w + 2 for w in self._widths if w)

    def _draw(self, cells: Sequence[Cell], base: Style) -> Strip:
        """One line: every cell fitted to its column, one space either side."""
        line = Text(style=base, no_wrap=True, end="")
        for cell, width in zip(cells, self._widths, strict=True):
            if not width:
                continue  # a column that gave way entirely
            line.append(" ")
            shown = cell.draw(width) if isinstance(cell, Fill) else ellipsis(cell, width)
            line.append_text(shown)
            line.append(" " * (width - shown.cell_len + 1))
        segments: list[Segment] = list(line.render(self.app.console))
        return Strip(segments, line.cell_len)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("live-table--header")
            strip = self._draw(self._header, base + header)
        else:
            index = scroll_y + y - 1
            if index >= len(self._keys):
                return Strip.blank(width, base)
            key = self._keys[index]
            if index == self.cursor and self.has_focus:
                cursor = base + self.get_component_rich_style("live-table--cursor")
                strip = self._draw(self._live_cells[key], cursor)
            else:
                strip = self._lines.get(key)
                if strip is None:
                    strip = self._lines[key] = self._draw(self._live_cells[key], base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)
