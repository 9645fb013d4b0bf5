"""Agreeing on one clock with the runner, for sources on other machines.

On one machine every process reads the same ``CLOCK_MONOTONIC``, and the
merge (:mod:`tui_conc.engine.wire.merge`) orders their events by it. A worker
on another host has its own monotonic clock, with an arbitrary origin. At
connect, such a source agrees an *offset* with the runner the way NTP does:
it reads its clock (t1), asks the runner's (t2), reads its own again (t3),
and takes ``offset = t2 - (t1 + t3) / 2``. The runner's reading lies between
t1 and t3 on the source's clock, so the offset is off by at most half the
round trip: of several exchanges the one with the shortest round trip is
kept, and that half is the *error bound*. The source then adds the offset
to every timestamp and watermark it sends, so the merge sees one clock.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic_ns
from typing import Any

#: What a source sends to ask for the runner's clock (a relay request).
ASK = b"clock"
#: Exchanges per agreement (the shortest round trip wins).
ROUNDS = 8


@dataclass(frozen=True)
class Agreement:
    """Add ``offset_ns`` to this clock to read the runner's; ``error_ns`` bounds it."""

    offset_ns: int
    error_ns: int


def answer(_: bytes = ASK) -> bytes:
    """The runner's side: its clock now."""
    return struct.pack("<q", monotonic_ns())


def agree(
    ask: Callable[[], bytes],
    clock: Callable[[], int] = monotonic_ns,
    rounds: int = ROUNDS,
) -> Agreement:
    """Agree an offset with the runner; ``ask`` sends :data:`ASK` and returns its answer."""
    best: Agreement | None = None
    for _ in range(rounds):
        t1 = clock()
        (t2,) = struct.unpack("<q", ask())
        t3 = clock()
        found = Agreement(t2 - (t1 + t3) // 2, (t3 - t1 + 1) // 2)
        if best is None or found.error_ns < best.error_ns:
            best = found
    assert best is not None
    return best


def shift(events: list[tuple[Any, ...]], offset_ns: int) -> list[tuple[Any, ...]]:
    """A channel's ``events`` (all timed: see ``stamped``) on the runner's clock."""
    if not offset_ns:
        return events
    return [(*e[:3], e[3] + offset_ns, *e[4:]) for e in events]
