"""The gevent hub, watched: how many greenlet switches, and when the hub was blocked."""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic_ns
from typing import Any

from tui_conc.engine import events as ev


class HubMonitor:
    """Counts switches with ``greenlet.settrace`` and turns gevent's
    ``EventLoopBlocked`` events (from its monitor thread) into ``HUB_BLOCKED``."""

    def __init__(self, emit: Callable[[tuple[Any, ...]], None], actor_of: Callable[[Any], int]):
        import gevent.events
        import greenlet

        self.emit = emit
        self.actor_of = actor_of
        self.switches = 0
        self._reported = -1
        greenlet.settrace(self._trace)
        gevent.events.subscribers.append(self._on_event)

    def _trace(self, event: str, args: Any) -> None:
        if event == "switch":
            self.switches += 1

    def _on_event(self, event: Any) -> None:
        import gevent.events

        if isinstance(event, gevent.events.EventLoopBlocked):
            actor = self.actor_of(event.greenlet)
            self.emit((ev.HUB_BLOCKED, actor, -1, monotonic_ns(), event.blocking_time * 1000))

    def report(self) -> None:
        """Add the switch count to the stream when it changed (called by the flusher)."""
        if self.switches != self._reported:
            self._reported = self.switches
            self.emit((ev.HUB, -1, -1, monotonic_ns(), self.switches))
