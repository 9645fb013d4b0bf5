"""When to redraw: often enough to follow a run, never so often that keys wait."""

from __future__ import annotations

from time import perf_counter, thread_time

#: Redrawing (building a frame and painting it) may take at most this share of
#: the UI thread's time: under a flood of events the frame rate drops instead of
#: key presses queueing behind redraws, and the reader, which shares the GIL,
#: keeps the rest (``benchmarks/process_events.py``).
REDRAW_SHARE = 0.3
#: ... but the panels never lag more than this, and a change of status shows at once.
MAX_REDRAW_GAP_S = 0.25
#: While no event arrives, every QUIET_EVERY-th tick redraws (the clocks still move).
QUIET_EVERY = 3


class RedrawPacer:
    """Decides, tick by tick, whether to redraw, from what the last redraw cost."""

    def __init__(self) -> None:
        self.next_at = 0.0  #: perf_counter() before which no redraw starts
        self.frame_cost = 0.0  #: how long building the last redraw took
        self._cpu_at_redraw = 0.0  #: the UI thread's CPU time at the last redraw
        self._quiet_ticks = 0

    def due(self, now: float, status_changed: bool) -> bool:
        """May a redraw start now (a change of status always may)?"""
        return status_changed or now >= self.next_at

    def quiet(self, unchanged: bool) -> bool:
        """Skip this tick: nothing new, and the clocks were redrawn recently."""
        self._quiet_ticks = self._quiet_ticks + 1 if unchanged else 0
        return bool(self._quiet_ticks % QUIET_EVERY)

    def drawn(self, started: float) -> None:
        """A redraw that began at ``started`` is done: pace the next one by its cost."""
        self.frame_cost = perf_counter() - started
        # the UI thread's CPU since the last redraw: painting it, input, building this one
        cpu = thread_time()
        spent = cpu - self._cpu_at_redraw if self._cpu_at_redraw else self.frame_cost
        self._cpu_at_redraw = cpu
        self.next_at = started + min(spent / REDRAW_SHARE, MAX_REDRAW_GAP_S)
