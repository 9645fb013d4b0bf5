"""Command palette: open any scenario by typing part of its title; settings."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui_conc.ui.app import TuiConcApp


class _Listed(Provider):
    """A fixed list of commands: (text, help, callback)."""

    def _items(self) -> list[tuple[str, str, object]]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for text, help_text, callback in self._items():
            yield DiscoveryHit(text, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in self._items():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)  # type: ignore[arg-type]


class ScenarioCommands(_Listed):
    """One command per scenario: "Open scenario: <title>"."""

    def _items(self) -> list[tuple[str, str, object]]:
        app: TuiConcApp = self.app  # type: ignore[assignment]
        return [
            (f"Open scenario: {e.title}", e.chapter, partial(app.choose_entry, e))
            for e in app.entries
        ]


class SettingsCommands(_Listed):
    """Settings that outlive a scenario: where the dask backend's runs go."""

    def _items(self) -> list[tuple[str, str, object]]:
        app: TuiConcApp = self.app  # type: ignore[assignment]
        return [
            (
                "Dask cluster…",
                "a LocalCluster per run (how many workers), or a scheduler of yours",
                app.action_dask_cluster,
            )
        ]
