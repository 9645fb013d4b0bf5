"""Pause and back-pressure for the actors of a run."""

from __future__ import annotations

import time


class Control:
    """Pause and back-pressure: actors check ``hold`` at every step boundary."""

    def __init__(self) -> None:
        self.hold = False
        self.paused = False
        self.throttled = False

    def _update(self) -> None:
        self.hold = self.paused or self.throttled

    def pause(self, paused: bool) -> None:
        self.paused = paused
        self._update()

    def throttle(self, throttled: bool) -> None:
        if throttled != self.throttled:
            self.throttled = throttled
            self._update()

    def wait(self) -> None:
        """Hold the calling actor while paused or throttled.

        A plain flag polled with ``time.sleep``: set from an OS thread, it
        works for threads and (monkey-patched sleep) greenlets alike.
        """
        while self.hold:
            time.sleep(0.005)
