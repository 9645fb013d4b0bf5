"""One causal stream out of the batches of every process of a run, merged by the reader.

The process backend's runner does not decode its children's events: it
forwards each child's batch as it came (a *source frame*, see
:mod:`tui_conc.engine.codec`), and its own threads' events the same way as
source 0. Each batch carries a *watermark*: its source's clock when it took
the batch. Whoever reads the stream (the app, the command line, a replay of
a trace file) merges them here: events are released in timestamp order up to
the smallest watermark of any open source, less a little slack for a thread
caught between reading the clock and appending. ``CLOCK_MONOTONIC`` is one
clock for the whole machine, a release is stamped before it happens and an
acquire after, so the released stream is causal across processes.

Time here is *stream* time, the newest watermark seen: a replay merges
exactly as the live run did, and a source silent for a second of stream time
(stopped, or starved) no longer holds the others back.

Decoding once, in the reader, rather than in the runner and again in the
reader halved the CPU the runner spent per event (``benchmarks/process_events.py``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import chain
from operator import itemgetter
from typing import Any

from tui_conc.engine.wire.codec import CLOSED, SourceBatch, decode_events, encode_events
from tui_conc.engine.wire.events import CLOCK  # kinds below it are untimed

#: Events stamped this close to a source's watermark wait for a later release.
SLACK_NS = 20_000_000
#: A source whose watermark is this far behind the newest is not waited for.
STALE_NS = 1_000_000_000
#: Released when the safe point has moved this far: each release sorts what is pending.
RELEASE_EVERY_NS = 5_000_000
#: An untimed event this long after the last clock reading is dated with a CLOCK.
CLOCK_STEP_NS = 1_000_000
#: Past this many events in one release, a CLOCK goes in every CLOCK_EVERY events
#: rather than wherever the time moved (a dense stream is dated finely anyway).
DENSE = 2_000
CLOCK_EVERY = 256

_t = itemgetter(3)


class StreamMerger:
    """Batches from many sources in, events in time order out."""

    def __init__(self) -> None:
        self.marks: dict[int, int] = {}  #: open source → its latest watermark
        #: source → its events not yet released, in time order
        self.queues: dict[int, list[tuple[Any, ...]]] = {}
        self.now = 0  #: stream time: the newest watermark seen
        self._released_to = 0
        self._last_clock = 0

    def __getstate__(self) -> dict[str, Any]:
        """For a checkpoint: the pending events packed, which is what pickling a
        merge costs (tens of thousands of them in a run of processes)."""
        state = dict(self.__dict__)
        state["queues"] = {src: encode_events(q) for src, q in self.queues.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.queues = {src: decode_events(data) for src, data in state["queues"].items()}

    @property
    def pending(self) -> int:
        """How many events wait for a release."""
        return sum(map(len, self.queues.values()))

    def add(self, batch: SourceBatch) -> list[tuple[Any, ...]]:
        """Take one source frame; returns the events it lets go (often none)."""
        source, mark, events = batch
        if events:
            self._queue(source, events)
        if mark == CLOSED:
            self.marks.pop(source, None)
            return self.release()
        if mark > self.now:
            self.now = mark
        if mark > self.marks.get(source, 0):
            self.marks[source] = mark
        if self._safe() - self._released_to < RELEASE_EVERY_NS:
            return []  # each release sorts what it lets go: not for every batch
        return self.release()

    def _queue(self, source: int, events: list[tuple[Any, ...]]) -> None:
        queue = self.queues.setdefault(source, [])
        if source == 0:
            events.sort(key=_t)  # the runner's own: several threads append to one list
        # a child has one thread that emits: its events come in time order
        if queue and events[0][3] < queue[-1][3]:
            queue.extend(events)
            queue.sort(key=_t)
        else:
            queue.extend(events)

    @property
    def complete(self) -> bool:
        """Is what was released a consistent cut of the run? Not while an open source
        lags too far behind to be waited for: its late events may come before others'."""
        # a copy: the reader thread adds sources while the app's thread asks
        return all(m > self.now - STALE_NS for m in list(self.marks.values()))

    def _safe(self) -> int:
        """The time up to which no open source can still send anything."""
        now = self.now
        live = [m for m in list(self.marks.values()) if m > now - STALE_NS]
        return min(live, default=now) - SLACK_NS

    def release(self, final: bool = False) -> list[tuple[Any, ...]]:
        """Every pending event no open source can still precede (all with ``final``)."""
        safe = self._safe()
        self._released_to = max(self._released_to, safe)
        parts = []
        for queue in self.queues.values():
            if not queue or (queue[0][3] > safe and not final):
                continue
            cut = len(queue) if final or queue[-1][3] <= safe else bisect_right(queue, safe, key=_t)
            parts.append(queue[:cut])
            del queue[:cut]
        if not parts:
            return []
        if len(parts) == 1:
            return self._with_clocks(parts[0])
        out = list(chain.from_iterable(parts))
        out.sort(key=_t)  # one sorted run per source: a cheap merge
        return self._with_clocks(out)

    def _with_clocks(self, events: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """``events`` as the fold expects them: a CLOCK before a fast-path event that
        came a while after the last time the fold saw (fast-path events keep their
        stamp as a fourth item; the fold reads only the first three).

        In a dense stream a CLOCK every ``CLOCK_EVERY`` events dates them finely enough.
        """
        if len(events) > DENSE:
            out: list[tuple[Any, ...]] = []
            for k in range(0, len(events), CLOCK_EVERY):
                chunk = events[k : k + CLOCK_EVERY]
                out.append((CLOCK, -1, -1, chunk[0][3]))
                out.extend(chunk)
            self._last_clock = events[-1][3]
            return out
        out = []
        append = out.append
        last = self._last_clock
        for e in events:
            t = e[3]
            if e[0] >= CLOCK:
                last = t  # a timed event: the fold takes its time
            elif t - last > CLOCK_STEP_NS:
                append((CLOCK, -1, -1, t))
                last = t
            append(e)
        self._last_clock = last
        return out


def merged(
    frames: Iterable[tuple[bytes, Any]], merger: StreamMerger | None = None
) -> Iterator[tuple[bytes, Any]]:
    """``frames`` (raw, decoded) with source frames merged into event batches.

    The header and plain event batches pass through; a source frame yields
    the events it released (an empty list when it released none), and the
    end of the stream releases the rest. Pass a ``merger`` to ask it about
    the merge as it goes (:attr:`StreamMerger.complete`).
    """
    used = False
    merger = merger or StreamMerger()
    for raw, frame in frames:
        if isinstance(frame, SourceBatch):
            used = True
            yield raw, merger.add(frame)
        else:
            yield raw, frame
    if used:
        rest = merger.release(final=True)
        if rest:
            yield b"", rest
