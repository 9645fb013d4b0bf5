"""The runner process: ``python -m tui_conc.engine.runner FILE [--set-json JSON] [--control]``.

(``python -m tui_conc.engine.backends.gevent_runner`` is the same runner for the
gevent backend, monkey-patched first.)

It runs one scenario on its backend and writes the event stream (see
:mod:`tui_conc.engine.codec`) to stdout. With ``--control`` it reads
``pause`` / ``resume`` lines on stdin and exits when stdin closes (so it never
outlives its parent). The parent stops it by killing its
process group, which ends every thread at once, deadlocked or not.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import sys
from collections import deque
from pathlib import Path
from time import monotonic_ns
from typing import IO, Any

from tui_conc.engine import native
from tui_conc.engine.memory import DEFAULT_MB, MemoryWatch
from tui_conc.engine.scheduler.unfinished import Unfinished
from tui_conc.engine.wire import channel, codec
from tui_conc.engine.wire import events as ev

#: How often buffered events are sent.
FLUSH_INTERVAL_S = 0.005
#: At most this many events go in one frame (keeps every decode short).
FRAME_EVENTS = 20_000
#: Frames waiting for the pipe; past this the flusher leaves events buffered.
FRAMES_IN_FLIGHT = 4
#: Past this many buffered events, actors are held at their next step until
#: the reader catches up: memory stays bounded and the UI is never flooded.
BACKLOG_LIMIT = 200_000
#: The same for frames waiting for the pipe (the process backend's children's).
FRAMES_BACKLOG = 200
#: The runner's own watermark goes out at least this often, events or not.
HEARTBEAT_NS = 20_000_000


class Sink:
    """The run's event buffer: actors append, the flusher drains in batches."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.append = self.events.append

    def drain(self, limit: int) -> list[tuple[Any, ...]]:
        """Take up to ``limit`` buffered events; appends racing with this stay for later."""
        events = self.events
        batch = events[:limit]
        del events[: len(batch)]
        return batch


class Writer:
    """Writes encoded frames to the stream from its own OS thread; the only writer.

    A small hand-off (a deque, and a native lock released when a frame is
    handed over) rather than a ``queue.Queue``: under gevent, ``queue`` is
    patched for greenlets and must not be shared between OS threads. Idle,
    the thread sleeps on the lock and takes no GIL turns from the actors.
    """

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.frames: deque[bytes] = deque()
        self.busy = False
        self._ready = native.allocate_lock()
        self._ready.acquire()

    def start(self) -> None:
        native.start_thread(self._run)

    def hand(self, frame: bytes) -> None:
        """Queue ``frame`` for writing."""
        self.frames.append(frame)
        if self._ready.locked():
            # a racing hand() may have released it already: the writer is awake anyway
            with contextlib.suppress(RuntimeError):
                self._ready.release()

    def _run(self) -> None:
        while True:
            if not self.frames:
                self._ready.acquire(True, 0.05)
                continue
            self.busy = True
            frame = self.frames.popleft()
            self.out.write(frame)
            self.out.flush()
            self.busy = False

    def full(self) -> bool:
        return len(self.frames) >= FRAMES_IN_FLIGHT

    def join(self) -> None:
        """Wait until every handed frame is written."""
        while self.frames or self.busy:
            native.sleep(0.001)


class Flusher:
    """Every few ms, on its own OS thread: judge back-pressure, hand batches to the writer.

    With a ``source`` (the process backend) the runner's own events go out as
    that source's batches, stamped and with a watermark, for the reader to
    merge with the children's; otherwise as plain batches, a CLOCK last.
    """

    def __init__(
        self, sink: Sink, writer: Writer, control: Any, tick: Any = None, source: int | None = None
    ) -> None:
        self.sink = sink
        self.writer = writer
        self.control = control
        self.tick = tick  #: called every round (the gevent hub monitor reports there)
        self.source = source
        self.lock = native.allocate_lock()
        self._marked = 0  #: when the last watermark went out

    def start(self) -> None:
        native.start_thread(self._run)

    def _run(self) -> None:
        while True:
            native.sleep(FLUSH_INTERVAL_S)
            if self.tick is not None:
                self.tick()
            events, frames = len(self.sink.events), len(self.writer.frames)
            self.control.throttle(events > BACKLOG_LIMIT or frames > FRAMES_BACKLOG)
            self.flush(wait=False)

    def flush(self, wait: bool = True) -> None:
        """Send what is buffered; with ``wait``, block until all of it is written.

        The kind of batch is decided under the lock: a traced program's stream turns
        into merged sources when it starts its first process (``source`` set, under
        the lock), and a flush that had read ``source`` before would send a plain
        batch after source batches — events the reader then took late.
        """
        with self.lock:
            if self.source is not None:
                self._send_source(wait)
                return
            while self.sink.events:
                if not wait and self.writer.full():
                    return  # the reader is behind: keep buffering (bounded by throttle)
                self.sink.append((ev.CLOCK, -1, -1, monotonic_ns()))
                self.writer.hand(codec.encode_frame(self.sink.drain(FRAME_EVENTS)))
                if not wait:
                    return
            if wait:
                self.writer.join()

    def _send_source(self, wait: bool) -> None:
        """Hand this process's events with a watermark (one now and then even when idle:
        the reader merges no further than the oldest watermark). The lock is held."""
        mark = channel.watermark()
        if self.sink.events or mark - self._marked >= HEARTBEAT_NS or wait:
            batch = self.sink.drain(len(self.sink.events))
            self.writer.hand(codec.encode_source_frame(self.source, mark, batch))  # type: ignore[arg-type]
            self._marked = mark
        if wait:
            self.writer.join()


def _private_stream() -> IO[bytes]:
    """The event stream on a descriptor of its own; fd 1 becomes stderr.

    Nothing but frames may reach the stream: a print in the runner goes to
    stderr, and child processes (which inherit fds 0-2, not this one) can
    neither write into it nor keep it open after the runner has gone.
    """
    sys.stdout.flush()
    fd = os.dup(1)  # not inheritable (PEP 446)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(fd, "wb", buffering=0)


def scenario_hash(path: str) -> str:
    """The scenario file's content hash: a recording names exactly what it ran."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def _end_of_parent() -> None:
    """The app went away: end every process of the run, this one last."""
    if os.getpgid(0) == os.getpid():  # we lead our own group (as the app starts us)
        os.killpg(os.getpid(), 9)
    for child in _children():
        child.kill()
    os._exit(0)


def _children() -> list[Any]:
    import multiprocessing

    return multiprocessing.active_children()


def _control_loop(control: Any, emit: Any, wheel: Any = None) -> None:
    for raw in sys.stdin.buffer:
        command = raw.decode(errors="replace").strip()
        word, _, arg = command.partition(" ")
        if wheel is not None and word in ("step", "auto") and arg.isdigit():
            wheel.send(word, int(arg))
        elif command == "pause":
            control.pause(True)
            emit((ev.PAUSED, -1, -1, monotonic_ns()))
        elif command == "resume":
            control.pause(False)
            emit((ev.RESUMED, -1, -1, monotonic_ns()))
    _end_of_parent()  # the parent went away: nothing is left to report to


def run(
    path: str,
    overrides: dict[str, Any],
    out: IO[bytes],
    control: bool = False,
    backend: str = "thread",
    memory_mb: float = DEFAULT_MB,
    schedule: list[str] | None = None,
    step: bool = False,
) -> int:
    """Run the scenario at ``path``; returns the process exit status.

    With ``schedule`` (actor names) the run follows it exactly; with ``step``
    it then waits for ``step N`` / ``auto N`` commands (step mode).
    """
    from tui_conc.engine.backends.thread import ThreadRun
    from tui_conc.scenario import ScenarioError, load_scenario, resolve_knobs

    t0 = monotonic_ns()
    header: dict[str, Any] = {"format": codec.FORMAT, "version": codec.VERSION, "t0": t0}
    try:
        scenario = load_scenario(path)
        knobs = resolve_knobs(scenario, overrides)
    except ScenarioError as exc:
        out.write(codec.encode_frame({**header, "error": str(exc)}))
        out.write(codec.encode_frame([(ev.ERROR, -1, -1, monotonic_ns(), str(exc))]))
        out.flush()
        return 2
    sink = Sink()
    writer = Writer(out)
    relay = None
    # Actors allocate a tuple per event: with the default thresholds the
    # collector rescans the heap every 700.
    codec.tune_gc_for_streaming()
    try:
        if backend == "process":
            from tui_conc.engine.backends.process import ProcessRun
            from tui_conc.engine.wire.channel import Relay, stamped

            relay = Relay(writer.hand)
            relay.start()
            trun: ThreadRun = ProcessRun(
                scenario, knobs, stamped(sink.append), backend=backend, address=relay.address
            )
        elif backend == "dask":
            trun, relay = _on_dask(scenario, knobs, sink, writer)
        elif schedule is not None or step:
            trun = _controlled(scenario, knobs, sink, schedule or [], step, backend)
        else:
            trun = ThreadRun(scenario, knobs, sink.append, backend=backend)
    except Exception as exc:
        for child in _children():  # a Manager or pool workers started before the failure
            child.kill()
        out.write(codec.encode_frame({**header, "error": str(exc)}))
        out.write(codec.encode_frame([(ev.ERROR, -1, -1, monotonic_ns(), f"cannot build: {exc}")]))
        out.flush()
        return 2
    gc.freeze()  # the run as built (10,000 actors' compiled steps) is never garbage
    # the run begins as it is built (after its scenario loaded; a Dask run's, once its
    # cluster is up: the log says how long that took)
    header["t0"] = trun.t0
    header.update(
        title=scenario.title,
        file=path,
        scenario_sha256=scenario_hash(path),
        backend=backend,
        knobs=knobs,
        **trun.header(),
    )
    out.write(codec.encode_frame(header))
    out.flush()
    tick = None
    if backend == "gevent":
        from tui_conc.engine.backends.hub import HubMonitor

        tick = HubMonitor(sink.append, trun.actor_of).report
    writer.start()
    flusher = Flusher(sink, writer, trun.control, tick, None if relay is None else 0)
    flusher.start()
    if control:
        wheel = getattr(trun.control, "chooser", None)
        native.start_thread(lambda: _control_loop(trun.control, sink.append, wheel))

    def too_big(message: str) -> None:
        sink.append((ev.ERROR, -1, -1, monotonic_ns(), message))
        flusher.flush()
        _end_of_parent()

    MemoryWatch(memory_mb, too_big).start()
    try:
        trun.prepare()
        trun.start()
        trun.wait_until_done()
        trun.cut_off_daemons()
        if relay is not None:
            relay.drain_sources()
        sink.append((ev.END, -1, -1, monotonic_ns(), "finished"))
    except Unfinished as exc:  # a controlled run that could not go on
        if exc.outcome == "blocked":
            message = "no actor can take a step"
            sink.append((ev.BLOCKED_FOREVER, -1, -1, monotonic_ns(), message))
        else:
            why = trun.control.diverged or f"stopped after {len(trun.control.decisions)} steps"
            sink.append((ev.ERROR, -1, -1, monotonic_ns(), f"schedule: {why}"))
    except Exception as exc:
        if type(exc).__name__ == "LoopExit":  # gevent: every greenlet waits, nothing can wake one
            sink.append((ev.BLOCKED_FOREVER, -1, -1, monotonic_ns(), str(exc)))
        else:
            sink.append((ev.ERROR, -1, -1, monotonic_ns(), f"{type(exc).__name__}: {exc}"))
    flusher.flush()
    trun.close()  # after the end is out: a Dask cluster takes a second to close
    return 0


def _on_dask(scenario: Any, knobs: dict[str, Any], sink: Sink, writer: Writer) -> Any:
    """A run on Dask and its relay: on loopback for a local cluster, on every interface
    for an existing one (whose workers reach back to the address the runner uses to
    talk to its scheduler)."""
    from tui_conc.engine.backends.dask import LISTEN_ENV, SCHEDULER_ENV, WORKERS_ENV
    from tui_conc.engine.backends.dask.cluster import DEFAULT_WORKERS
    from tui_conc.engine.backends.dask.run import DaskRun
    from tui_conc.engine.wire.channel import Relay, stamped

    scheduler = os.environ.get(SCHEDULER_ENV) or None
    listen = os.environ.get(LISTEN_ENV) or None  # else: found from the route to the scheduler
    bind = listen or ("0.0.0.0" if scheduler else "127.0.0.1")
    relay = Relay(writer.hand, tcp=(bind, 0))
    relay.start()
    workers = int(os.environ.get(WORKERS_ENV) or DEFAULT_WORKERS)
    trun = DaskRun(
        scenario,
        knobs,
        stamped(sink.append),
        backend="dask",
        authkey=relay.authkey,
        scheduler=scheduler,
        workers=workers,
    )
    trun.address = (listen or trun.reach_back(), relay.address[1])
    return trun, relay


def _controlled(
    scenario: Any,
    knobs: dict[str, Any],
    sink: Sink,
    schedule: list[str],
    step: bool,
    backend: str = "thread",
) -> Any:
    """A run on threads (or greenlets) whose steps a schedule, then in step mode the
    learner, chooses."""
    from tui_conc.engine.backends.thread import COOPERATIVE, ThreadRun
    from tui_conc.engine.scheduler.controlled import Controlled
    from tui_conc.engine.scheduler.strategies import Replay
    from tui_conc.engine.scheduler.wheel import Wheel

    emit = sink.append
    sched = Controlled(
        Replay([]),
        max_steps=10**9 if step else 1_000_000,
        on_offer=lambda s: emit((ev.OFFER, -1, -1, monotonic_ns(), s.options(), s.clock_s)),
        on_chosen=lambda a: emit((ev.CHOSEN, a, -1, monotonic_ns())),
        cooperative=backend in COOPERATIVE,
    )
    trun = ThreadRun(scenario, knobs, emit, backend=backend, control=sched)
    names = [a.name for a in trun.actors]
    where = {name: k for k, name in enumerate(names)}
    unknown = [n for n in schedule if n not in where]
    if unknown:
        raise ValueError(f"the schedule names {unknown[0]!r}, not an actor of this run")
    prefix = [where[n] for n in schedule]
    sched.chooser = Wheel(prefix, names) if step else Replay(prefix, strict=True, names=names)
    return trun


def main(argv: list[str] | None = None, backend: str = "thread") -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tui_conc.engine.runner")
    parser.add_argument("file")
    parser.add_argument("--set-json", default="{}", help="knob overrides as a JSON object")
    parser.add_argument("--control", action="store_true", help="obey stdin; exit when it closes")
    parser.add_argument("--backend", default=backend, help="the backend name for the header")
    parser.add_argument("--memory-mb", type=float, default=DEFAULT_MB, help="the memory cap")
    parser.add_argument("--schedule-json", help="follow this list of actor names, step by step")
    parser.add_argument("--step", action="store_true", help="step mode: obey step / auto")
    args = parser.parse_args(argv)
    out = _private_stream()
    status = run(
        args.file,
        json.loads(args.set_json),
        out,
        control=args.control,
        backend=args.backend,
        memory_mb=args.memory_mb,
        schedule=None if args.schedule_json is None else json.loads(args.schedule_json),
        step=args.step,
    )
    out.flush()
    os._exit(status)  # daemon actors end here, as Python's own exit would end them


if __name__ == "__main__":
    main()
