"""Playing a recorded run back: a position in its time that moves with the clock."""

from __future__ import annotations

from time import monotonic

#: The speeds ``<`` and ``>`` step through.
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 10.0)


class Playback:
    """Where a replay is (ns since the run's start), how fast it goes, and whether."""

    def __init__(self, length_ns: int) -> None:
        self.length = max(length_ns, 1)
        self.position = 0
        self.speed = 1.0
        self.playing = True
        self._last = monotonic()

    def advance(self) -> int:
        """Move on by the time since the last call (× speed); the position."""
        now = monotonic()
        if self.playing:
            self.position = min(
                self.position + int((now - self._last) * 1e9 * self.speed), self.length
            )
            if self.position >= self.length:
                self.playing = False
        self._last = now
        return self.position

    def toggle(self) -> None:
        """Play or pause (at the end, play starts again from the beginning)."""
        if not self.playing and self.position >= self.length:
            self.position = 0
        self.playing = not self.playing
        self._last = monotonic()

    def restart(self) -> None:
        self.position, self.playing, self._last = 0, True, monotonic()

    def seek(self, position: int) -> None:
        """The learner moved the cursor: the replay pauses there."""
        self.position = min(max(position, 0), self.length)
        self.playing = False

    def faster(self, step: int) -> float:
        """One speed up (``step`` 1) or down (-1); the new speed."""
        index = SPEEDS.index(self.speed) if self.speed in SPEEDS else 2
        self.speed = SPEEDS[min(max(index + step, 0), len(SPEEDS) - 1)]
        return self.speed

    def label(self) -> str:
        return f"{'▶' if self.playing else '⏸'} {self.speed:g}×"
