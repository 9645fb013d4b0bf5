"""Event streams between the run's processes: a child's channel and the parent's merger.

Every child process (a Process actor, a pool worker) connects to the runner's
:class:`Merger` over a local socket and sends batches of events every few
milliseconds, each batch with a *watermark*: the child's clock when it took
the batch. Every event here is timed: a fast-path event gets its clock
reading as a fourth item, ``(kind, actor, res, t_ns)``. The runner's own threads add their pairs
directly. The merger releases events in timestamp order up to the smallest
watermark of any connected source (less a little slack for a thread caught
between reading the clock and appending), so the one stream it writes is
causal across processes: ``CLOCK_MONOTONIC`` is one clock for the whole
machine, a release is stamped before it happens and an acquire after.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from multiprocessing.connection import Client, Connection, Listener, wait
from operator import itemgetter
from time import monotonic_ns
from typing import Any

import msgspec

from tui_conc.engine import native
from tui_conc.engine.events import CLOCK  # kinds below it are untimed

#: How often a child sends its batch (and its watermark, even when idle).
CHILD_FLUSH_S = 0.005
#: Events stamped this close to a source's watermark wait for the next round.
SLACK_NS = 20_000_000
#: A source whose watermark is this old is not waited for (its late events merge late).
STALE_NS = 1_000_000_000
#: An untimed event this long after the last clock reading is dated with a CLOCK.
CLOCK_STEP_NS = 1_000_000

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(tuple[int, list[tuple]])
_t = itemgetter(3)
#: Past this many events in one release, a CLOCK goes in every CLOCK_EVERY events
#: rather than wherever the time moved (a dense stream is dated finely anyway).
DENSE = 2_000
CLOCK_EVERY = 256


def stamped(append: Any) -> Any:
    """An emit that gives untimed (fast-path) events a fourth item: the time."""

    def emit(event: tuple[Any, ...]) -> None:
        append(event if event[0] >= CLOCK else (*event, monotonic_ns()))  # untimed: 3 items

    emit.append = append  # type: ignore[attr-defined]  # for callers that stamp themselves
    return emit


class Channel:
    """A child process's side: buffer stamped events, ship them from a native thread."""

    def __init__(self, address: str, tick: Any = None) -> None:
        self.conn: Connection = Client(address)
        self.tick = tick  #: called every round (the shared pause flag is read there)
        self.events: list[tuple[Any, ...]] = []
        self.emit = stamped(self.events.append)
        self.lock = native.allocate_lock()
        self.closed = False

    def start(self) -> None:
        native.start_thread(self._run)

    def _run(self) -> None:
        while not self.closed:
            native.sleep(CHILD_FLUSH_S)
            if self.tick is not None:
                self.tick()
            self.flush()

    def flush(self) -> None:
        """Send what is buffered with a fresh watermark; exit if the runner has gone."""
        with self.lock:
            if self.closed:
                return
            mark = monotonic_ns()
            events = self.events
            batch = events[:]
            del events[: len(batch)]
            try:
                self.conn.send_bytes(_encoder.encode((mark, batch)))
            except OSError:
                os._exit(1)  # nobody is left to report to

    def close(self) -> None:
        """Send the last events and close: the merger then forgets this source."""
        self.flush()
        with self.lock:
            self.closed = True
            self.conn.close()


class Merger:
    """The runner's side: one causal stream out of every process's events."""

    def __init__(self, out: Any) -> None:
        self.out = out  #: the runner's Sink: merged events go to ``out.events``
        # an abstract socket (Linux): no file to clean up when the run is killed
        address = f"\0tui-conc-{os.getpid()}-{os.urandom(4).hex()}"
        self.listener = Listener(address, family="AF_UNIX")
        self.address = address
        self.local: list[tuple[Any, ...]] = []
        #: the emit of the runner's own threads (actors that run in the main process)
        self.emit_local = stamped(self.local.append)
        self.sources: dict[Connection, int] = {}
        self.pending: list[tuple[Any, ...]] = []
        self.lock = native.allocate_lock()
        #: the latest time up to which the stream is complete (the frames' CLOCK)
        self.safe = monotonic_ns()
        self._last_clock = 0

    def start(self) -> None:
        native.start_thread(self._accept)
        native.start_thread(self._run)

    def _accept(self) -> None:
        while True:
            try:
                conn = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.sources[conn] = monotonic_ns() - SLACK_NS

    def _run(self) -> None:
        while True:
            with self.lock:
                conns = list(self.sources)
            ready = wait(conns, timeout=CHILD_FLUSH_S) if conns else native.sleep(CHILD_FLUSH_S)
            for conn in ready or ():
                self._read(conn)  # type: ignore[arg-type]
            self.merge()

    def _read(self, conn: Connection) -> None:
        try:
            mark, batch = _decoder.decode(conn.recv_bytes())
        except (EOFError, OSError):
            with self.lock:
                self.sources.pop(conn, None)
            return
        with self.lock:
            self.pending.extend(batch)
            if conn in self.sources:
                self.sources[conn] = mark

    def merge(self, final: bool = False) -> None:
        """Release every pending event no source can still precede (all with ``final``)."""
        with self.lock:
            now = monotonic_ns()
            local = self.local
            batch = local[:]
            del local[: len(batch)]
            self.pending.extend(batch)
            # a source silent for a second (stopped, or starved) no longer holds the rest back
            marks = [m for m in self.sources.values() if m > now - STALE_NS]
            safe = now if final else min([now, *marks]) - SLACK_NS
            pending = self.pending
            if not pending:
                self.safe = max(self.safe, safe)
                return
            pending.sort(key=_t)
            cut = len(pending) if final else bisect_right(pending, safe, key=_t)
            if cut:
                self.out.events.extend(self._with_clocks(pending[:cut]))
                del pending[:cut]
            self.safe = max(self.safe, safe)

    def _with_clocks(self, events: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """``events`` as the app expects them: fast-path events lose their stamp again
        (three small ints decode far cheaper than a tuple with a 64-bit time) and a
        CLOCK goes before one that came a while after the last time the fold saw.

        In a dense stream a CLOCK every ``CLOCK_EVERY`` events dates them finely enough.
        """
        if len(events) > DENSE:
            out = []
            for k in range(0, len(events), CLOCK_EVERY):
                chunk = events[k : k + CLOCK_EVERY]
                out.append((CLOCK, -1, -1, chunk[0][3]))
                out.extend([e if e[0] >= CLOCK else e[:3] for e in chunk])
            self._last_clock = events[-1][3]
            return out
        out = []
        append = out.append
        last = self._last_clock
        for e in events:
            t = e[3]
            if e[0] >= CLOCK:
                last = t  # a timed event: the fold takes its time
                append(e)
                continue
            if t - last > CLOCK_STEP_NS:
                append((CLOCK, -1, -1, t))
                last = t
            append(e[:3])
        self._last_clock = last
        return out

    def drain_sources(self, timeout_s: float = 1.0) -> None:
        """At the end: read what connected children still have to say, then merge it all."""
        deadline = monotonic_ns() + int(timeout_s * 1e9)
        while monotonic_ns() < deadline:
            with self.lock:
                if not self.sources:
                    break
            native.sleep(CHILD_FLUSH_S)
        self.merge(final=True)
