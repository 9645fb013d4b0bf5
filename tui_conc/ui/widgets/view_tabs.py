"""The one-line view switcher: Lesson, Run or Timeline, with their keys."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

VIEWS = (("lesson", "1", "Lesson"), ("run", "2", "Run"), ("timeline", "3", "Timeline"))


class ViewTabs(Static):
    """``1 Lesson  2 Run  3 Timeline`` with the active view highlighted; a click
    switches too."""

    DEFAULT_CSS = """
    ViewTabs { height: 1; padding: 0 1; background: $panel; }
    """

    active: reactive[str] = reactive("lesson")
    """The id of the view on show."""

    class Chosen(Message):
        """A view was clicked."""

        def __init__(self, view: str) -> None:
            super().__init__()
            self.view = view

    def render(self) -> Text:
        text = Text()
        for view, key, label in VIEWS:
            style = "bold reverse" if view == self.active else "dim"
            text.append(f" {key} {label} ", style)
            text.append(" ")
        return text

    def on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        offset = 1
        for view, key, label in VIEWS:
            width = len(f" {key} {label} ") + 1
            if offset <= event.x < offset + width:
                self.post_message(self.Chosen(view))
            offset += width
