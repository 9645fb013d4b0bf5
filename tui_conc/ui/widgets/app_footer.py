"""Textual's Footer, without a leak of its keys."""

from __future__ import annotations

from textual.widgets import Footer


class AppFooter(Footer):
    """The footer of the app's keys.

    Textual's Footer builds its keys again whenever the keys that apply change
    (every run starts and stops several times), and binds each new key to its
    ``compact`` reactive. The old keys' watchers stay on the footer: Textual
    drops a closed watcher only when the reactive changes, and ``compact``
    never does here. Measured: ~60 dead keys (1.1 MB) kept for every run/stop
    cycle (``benchmarks/cycles.py``). After each rebuild, they go.
    """

    async def recompose(self) -> None:
        await super().recompose()
        watchers = getattr(self, "__watchers", {}).get("compact")
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if not node._closing]
