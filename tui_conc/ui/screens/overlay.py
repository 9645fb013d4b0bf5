"""A read-only overlay: a bordered, scrolling box over the app that escape or q closes."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import ModalScreen


class Overlay(ModalScreen[None]):
    """The frame the help and an actor's detail share; a subclass composes a
    ``VerticalScroll`` and may set its width."""

    DEFAULT_CSS = """
    Overlay { align: center middle; }
    Overlay > VerticalScroll {
        width: 100; max-width: 98%; height: auto; max-height: 95%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
    ]

    def action_close(self) -> None:
        self.dismiss(None)
