"""A DataTable that follows keyed rows by updating only what changed."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text
#: A row: its key and cells, or None for "unchanged if shown, else build it" (see sync).
Row = tuple[str, Sequence[Cell] | None]


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(cell)


class LiveTable(DataTable):
    """A read-only table whose rows are synced by key, diffing cell by cell.

    Stale rows are removed, changed cells updated, new rows added — never a
    clear-and-refill, so the cursor and scroll position survive updates.
    """

    DEFAULT_CSS = """
    LiveTable { height: 1fr; }
    """

    def __init__(self, columns: Sequence[str], **kwargs: object) -> None:
        # no row cursor: a highlighted row would hide the state colours; arrows still scroll
        super().__init__(cursor_type="none", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._live_columns = list(columns)
        self._live_cells: dict[str, tuple[Cell, ...]] = {}

    def on_mount(self) -> None:
        for name in self._live_columns:
            self.add_column(name, key=name)

    def sync(self, rows: Sequence[Row]) -> None:
        """Make the table show exactly ``rows`` (key, cells), in that order for new keys.

        Cells of None keep a shown row as it is (a caller skipping rows out of view).
        """
        wanted = {key for key, _ in rows}
        for key in [k for k in self._live_cells if k not in wanted]:
            self.remove_row(key)
            del self._live_cells[key]
        for key, new in rows:
            if new is None:
                continue
            cells = tuple(new)
            old = self._live_cells.get(key)
            if old is None:
                self.add_row(*cells, key=key)
            elif old != cells:
                for name, before, after in zip(self._live_columns, old, cells, strict=True):
                    if before != after:
                        # relayout only when the column must grow: a cheaper frame
                        wider = _width(after) > self.columns[name].content_width
                        self.update_cell(key, name, after, update_width=wider)
            self._live_cells[key] = cells

    def rows_in_view(self, margin: int = 5) -> range:
        """Positions of the rows on screen now (header aside), widened by ``margin``."""
        top = int(self.scroll_y)
        return range(max(top - margin, 0), top + self.size.height + margin)

    def has_row(self, key: str) -> bool:
        """Whether the row ``key`` is in the table."""
        return key in self._live_cells

    def reset(self) -> None:
        """Forget every row (a new run starts)."""
        self.clear()
        self._live_cells.clear()
