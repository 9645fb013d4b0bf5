"""A run's history: its frames in the recording, fold checkpoints, the state at any point.

Every run the app starts is recorded (a trace file); a replay reads one.
:class:`History` keeps where each frame lies in that file, and now and then
a *checkpoint*: a pickled copy of the fold's state (and of the merge's, for
a run of processes) after a whole frame. The state after any number of
events is then a checkpoint restored and at most one checkpoint interval
folded again, from the file: the fold is deterministic, so this is exactly
the state the live run had at that point (``tests/test_history.py``).

A *cursor* is a number of events: the state after the first ``cursor``
events of the merged stream.

Checkpoints cost the live reader a little: one is taken only once at least
:data:`CHECKPOINT_EVERY` events were folded since the last one, *and* the
folding since then took 1 / :data:`CHECKPOINT_SHARE` times as long as
taking the last one did. Together they may take :data:`CHECKPOINTS_BYTES`;
past it every other one goes and the interval doubles.
"""

from __future__ import annotations

import itertools
import os
import pickle
import threading
import time
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_conc.engine.wire import codec
from tui_conc.engine.wire.codec import SourceBatch, TraceError
from tui_conc.engine.wire.events import CLOCK
from tui_conc.engine.wire.merge import StreamMerger
from tui_conc.state.fold import StateFolder
from tui_conc.state.lanes import Lanes

#: Events between checkpoints, at least (a seek folds at most about this many again).
CHECKPOINT_EVERY = 50_000
#: Taking checkpoints may cost a live run at most this share of the time spent folding.
CHECKPOINT_SHARE = 0.03
#: Reading a trace file (a replay, or a finished run's history made finer), nothing
#: else waits: checkpoints as often as this, and up to this share of the time.
REPLAY_EVERY = 20_000
REPLAY_SHARE = 1.0
#: All checkpoints of a run together (pickled bytes).
CHECKPOINTS_BYTES = 64 << 20


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The fold's and the merge's state after ``frame`` frames and ``count`` events."""

    frame: int
    count: int
    now: int  #: the fold's clock then (monotonic ns)
    state: bytes  #: pickled (StateFolder, StreamMerger)
    #: the events of the batch being folded that were not yet (a checkpoint may come
    #: inside a frame's batch: a merge can let go of 100,000 events at once), packed
    left: bytes = b""


@dataclass(slots=True)
class _Cursor:
    """A restored state and where its reading stopped (to step on from it cheaply)."""

    folder: StateFolder
    batches: Iterator[list[tuple[Any, ...]]]
    left: list[tuple[Any, ...]]  #: events of the current batch not folded yet


class History:
    """The frames of one recorded run, its checkpoints, and seeks into it.

    Fed by whoever folds the run (:meth:`add_frame`, :meth:`folded`, :meth:`end`);
    read from any thread by :meth:`state_at`, :meth:`cursor_at` and the event
    searches. Those read the recording back from disk, never touching the live fold.
    """

    def __init__(
        self,
        path: str | Path,
        header_frame: bytes,
        header: dict[str, Any],
        every: int | None = None,
        share: float | None = None,
    ) -> None:
        self.path = Path(path)
        self.header = header
        self.offsets = array("q", [0])  #: where each frame starts in the file
        self.sizes = array("q", [len(header_frame)])
        self.counts = array("q", [0])  #: events folded after each frame
        self.nows = array("q", [_i64(int(header.get("t0", 0)))])  #: the clock after each frame
        self.checkpoints: list[Checkpoint] = []
        self.checkpoint_bytes = 0
        self.every = CHECKPOINT_EVERY if every is None else every
        self.share = CHECKPOINT_SHARE if share is None else share
        self.ended = False  #: the stream ended (the merge's last events were released)
        self.merging = False  #: a run of processes: its frames go through the merge
        #: why the recording stopped early (a cap, a full disk); None if it did not
        self.cut: str | None = None
        self._fold_s = 0.0  #: time spent folding since the last checkpoint
        self._pickle_s = 0.0  #: what the last checkpoint took
        self._fd: int | None = None
        self._cursor: _Cursor | None = None
        self._lock = threading.RLock()  #: the reading side: the cursor and the file
        #: the whole run's lanes (the live fold's), from which a restored state's actor
        #: histories are read again (checkpoints leave them out)
        self.lanes: Lanes | None = None
        folder = StateFolder(header)
        self._checkpoint(1, folder, StreamMerger())

    # ------------------------------------------------------------ fed as the run goes

    def add_frame(self, size: int, source: bool = False) -> None:
        """A frame of ``size`` bytes was appended to the recording (``source``: one
        of a process run's source frames)."""
        self.merging = self.merging or source
        self.offsets.append(self.offsets[-1] + self.sizes[-1])
        self.sizes.append(size)
        self.counts.append(self.counts[-1])
        self.nows.append(self.nows[-1])

    def folded(
        self,
        folder: StateFolder,
        merger: StreamMerger | None,
        seconds: float,
        left: list[tuple[Any, ...]] | None = None,
    ) -> None:
        """Some of the last frame's events are folded into ``folder`` (which took
        ``seconds``); ``left`` are the rest of its batch, still to come."""
        self.counts[-1] = folder.count
        self.nows[-1] = _i64(folder.now)
        self._fold_s += seconds
        since = folder.count - self.checkpoints[-1].count
        if since >= self.every and self._fold_s * self.share >= self._pickle_s:
            self._checkpoint(len(self.offsets), folder, merger or StreamMerger(), left)

    def end(self) -> None:
        """The stream ended: what the merge still held was released (and folded)."""
        self.ended = True

    def stop(self, why: str) -> None:
        """The recording stopped early: nothing past its last whole frame is kept."""
        self.cut = why

    def sparse(self) -> bool:
        """Were the checkpoints far apart (worth reading the recording again, finer)?"""
        spacing = self.total / max(len(self.checkpoints), 1)
        return self.merging or spacing > 4 * REPLAY_EVERY

    @property
    def total(self) -> int:
        """Events the history covers."""
        return self.counts[-1]

    @property
    def t0(self) -> int:
        return int(self.header.get("t0", 0))

    def _checkpoint(
        self,
        frame: int,
        folder: StateFolder,
        merger: StreamMerger,
        left: list[tuple[Any, ...]] | None = None,
    ) -> None:
        started = time.perf_counter()
        state = pickle.dumps((folder, merger), protocol=pickle.HIGHEST_PROTOCOL)
        rest = codec.encode_events(left) if left else b""
        self.checkpoints.append(Checkpoint(frame, folder.count, folder.now, state, rest))
        self.checkpoint_bytes += len(state) + len(rest)
        self._pickle_s = time.perf_counter() - started
        self._fold_s = 0.0
        if self.checkpoint_bytes > CHECKPOINTS_BYTES and len(self.checkpoints) > 2:
            first, *rest = self.checkpoints
            self.checkpoints = [first, *rest[1::2]]
            self.checkpoint_bytes = sum(len(c.state) + len(c.left) for c in self.checkpoints)
            self.every *= 2

    # ------------------------------------------------------------ reading back

    def state_at(self, cursor: int) -> StateFolder:
        """The fold's state after the first ``cursor`` events (clamped to the history).

        The result is the history's own working copy: read it, do not keep it
        past the next seek.
        """
        with self._lock:
            cursor = max(0, min(cursor, self.total))
            cached = self._cursor
            if cached is None or not self._worth_stepping(cached.folder.count, cursor):
                cached = self._restore(self._checkpoint_before(cursor))
            if not self._step(cached, cursor):  # its reading had ended before new frames came
                cached = self._restore(self._checkpoint_before(cursor))
                self._step(cached, cursor)
            self._cursor = cached
            return cached.folder

    def state_at_time(self, t: int) -> StateFolder:
        """The fold's state with every event stamped at or before monotonic time ``t``
        (one pass: cheaper than :meth:`cursor_at` then :meth:`state_at`)."""
        with self._lock:
            k = bisect_right([c.now for c in self.checkpoints], t) - 1
            checkpoint = self.checkpoints[max(k, 0)]
            cached = self._cursor
            if (
                cached is None
                or cached.folder.now > t
                or cached.folder.count < checkpoint.count
                or cached.folder.count >= self.total
            ):
                cached = self._restore(checkpoint)
            folder = cached.folder
            while folder.now <= t:
                if not cached.left:
                    batch = next(cached.batches, None)
                    if batch is None:
                        break
                    cached.left = batch
                cut = _cut(cached.left, t, folder.now)
                folder.fold(cached.left[:cut] if cut < len(cached.left) else cached.left)
                cached.left = cached.left[cut:] if cut < len(cached.left) else []
                if cached.left:
                    break
            self._cursor = cached
            return folder

    @staticmethod
    def _step(cached: _Cursor, cursor: int) -> bool:
        """Fold ``cached`` on to ``cursor``; False if its batches ran out first."""
        folder = cached.folder
        while folder.count < cursor:
            if not cached.left:
                batch = next(cached.batches, None)
                if batch is None:
                    return False
                cached.left = batch
            need = cursor - folder.count
            if len(cached.left) <= need:
                folder.fold(cached.left)
                cached.left = []
            else:
                folder.fold(cached.left[:need])
                cached.left = cached.left[need:]
        return True

    def cursor_at(self, t: int) -> int:
        """The cursor at monotonic time ``t``: every event stamped at or before it."""
        with self._lock:
            return self._cursor_at(t)

    def _cursor_at(self, t: int) -> int:
        k = bisect_right([c.now for c in self.checkpoints], t) - 1
        checkpoint = self.checkpoints[max(k, 0)]
        _, batches = self._stream(checkpoint)
        index, now = checkpoint.count, checkpoint.now
        if now > t:
            return index
        for batch in batches:
            for e in batch:
                if e[0] >= CLOCK:
                    now = e[3]
                    if now > t:
                        return index
                index += 1
        return min(index, self.total)

    def find(self, cursor: int, forward: bool, actor: int | None = None) -> int | None:
        """The cursor just after the next (or previous) event from ``cursor`` that
        changes something (a clock reading does not), of ``actor`` if given; None if
        there is none."""
        with self._lock:
            return self._find(cursor, forward, actor)

    def _find(self, cursor: int, forward: bool, actor: int | None) -> int | None:
        def wanted(e: tuple[Any, ...]) -> bool:
            return e[0] != CLOCK and (actor is None or e[1] == actor)

        if forward:
            for index, e in self._events_from(cursor):
                if wanted(e):
                    return index + 1
            return None
        end = cursor - 1  # the event that made the state at ``cursor`` does not count
        k = bisect_right([c.count for c in self.checkpoints], max(end - 1, 0)) - 1
        while k >= 0:
            start = self.checkpoints[k].count
            found = None
            for index, e in self._events_from(start, stop=end):
                if wanted(e):
                    found = index + 1
            if found is not None:
                return found
            end, k = start, k - 1
        return 0 if cursor > 0 else None

    def time_of(self, cursor: int) -> int:
        """The clock (monotonic ns) at ``cursor``."""
        return self.state_at(cursor).now

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._cursor = None

    # ------------------------------------------------------------ internals

    def _worth_stepping(self, at: int, cursor: int) -> bool:
        if cursor < at:
            return False
        return cursor - at <= cursor - self._checkpoint_before(cursor).count

    def _checkpoint_before(self, cursor: int) -> Checkpoint:
        k = bisect_right([c.count for c in self.checkpoints], cursor) - 1
        return self.checkpoints[max(k, 0)]

    def _restore(self, checkpoint: Checkpoint) -> _Cursor:
        folder, batches = self._stream(checkpoint)
        return _Cursor(folder, batches, [])

    def _stream(
        self, checkpoint: Checkpoint
    ) -> tuple[StateFolder, Iterator[list[tuple[Any, ...]]]]:
        """The state a checkpoint keeps, and the batches that come after it."""
        folder, merger = pickle.loads(checkpoint.state)
        folder.full_lanes = self.lanes
        batches = self._batches(checkpoint.frame, merger)
        if checkpoint.left:
            batches = itertools.chain([codec.decode_events(checkpoint.left)], batches)
        return folder, batches

    def _events_from(
        self, start: int, stop: int | None = None
    ) -> Iterator[tuple[int, tuple[Any, ...]]]:
        checkpoint = self._checkpoint_before(start)
        _, batches = self._stream(checkpoint)
        index = checkpoint.count
        for batch in batches:
            for e in batch:
                if stop is not None and index >= stop:
                    return
                if index >= start:
                    yield index, e
                index += 1

    def _batches(self, frame: int, merger: StreamMerger) -> Iterator[list[tuple[Any, ...]]]:
        """The merged event batches from frame ``frame`` on, as the live run folded them
        (a live run's frames are added meanwhile: each is looked for when needed)."""
        f = frame
        while f < len(self.offsets):
            obj = codec.decode_body(self._read(f))
            f += 1
            if isinstance(obj, SourceBatch):
                yield merger.add(obj)
            elif isinstance(obj, list):
                yield obj
        if self.merging and self.ended and self.cut is None:
            yield merger.release(final=True)

    def _read(self, frame: int) -> bytes:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        size = self.sizes[frame]
        raw = os.pread(self._fd, size, self.offsets[frame])
        if len(raw) != size:
            raise TraceError(f"{self.path}: the recording is shorter than its history")
        return raw


def _i64(value: int) -> int:
    """``value`` within a signed 64-bit array's range (a damaged trace's clock)."""
    return max(-(1 << 63), min(value, (1 << 63) - 1))


def _cut(batch: list[tuple[Any, ...]], t: int, now: int) -> int:
    """How many of ``batch``'s first events are stamped at or before ``t`` (an untimed
    event takes the time of the last timed one; ``now`` is the time before them)."""
    for index, e in enumerate(batch):
        if e[0] >= CLOCK:
            now = e[3]
        if now > t:
            return index
    return len(batch)


def build_history(
    path: str | Path,
    on_events: Callable[[StateFolder, list[tuple[Any, ...]]], None] | None = None,
) -> tuple[History, StateFolder, str | None]:
    """Read a trace file through: its history, the fold's final state, and what cut
    the reading short (None for a whole trace). Events are checked as
    :func:`~tui_conc.engine.wire.trace.load_trace` checks them; ``on_events`` sees
    each batch after it is folded."""
    from tui_conc.engine.wire.trace import EventChecker, check_header

    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise TraceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:
        frames = codec.iter_raw_frames(fh)
        try:
            raw, header = next(frames, (b"", None))
        except (TraceError, TypeError, ValueError, IndexError, KeyError) as exc:
            raise TraceError(f"{path}: not a tui-conc trace ({exc})") from None
        check_header(header, str(path))
        history = History(path, raw, header, every=REPLAY_EVERY, share=REPLAY_SHARE)
        folder = StateFolder(header)
        history.lanes = folder.lanes
        merger = StreamMerger()
        checker = EventChecker(header)
        problem = None
        try:
            for raw, obj in frames:
                history.add_frame(len(raw), source=isinstance(obj, SourceBatch))
                if isinstance(obj, SourceBatch):
                    batch = merger.add(obj)
                elif isinstance(obj, list):
                    batch = obj
                else:
                    raise TraceError("a frame after the header is not a list of events")
                _fold_checked(folder, batch, checker, history, merger, on_events)
            history.end()
            if history.merging:
                _fold_checked(folder, merger.release(final=True), checker, None, merger, on_events)
                history.counts[-1], history.nows[-1] = folder.count, _i64(folder.now)
        except (TraceError, TypeError, ValueError, IndexError, KeyError) as exc:
            problem = f"read up to event {history.total:,}: then {exc}"
            _drop_last_frame(history)
            history.stop(problem)
    return history, folder, problem


def _fold_checked(
    folder: StateFolder,
    batch: list[tuple[Any, ...]],
    checker: Any,
    history: History | None,
    merger: StreamMerger,
    on_events: Callable[[StateFolder, list[tuple[Any, ...]]], None] | None,
) -> None:
    for e in batch:
        checker.check(e)
    step = REPLAY_EVERY if history is None else history.every
    for start in range(0, len(batch), step) if len(batch) > step else (0,):
        chunk = batch[start : start + step] if len(batch) > step else batch
        started = time.perf_counter()
        folder.fold(chunk)
        if history is not None:
            left = batch[start + step :] if len(batch) > step else None
            history.folded(folder, merger, time.perf_counter() - started, left)
        if on_events is not None:
            on_events(folder, chunk)


def _drop_last_frame(history: History) -> None:
    """A frame whose events did not all pass is not part of the history."""
    if len(history.offsets) > history.checkpoints[-1].frame:
        for column in (history.offsets, history.sizes, history.counts, history.nows):
            column.pop()
