"""A run as the CLI and the app see it: live from a runner, or replayed from a trace.

Data flows one way: the runner's frames are read on a reader thread and
folded into a :class:`StateFolder`; callers take immutable snapshots. Nothing
here knows about Textual, and no thread here touches a widget.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from time import monotonic_ns
from typing import IO, Any, Protocol

from tui_conc.engine.client import RunnerProcess
from tui_conc.engine.memory import DEFAULT_MB
from tui_conc.engine.wire import codec
from tui_conc.engine.wire.codec import TraceError
from tui_conc.engine.wire.trace import load_trace
from tui_conc.state import analysis
from tui_conc.state import model as sm
from tui_conc.state.fold import StateFolder
from tui_conc.state.history import History, build_history

#: A verdict is given once every actor it names has been stuck this long (the
#: analysis is sound on any consistent cut; this only absorbs a last event in flight).
CONFIRM_NS = 50_000_000
#: After a process was killed (its last events may be lost with it), verdicts wait
#: this long for the others' events: a waiter it had woken reports it meanwhile.
KILL_GRACE_NS = 1_000_000_000
#: The deadlock analysis runs at most this often while events stream in.
DEADLOCK_CHECK_S = 0.02
#: While events stream in, the reader publishes a snapshot this often, so the
#: UI never waits for the fold (and never starves behind it).
PUBLISH_EVERY_S = 0.03
#: A frame is folded in chunks of this many events, the lock released between.
FOLD_CHUNK = 5_000
#: The reader's duty cycle: after this much folding it sleeps for YIELD_S, so
#: the UI thread gets whole windows of free GIL instead of fighting for it
#: after every syscall (measured: redraw gaps under a million events/s).
BURST_S = 0.010
YIELD_S = 0.004
#: The UI may ask the reader to stand aside for at most this long at a time.
GIVE_WAY_MAX_S = 0.1


class _Cancelled(Exception):
    """A history being refined is no longer wanted."""


class RunSource(Protocol):
    """What the app needs of a run, live or replayed."""

    def snapshot(
        self, log_tail: int = 200, wait: bool = True, actor_limit: int | None = None
    ) -> sm.Snapshot: ...
    def poll(self) -> None: ...
    def give_way(self, seconds: float) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...

    @property
    def status(self) -> str: ...

    @property
    def version(self) -> int: ...


class _Judged:
    """Status bookkeeping and verdicts, shared by live and replayed runs."""

    folder: StateFolder | None
    _status_override: str | None
    _cycle: tuple[sm.CycleEdge, ...] = ()
    _stalled: bool = False
    _suspect: tuple[sm.CycleEdge, ...] = ()
    _could_break: tuple[str, ...] = ()
    #: Every deadlock suspected during the run (for the report), in order.
    suspicions: list[sm.Suspicion]

    def _judge_now(self, now: int, confirm: bool) -> None:
        """Give a certain verdict (deadlock, stall) if there is one, else note a suspect.

        ``confirm``: a live run's verdict waits until its actors have been stuck a
        while (CONFIRM_NS) and no process was killed lately (KILL_GRACE_NS).
        """
        folder = self.folder
        if folder is None or self._status_override is not None:
            return
        verdict = analysis.judge(folder, now)
        if verdict.cycle or verdict.stalled:
            if not confirm or folder.blocked_forever or self._settled(verdict, now):
                self._cycle, self._stalled = verdict.cycle, verdict.stalled
                self._suspect, self._could_break = (), ()
                self._finalize(sm.DEADLOCK if verdict.cycle else sm.STALL)
            return
        if verdict.suspect != self._suspect:
            self._suspect, self._could_break = verdict.suspect, verdict.could_break
            if verdict.suspect:
                self._note_suspicion(verdict, now)

    def _settled(self, verdict: analysis.Verdict, now: int) -> bool:
        folder = self.folder
        assert folder is not None
        if folder.last_kill is not None and now - folder.last_kill < KILL_GRACE_NS:
            return False
        return all(now - folder.actors[i].since >= CONFIRM_NS for i in verdict.stuck)

    def _note_suspicion(self, verdict: analysis.Verdict, now: int) -> None:
        assert self.folder is not None
        actors = tuple(e.actor for e in verdict.suspect)
        if any(set(s.actors) == set(actors) for s in self.suspicions):
            return
        at = max(now - self.folder.t0, 0) / 1e9
        self.suspicions.append(sm.Suspicion(at, verdict.suspect, verdict.could_break))

    def _derive_status(self) -> str:
        if self._status_override is not None:
            return self._status_override
        folder = self.folder
        if folder is None:
            return sm.STARTING
        if folder.end_reason is not None:
            return folder.end_reason
        return sm.PAUSED if folder.paused else sm.RUN_RUNNING

    def log_texts(self) -> list[str]:
        """Every kept log line's text (for expectations such as log_count)."""
        return [text for *_, text in self.folder.log] if self.folder else []

    history: History | None = None

    def snapshot_at(
        self, cursor: int, log_tail: int = 200, actor_limit: int | None = None
    ) -> sm.Snapshot | None:
        """The run as it was after its first ``cursor`` events (None without a history).

        Its status and verdict are those of that instant: the analysis judges the
        state there, as it judged the live run (a deadlock shows once it has formed).
        At the history's end of a run that ended, the run's own last snapshot.
        """
        history = self.history
        if history is None:
            return None
        if cursor >= history.total and self.status in sm.FINAL_STATUSES and history.ended:
            return self.snapshot(log_tail=log_tail, actor_limit=actor_limit)
        folder = history.state_at(cursor)
        verdict = analysis.judge(folder, folder.now)
        if folder.end_reason is not None:
            status = folder.end_reason
        elif verdict.cycle:
            status = sm.DEADLOCK
        elif verdict.stalled:
            status = sm.STALL
        else:
            status = sm.PAUSED if folder.paused else sm.RUN_RUNNING
        snap = folder.snapshot(
            status,
            now=folder.now,
            cycle=verdict.cycle,
            stalled=verdict.stalled,
            log_tail=log_tail,
            actor_limit=actor_limit,
            suspect=verdict.suspect,
            could_break=verdict.could_break,
        )
        return dataclasses.replace(snap, past=True)


class LiveRun(_Judged):
    """A scenario running in a runner process, folded as its events arrive."""

    def __init__(
        self,
        scenario: str | Path,
        overrides: dict[str, Any] | None = None,
        record: str | Path | None = None,
        backend: str = "thread",
        memory_mb: float = DEFAULT_MB,
        record_mb: float | None = None,
        schedule: list[str] | None = None,
        step: bool = False,
        program: list[str] | None = None,
    ) -> None:
        self.runner = RunnerProcess(
            scenario, overrides, backend, memory_mb, schedule, step, program=program
        )
        #: the runner's exit status once it has ended (a traced program's own status)
        self.exit_status: int | None = None
        self.folder: StateFolder | None = None
        self._lock = threading.Lock()
        self._record_path = record
        self._record: IO[bytes] | None = None
        #: the recording stops past this many bytes (None: no cap)
        self._record_mb = record_mb
        self._record_cap = None if record_mb is None else int(record_mb * 1024 * 1024)
        self._recorded = 0
        #: the run's history (every frame recorded, checkpoints): for scrubbing and replay
        self.history: History | None = None
        self._reader: threading.Thread | None = None
        self._status_override: str | None = None
        self.suspicions: list[sm.Suspicion] = []
        #: What went wrong beside the run (a recording that could not be written).
        self.warnings: list[str] = []
        self.stopped = False  #: stopped by the user (x, r, q)
        self._frozen_at: int | None = None
        self._last_check = 0.0
        self._done = threading.Event()
        self._closed = threading.Event()
        self._version = 0
        self._published: sm.Snapshot | None = None
        self._published_at = 0.0
        self._ui_until = 0.0  #: monotonic() until which the reader leaves the GIL to the UI

    # -- lifecycle

    def wait_exit(self, timeout: float) -> int | None:
        """The runner's exit status once it has exited on its own (None: not yet)."""
        self._done.wait(timeout)
        return self.exit_status

    def start(self) -> LiveRun:
        codec.tune_gc_for_streaming()
        if self._record_path is not None:
            # unbuffered: a frame is in the file once written, for the history to read back
            self._record = open(self._record_path, "wb", buffering=0)
        self.runner.start()
        self._reader = threading.Thread(target=self._read, name="tui-conc-reader", daemon=True)
        self._reader.start()
        # a verdict is confirmed a little after the run's last event: someone must look again
        threading.Thread(target=self._watch, name="tui-conc-judge", daemon=True).start()
        return self

    def _watch(self) -> None:
        while not self._done.wait(DEADLOCK_CHECK_S):
            if self._status_override is not None:
                return
            self.poll()

    def _read(self) -> None:
        burst_started = time.monotonic()
        try:
            for raw, frame in self.runner.frames():
                recorded = bool(raw) and self._record is not None and self._write_record(raw)
                if isinstance(frame, dict):
                    with self._lock:
                        self.folder = StateFolder(frame)
                        if recorded:
                            self.history = History(self._record_path, raw, frame)  # type: ignore[arg-type]
                            self.history.lanes = self.folder.lanes
                        self._version += 1
                    continue
                history = self.history
                if history is not None and (history.cut is not None or not (recorded or not raw)):
                    history = None  # the recording stopped: the history ends where it did
                if recorded and history is not None:
                    history.add_frame(len(raw), codec.is_source_frame(raw))
                if history is not None and not raw:
                    history.end()  # the merge's last events, released at the stream's end
                for start in range(0, len(frame), FOLD_CHUNK):
                    lag = self._ui_until - time.monotonic()
                    if lag > 0:  # the UI is building a frame: it goes first
                        time.sleep(min(lag, GIVE_WAY_MAX_S))
                        burst_started = time.monotonic()
                    folding = time.perf_counter()
                    with self._lock:
                        folder = self.folder
                        if folder is None:
                            break
                        folder.fold(frame[start : start + FOLD_CHUNK])
                        self._version += 1
                        now = time.monotonic()
                        if now - self._last_check >= DEADLOCK_CHECK_S:
                            self._judge_deadlock()
                        if now - self._published_at >= PUBLISH_EVERY_S:
                            self._published = self._snapshot_locked(200, sm.LIVE_ACTORS)
                            self._published_at = now
                    if history is not None:
                        left = frame[start + FOLD_CHUNK :] if len(frame) > FOLD_CHUNK else None
                        spent = time.perf_counter() - folding
                        history.folded(folder, self.runner.merger, spent, left)
                    if now - burst_started >= BURST_S:
                        time.sleep(YIELD_S)
                        burst_started = time.monotonic()
        finally:
            code = self.runner.wait()
            self.exit_status = code
            with self._lock:
                if self.history is not None:
                    self.history.end()
                self._end_record()
                self._judge_deadlock()
                status = self._derive_status()
                if status not in sm.FINAL_STATUSES:
                    tail = self.runner.stderr_tail()
                    self.folder = self.folder or StateFolder({})
                    self.folder.error = f"the runner exited ({code}) early" + (
                        f": {tail}" if tail else ""
                    )
                    self._finalize(sm.ERROR)
                elif self._frozen_at is None:
                    self._frozen_at = monotonic_ns()
                self._version += 1
            self._done.set()
            history = self.history
            if history is not None and history.cut is None and history.sparse():
                threading.Thread(target=self._refine, name="tui-conc-refine", daemon=True).start()

    def _refine(self) -> None:
        """Read a finished run's recording again, for checkpoints as fine as a replay's:
        live they came seldom when each was big (the merge's pending events in a run of
        processes, thousands of actors), to cost the run little."""
        old = self.history
        assert old is not None

        def cancelled(folder: StateFolder, batch: Any) -> None:
            if self._closed.is_set():
                raise _Cancelled

        try:
            fine, _, problem = build_history(old.path, cancelled)
        except (_Cancelled, TraceError, OSError):
            return
        if problem is None and fine.total == old.total:
            self.history = fine
            old.close()
        else:
            fine.close()

    def close(self) -> None:
        """Let go of what the run keeps for looking back (its history's file handle,
        a history being refined): the app is done with it."""
        self._closed.set()
        if self.history is not None:
            self.history.close()

    def _write_record(self, raw: bytes) -> bool:
        """Record a frame (True if it was); a failed write (a full disk) or the cap
        ends the recording, not the run."""
        if self._record_cap is not None and self._recorded + len(raw) > self._record_cap:
            self._record_failed(f"it reached its cap of {self._record_mb:g} MB")
            return False
        try:
            view = memoryview(raw)
            while view:
                view = view[self._record.write(view) :]  # type: ignore[union-attr]
        except (OSError, ValueError) as exc:
            self._record_failed(getattr(exc, "strerror", "") or str(exc))
            return False
        self._recorded += len(raw)
        return True

    def _record_failed(self, why: str) -> None:
        folder = self.folder
        at = f" at {(folder.now - folder.t0) / 1e9:.2f} s" if folder is not None else ""
        self.warnings.append(f"the recording {self._record_path} stops{at}: {why}")
        if self.history is not None:
            self.history.stop(why)
        with contextlib.suppress(OSError, ValueError):
            self._record.close()  # type: ignore[union-attr]
        self._record = None

    def _end_record(self) -> None:
        if self._record is None:
            return
        try:
            self._record.close()
        except (OSError, ValueError) as exc:
            self._record_failed(getattr(exc, "strerror", "") or str(exc))
        self._record = None

    def _judge_deadlock(self) -> None:
        self._last_check = time.monotonic()
        if not self.runner.merger.complete:
            return  # a child's events lag behind: what the fold holds may not be a consistent cut
        self._judge_now(monotonic_ns(), confirm=True)

    def _finalize(self, status: str) -> None:
        # a program that gevent ended with LoopExit finished *because* nothing could run:
        # that verdict, not "finished"
        blocked = self.folder is not None and self.folder.blocked_forever
        if self._status_override is None and (
            blocked or self._derive_status() not in sm.FINAL_STATUSES
        ):
            self._status_override = status
        if self._frozen_at is None:
            self._frozen_at = monotonic_ns()

    @property
    def end_ns(self) -> int:
        """The run's present: now while it runs, the moment it ended after."""
        return self._frozen_at if self._frozen_at is not None else monotonic_ns()

    def give_way(self, seconds: float) -> None:
        """Hold the fold for the next ``seconds`` (at most GIVE_WAY_MAX_S; 0 ends it):
        the UI is building a frame, and the reader folding beside it would take half
        the GIL (under a flood of events, key presses showed twice as late)."""
        self._ui_until = time.monotonic() + min(seconds, GIVE_WAY_MAX_S)

    def poll(self) -> None:
        """Judge what needs the wall clock (a verdict is confirmed once its actors have
        been stuck a while, and nothing else may arrive to tell the reader).

        Never waits: if the reader holds the state, events are flowing, and
        the reader judges deadlocks itself.
        """
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self.folder is None or self._status_override is not None:
                return
            if time.monotonic() - self._last_check >= DEADLOCK_CHECK_S:
                before = (self._status_override, self._suspect)
                self._judge_deadlock()
                if (self._status_override, self._suspect) != before:
                    self._version += 1
        finally:
            self._lock.release()

    def take_step(self, actor: int) -> None:
        """Step mode: let ``actor`` take its next step."""
        self.runner.send(f"step {actor}")

    def auto_steps(self, n: int) -> None:
        """Step mode: let the scheduler choose up to ``n`` steps (it stops when one blocks)."""
        self.runner.send(f"auto {n}")

    def pause(self) -> None:
        if self.status == sm.RUN_RUNNING:
            self.runner.send("pause")

    def resume(self) -> None:
        if self.status == sm.PAUSED:
            self.runner.send("resume")

    def stop(self, status: str = sm.STOPPED) -> None:
        """Kill the runner (instant, whatever it is doing) and keep the last state."""
        with self._lock:
            if status == sm.STOPPED and self._derive_status() != sm.FINISHED:
                self.stopped = True  # by the user: after a verdict, the status says so too
            self._finalize(status)
            self._version += 1
        self.runner.kill()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=2)

    def wait(self, timeout: float | None = None) -> bool:
        """Poll until the run reaches a final status; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.status not in sm.FINAL_STATUSES:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self._done.wait(0.02)
            self.poll()
        return True

    # -- views

    @property
    def status(self) -> str:
        return self._derive_status()

    @property
    def version(self) -> int:
        """Goes up whenever the state changed (the app redraws only then)."""
        return self._version

    def snapshot(
        self, log_tail: int = 200, wait: bool = True, actor_limit: int | None = None
    ) -> sm.Snapshot:
        """The state now; with ``wait=False``, the reader's latest one if it is busy folding."""
        if not self._lock.acquire(blocking=wait or self._published is None):
            return self._published  # type: ignore[return-value]
        try:
            return self._snapshot_locked(log_tail, actor_limit)
        finally:
            self._lock.release()

    def _snapshot_locked(self, log_tail: int, actor_limit: int | None = None) -> sm.Snapshot:
        folder = self.folder
        status = self._derive_status()
        if folder is None:
            return sm.Snapshot(title="", status=status, elapsed_s=0.0)
        now = self._frozen_at if self._frozen_at is not None else monotonic_ns()
        return folder.snapshot(
            status,
            now=now,
            cycle=self._cycle,
            stalled=self._stalled,
            log_tail=log_tail,
            actor_limit=actor_limit,
            suspect=self._suspect,
            could_break=self._could_break,
            stopped=self.stopped,
        )


class ReplayRun(_Judged):
    """A recorded run folded from its trace file, optionally cut after ``upto`` events.

    A cut replay reports the status the run had at that point, so a snapshot
    of a recorded run in mid-flight looks exactly like the live one did.
    """

    def __init__(self, trace: str | Path, upto: int | None = None) -> None:
        self.path = Path(trace)
        self.history, folder, problem = build_history(trace)
        self._status_override: str | None = None
        self.suspicions: list[sm.Suspicion] = []
        #: What cut the recording short (a damaged or truncated trace), as for a live run.
        self.warnings: list[str] = [problem] if problem else []
        if upto is None:
            self.folder: StateFolder | None = folder
            self._judge_now(folder.now, confirm=False)
        else:
            loaded = load_trace(trace)
            self.folder = StateFolder(loaded.header)
            self.feed(loaded.events[:upto])

    def feed(self, events: Sequence[Sequence[Any]]) -> None:
        """Fold more of the recording and judge it as the live run was judged."""
        assert self.folder is not None
        self.folder.fold(events)
        self._judge_now(self.folder.now, confirm=False)

    def _finalize(self, status: str) -> None:
        if self._status_override is None:
            self._status_override = status

    @property
    def end_ns(self) -> int:
        """The recording's last instant."""
        assert self.folder is not None
        return self.folder.ended_at or self.folder.now

    @property
    def status(self) -> str:
        return self._derive_status()

    @property
    def version(self) -> int:
        return 0

    def snapshot(
        self, log_tail: int = 200, wait: bool = True, actor_limit: int | None = None
    ) -> sm.Snapshot:
        assert self.folder is not None
        return self.folder.snapshot(
            self.status,
            cycle=self._cycle,
            stalled=self._stalled,
            log_tail=log_tail,
            actor_limit=actor_limit,
            suspect=self._suspect,
            could_break=self._could_break,
        )

    def poll(self) -> None:
        return None

    def give_way(self, seconds: float) -> None:
        return None  # a replay has no reader thread to hold back

    def pause(self) -> None:
        return None

    def resume(self) -> None:
        return None

    def stop(self) -> None:
        if self.status not in sm.FINAL_STATUSES:
            self._status_override = sm.STOPPED

    def close(self) -> None:
        if self.history is not None:
            self.history.close()
