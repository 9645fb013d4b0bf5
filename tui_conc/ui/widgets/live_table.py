"""A DataTable that follows keyed rows by updating only what changed."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text
Row = tuple[str, Sequence[Cell]]


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
        """Make the table show exactly ``rows`` (key, cells), in that order for new keys."""
        wanted = {key for key, _ in rows}
        for key in [k for k in self._live_cells if k not in wanted]:
            self.remove_row(key)
            del self._live_cells[key]
        for key, cells in rows:
            cells = tuple(cells)
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

    def reset(self) -> None:
        """Forget every row (a new run starts)."""
        self.clear()
        self._live_cells.clear()
