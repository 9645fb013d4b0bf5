"""The Log panel: what the actors log, with run time and actor name."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from tui_conc.state.model import Snapshot
from tui_conc.ui.widgets.styles import Retitled


class LogPanel(Retitled, RichLog):
    """Appends the log lines it has not shown yet."""

    BORDER_TITLE = "Log"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=1000, wrap=False, markup=False, **kwargs)  # type: ignore[arg-type]
        self._shown = 0

    def show(self, snapshot: Snapshot) -> None:
        for line in snapshot.log:
            if line.seq <= self._shown:
                continue
            self.write(
                Text.assemble(
                    (f"{line.t_s:7.3f} ", "dim"), (f"{line.actor:<11} ", "bold cyan"), line.text
                )
            )
            self._shown = line.seq
        self.retitle(f"Log · {snapshot.log_total} lines")

    def reset(self) -> None:
        self.clear()
        self._shown = 0
