"""A read-only table that follows keyed rows and redraws only the rows that changed."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_conc.ui.widgets.styles import Retitled

Cell = str | Text
#: A row: its key and cells, or None for "unchanged if shown, else build it" (see sync).
Row = tuple[str, Sequence[Cell] | None]


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(cell)


class LiveTable(Retitled, ScrollView, can_focus=True):
    """Rows synced by key: stale rows go, changed rows are redrawn, new rows added.

    Built on Textual's line API rather than ``DataTable``: a live run changes
    some cell of most rows at every redraw, and a ``DataTable`` then renders
    every visible cell again through Rich (most of a frame under a flood of
    events, ``benchmarks/process_events.py``). Here a row is one line, drawn
    once per change and cached; the header stays on top while the rows
    scroll. Columns are as wide as their widest cell, never narrower.
    """

    DEFAULT_CSS = """
    LiveTable { height: 1fr; }
    LiveTable > .live-table--header { text-style: bold; background: $panel; }
    """
    COMPONENT_CLASSES = {"live-table--header"}

    def __init__(self, columns: Sequence[str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._live_columns = list(columns)
        self._widths = [len(name) for name in columns]
        self._live_cells: dict[str, tuple[Cell, ...]] = {}  #: key → cells, in row order
        self._keys: list[str] = []  #: the row keys in order (row i is line i + 1)
        self._lines: dict[str, Strip] = {}  #: key → its drawn line, until it changes

    def on_mount(self) -> None:
        self.virtual_size = Size(self._row_width(), len(self._keys) + 1)

    def sync(self, rows: Sequence[Row]) -> None:
        """Make the table show exactly ``rows`` (key, cells), in that order for new keys.

        Cells of None keep a shown row as it is (a caller skipping rows out of view).
        """
        wanted = {key for key, _ in rows}
        stale = [key for key in self._live_cells if key not in wanted]
        for key in stale:
            del self._live_cells[key]
            self._lines.pop(key, None)
        added = False
        changed: list[str] = []
        widths, grew = self._widths, False
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
                if _width(cell) > widths[i]:
                    widths[i], grew = _width(cell), True
        if grew:
            self._lines.clear()
        if stale or added:
            self._keys = list(self._live_cells)
        if stale or added or grew:
            self.virtual_size = Size(self._row_width(), len(self._keys) + 1)
            self.refresh(layout=True)
        elif changed:  # only the lines that changed are drawn again
            line_of = {key: i + 1 for i, key in enumerate(self._keys)}
            for key in changed:
                self.refresh_lines(line_of[key])

    def rows_in_view(self, margin: int = 5) -> range:
        """Positions of the rows on screen now (header aside), widened by ``margin``."""
        top = int(self.scroll_y)
        return range(max(top - margin, 0), top + self.size.height + margin)

    def has_row(self, key: str) -> bool:
        """Whether the row ``key`` is in the table."""
        return key in self._live_cells

    def reset(self) -> None:
        """Forget every row (a new run starts)."""
        self._live_cells.clear()
        self._keys.clear()
        self._lines.clear()
        self._widths = [len(name) for name in self._live_columns]
        self.virtual_size = Size(self._row_width(), 1)
        self.scroll_to(0, 0, animate=False)
        self.refresh(layout=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()  # a new theme: draw every line again

    # ------------------------------------------------------------ drawing

    def _row_width(self) -> int:
        return sum(self._widths) + 2 * len(self._widths)

    def _draw(self, cells: Sequence[Cell], base: Style) -> Strip:
        """One line: every cell padded to its column, one space either side."""
        line = Text(style=base, no_wrap=True, end="")
        for cell, width in zip(cells, self._widths, strict=True):
            line.append(" ")
            if isinstance(cell, Text):
                line.append_text(cell)
            else:
                line.append(cell)
            line.append(" " * (width - _width(cell) + 1))
        segments: list[Segment] = list(line.render(self.app.console))
        return Strip(segments, line.cell_len)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("live-table--header")
            strip = self._draw(self._live_columns, base + header)
        else:
            index = scroll_y + y - 1
            if index >= len(self._keys):
                return Strip.blank(width, base)
            key = self._keys[index]
            strip = self._lines.get(key)
            if strip is None:
                strip = self._lines[key] = self._draw(self._live_cells[key], base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)
