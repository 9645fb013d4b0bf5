"""The gevent hub, watched: how many greenlet switches, and when the hub was blocked."""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev

#: A greenlet that keeps the hub this long without a switch is reported (gevent's
#: own default ``max_blocking_time``); every further period of this adds a warning.
MAX_BLOCKING_NS = 100_000_000
_COUNTER_WRAP = 1 << 32


class HubMonitor:
    """gevent's own switch tracer (``gevent._tracer.GreenletTracer``, in C), read
    from the runner's flusher thread every few ms.

    It does what gevent's monitor thread does, without that thread's cost:
    gevent formats a report of every greenlet (with 10,000 greenlets, seconds
    of work holding the GIL) before it tells a subscriber. Here a greenlet
    that keeps the hub for over 0.1 s gets a ``HUB_BLOCKED`` warning with the
    real duration so far, and another for every further 0.1 s, as gevent
    would repeat its own.
    """

    def __init__(self, emit: Callable[[tuple[Any, ...]], None], actor_of: Callable[[Any], int]):
        import gevent
        from gevent._tracer import GreenletTracer

        self.emit = emit
        self.actor_of = actor_of
        self.hub = gevent.get_hub()
        self.tracer = GreenletTracer()  # settrace on this (the hub's) thread
        self.switches = 0
        self._counter = 0
        self._reported = -1
        self._last_switch = monotonic_ns()
        self._warnings = 0

    def report(self) -> None:
        """Called by the flusher: count switches, warn about a blocked hub."""
        now = monotonic_ns()
        counter = self.tracer.greenlet_switch_counter
        active = self.tracer.active_greenlet
        if counter != self._counter:
            self.switches += (counter - self._counter) % _COUNTER_WRAP
            self._counter = counter
            self._last_switch, self._warnings = now, 0
        elif active is None or active is self.hub:
            self._last_switch, self._warnings = now, 0  # idle in the hub: waiting for IO/timers
        elif now - self._last_switch >= MAX_BLOCKING_NS * (self._warnings + 1):
            self._warnings += 1
            blocked_ms = (now - self._last_switch) / 1e6
            self.emit((ev.HUB_BLOCKED, self.actor_of(active), -1, now, blocked_ms))
        if self.switches != self._reported:
            self._reported = self.switches
            self.emit((ev.HUB, -1, -1, now, self.switches))
