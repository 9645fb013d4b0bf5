"""Command palette: open any scenario by typing part of its title."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui_conc.ui.app import TuiConcApp


class ScenarioCommands(Provider):
    """One command per scenario: "Open scenario: <title>"."""

    def _items(self) -> list[tuple[str, str, object]]:
        app: TuiConcApp = self.app  # type: ignore[assignment]
        return [
            (f"Open scenario: {e.title}", e.chapter, partial(app.choose_entry, e))
            for e in app.entries
        ]

    async def discover(self) -> Hits:
        for text, help_text, callback in self._items():
            yield DiscoveryHit(text, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in self._items():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)  # type: ignore[arg-type]
