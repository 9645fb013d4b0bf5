"""Where the dask backend's runs go: a LocalCluster of N workers, or a cluster's scheduler."""

from __future__ import annotations

import os
import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.validation import Function, Integer
from textual.widgets import Input, Label, Static

from tui_conc.engine.backends.dask import SCHEDULER_ENV, WORKERS_ENV

_ADDRESS = re.compile(r"^(tcp|tls)://[^\s:/]+:\d{1,5}$")


def _address_ok(text: str) -> bool:
    return not text.strip() or bool(_ADDRESS.match(text.strip()))


class DaskClusterScreen(ModalScreen[tuple[str, int] | None]):
    """The scheduler address (empty: a LocalCluster per run) and the local worker count.

    | Key | Action |
    | :- | :- |
    | tab / shift+tab | next / previous field |
    | enter | keep (the next dask runs use it) |
    | escape | cancel |
    """

    DEFAULT_CSS = """
    DaskClusterScreen { align: center middle; }
    DaskClusterScreen > Vertical {
        width: 76; max-width: 95%; height: auto;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    DaskClusterScreen Grid { grid-size: 2; grid-columns: 12 1fr; grid-rows: 1; height: auto; }
    DaskClusterScreen Input { border: none; height: 1; padding: 0 1; }
    DaskClusterScreen Input.-invalid { background: $error 30%; }
    DaskClusterScreen #dask-error { color: $error; height: auto; }
    DaskClusterScreen .hint { color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "keep", "Keep", priority=True),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Dask: where runs on the dask backend go", classes="title")
            with Grid():
                yield Label("scheduler")
                yield Input(
                    os.environ.get(SCHEDULER_ENV, ""),
                    placeholder="empty: a LocalCluster started for each run",
                    compact=True,
                    validators=[Function(_address_ok, "an address is tcp://HOST:PORT")],
                    id="dask-scheduler",
                )
                yield Label("workers")
                yield Input(
                    os.environ.get(WORKERS_ENV, "2"),
                    compact=True,
                    validators=[Integer(1, 16, failure_description="1 to 16 workers")],
                    id="dask-workers",
                )
            yield Static("", id="dask-error")
            yield Label(
                "A cluster of yours needs tui-conc on its scheduler and workers, and its"
                " workers must reach this machine. enter: keep · escape: cancel",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#dask-scheduler", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_keep()

    def action_keep(self) -> None:
        address = self.query_one("#dask-scheduler", Input).value.strip()
        workers = self.query_one("#dask-workers", Input).value.strip()
        error = self.query_one("#dask-error", Static)
        if not _address_ok(address):
            error.update(f"scheduler: {address!r} is not tcp://HOST:PORT")
            return
        if not workers.isdigit() or not 1 <= int(workers) <= 16:
            error.update("workers: a whole number from 1 to 16")
            return
        self.dismiss((address, int(workers)))

    def action_cancel(self) -> None:
        self.dismiss(None)


def apply(choice: tuple[str, int]) -> str:
    """Use ``choice`` for the next runs (their runners read the environment); what to say."""
    address, workers = choice
    if address:
        os.environ[SCHEDULER_ENV] = address
    else:
        os.environ.pop(SCHEDULER_ENV, None)
    os.environ[WORKERS_ENV] = str(workers)
    if address:
        return f"dask runs go to the cluster at {address}"
    return f"dask runs start a LocalCluster of {workers} workers"
