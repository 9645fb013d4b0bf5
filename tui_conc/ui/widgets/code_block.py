"""A lesson's code block: highlighted, never wrapped mid-line, scrolled sideways when wide."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalScroll
from textual.widgets import Static


class CodeBlock(HorizontalScroll):
    """One fenced block of a lesson; wider than the pane, it scrolls (shift+wheel, ← →)."""

    DEFAULT_CSS = """
    CodeBlock { height: auto; margin: 1 0; background: $boost; scrollbar-size-horizontal: 1; }
    CodeBlock > Static { width: auto; padding: 0 1; }
    """

    def __init__(self, code: str, language: str = "python", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.code = code.rstrip("\n")
        self.language = language or "text"

    def compose(self) -> ComposeResult:
        from rich.syntax import Syntax  # on first use: off the start-up path

        yield Static(Syntax(self.code, self.language, word_wrap=False, background_color="default"))
