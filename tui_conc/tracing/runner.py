"""The runner of a traced program (``python -m tui_conc.tracing.runner SCRIPT [ARGS…]``).

The same stream as a scenario's runner (a header, then event batches on a
descriptor of its own), but the actors, resources and places arrive as the
program makes them. The program runs as ``python SCRIPT ARGS`` would run it:
``__main__``, its ``sys.argv``, its directory first on ``sys.path``, stdin
at end of file, its non-daemon threads waited for and its ``atexit``
functions run at the end; the runner exits with the program's status.
"""

from __future__ import annotations

import atexit
import os
import runpy
import sys
import threading
import time
import traceback
from pathlib import Path
from time import monotonic_ns
from types import FrameType, TracebackType
from typing import Any

from tui_conc.engine import native
from tui_conc.engine.memory import DEFAULT_MB, MemoryWatch
from tui_conc.engine.runner import Flusher, Sink, Writer, _end_of_parent, _private_stream
from tui_conc.engine.wire import codec
from tui_conc.engine.wire import events as ev
from tui_conc.engine.wire.channel import Relay, stamped
from tui_conc.tracing import greenlets, instrument, locks, processes, tasks
from tui_conc.tracing.taps import LineTap

#: Said once per quiet spell: nothing observable happened for this long.
NO_PROGRESS_S = 5.0
#: At the end, how long the children's last lines may take to arrive.
CHILD_OUTPUT_WAIT_S = 0.5
#: How often an asyncio program's tasks are sampled (running, awaiting what).
TASKS_EVERY_S = 0.02
#: How often the runner looks for Python threads it has not seen start.
SCAN_EVERY_S = 0.25
_PACKAGE = str(Path(__file__).resolve().parent.parent)
#: Frames of these files are the runner's, not the program's (cut from tracebacks).
_PLUMBING = (runpy.__file__, "<frozen runpy>", __file__)


class Usage(Exception):
    """Bad arguments: one line."""


def parse(argv: list[str]) -> tuple[float, bool, str | None, str | None, list[str]]:
    """(memory_mb, control, script, module, program_args) from the command line."""
    memory, control = DEFAULT_MB, False
    args = list(argv)
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "--control":
            control = True
        elif flag == "--memory-mb" and args:
            memory = float(args.pop(0))
        elif flag == "-m" and args:
            return memory, control, None, args[0], args[1:]
        else:
            raise Usage(f"unknown option {flag}")
    if not args:
        raise Usage("no program given")
    return memory, control, args[0], None, args[1:]


class Watch:
    """The flusher's tick: threads the runner has not seen start become actors; the
    locks' holds are sampled; a quiet spell is said once, with where every thread is."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.registry: Any = None  #: set once the program's hooks are in
        self.quiet_since = time.monotonic()
        self.said = False
        self.scanned = 0.0
        self.tasks_sampled = 0.0
        self.holds_sampled = 0.0

    def __call__(self) -> None:
        if self.registry is None:
            return
        now = time.monotonic()
        moved = False
        if now - self.holds_sampled >= locks.SAMPLE_EVERY_S:
            self.holds_sampled = now
            moved = locks.publish_holds()  # locks taken unseen are progress too
        if self.sink.events or moved:
            self.quiet_since, self.said = now, False
        elif not self.said and now - self.quiet_since >= NO_PROGRESS_S:
            self.said = True
            self._say_where(now - self.quiet_since)
        if now - self.tasks_sampled >= TASKS_EVERY_S:
            self.tasks_sampled = now
            tasks.sample_tasks()
            processes.poll_ends()
        if now - self.scanned >= SCAN_EVERY_S:
            self.scanned = now
            self._scan()

    def _scan(self) -> None:
        registry = self.registry
        for ident, frame in sys._current_frames().items():
            if ident in instrument._idents or ident in registry.own_threads:
                continue
            if _outermost(frame).startswith(_PACKAGE):
                registry.own_threads.add(ident)  # a runner thread (writer, flusher…)
            else:
                registry.adopt(ident)

    def _say_where(self, quiet: float) -> None:
        emit, t = self.sink.append, monotonic_ns()
        emit((ev.LOG, -1, -1, t, f"no progress seen for {quiet:.0f} s; where each thread is:"))
        for ident, frame in sys._current_frames().items():
            if ident in self.registry.own_threads:
                continue
            actor = instrument._idents.get(ident, -1)  # each line is the thread's own
            frames = [
                f
                for f in traceback.extract_stack(frame)
                if not _ours(f.filename) and f.filename not in _PLUMBING
            ]
            for chunk in traceback.format_list(frames[-6:]):
                for line in chunk.rstrip().splitlines():
                    emit((ev.LOG, actor, -1, t, "  " + line))


def _ours(filename: str) -> bool:
    return str(Path(filename).resolve()).startswith(_PACKAGE)


def _outermost(frame: FrameType) -> str:
    while frame.f_back is not None:
        frame = frame.f_back
    return str(Path(frame.f_code.co_filename).resolve())


def main(argv: list[str] | None = None) -> None:
    try:
        memory_mb, control, script, module, args = parse(sys.argv[1:] if argv is None else argv)
    except (Usage, ValueError) as exc:
        print(f"tui-conc trace: {exc}", file=sys.stderr)
        os._exit(2)
    out = _private_stream()
    commands = os.fdopen(os.dup(0), "rb")  # the app's control lines; the program's stdin is
    null = os.open(os.devnull, os.O_RDONLY)  # at end of file, as with stdin closed
    os.dup2(null, 0)
    sys.stdin = open(0, closefd=False)
    target = module or str(Path(script or "").resolve())
    header: dict[str, Any] = {
        "format": codec.FORMAT,
        "version": codec.VERSION,
        "t0": monotonic_ns(),
        "title": f"{module or Path(script or '').name} (traced)",
        "file": target,
        "backend": "thread",
        "traced": True,
        "argv": [target, *args],
        "knobs": {},
        "actors": [{"name": "MainThread", "group": "MainThread", "index": 0, "daemon": False}],
        "resources": [],
        "steps": [],
    }
    out.write(codec.encode_frame(header))
    sink, writer = Sink(), Writer(out)
    writer.start()
    children = _capture_children(sink)
    os.register_at_fork(after_in_child=lambda: _in_forked_child(out, commands))

    def too_big(message: str) -> None:
        sink.append((ev.ERROR, -1, -1, monotonic_ns(), message))
        flusher.flush()
        _end_of_parent()

    # the runner's own threads first: once the program's hooks are in, a new thread
    # is the program's
    watch = Watch(sink)
    flusher = Flusher(sink, writer, _NoControl(), watch)
    flusher.start()
    MemoryWatch(memory_mb, too_big).start()
    if control:
        native.start_thread(lambda: _obey(commands))
    relay: list[Relay] = []

    def enable_children() -> str:
        """The first process the program starts: from now on the stream is merged
        sources (the runner's, then each child's), as the process backend's is."""
        if relay:
            return relay[0].address
        instrument._emit = stamped(sink.append)  # every event timed, for the merge
        flusher.flush()
        with flusher.lock:
            flusher.source = 0
        # source 0's first watermark goes out before any child exists: the merge waits
        # only for sources it has heard of, and a fast child (fork) could otherwise
        # overtake the runner's ACTOR_NEW for it
        flusher.flush()
        relay.append(Relay(writer.hand, serve=processes.serve_child))
        relay[0].start()
        return relay[0].address

    processes._enable = enable_children
    watch.registry = instrument.install(sink.append, "" if module else target)
    _exit, runner_pid = os._exit, os.getpid()

    def exit_now(status: int) -> None:
        """The program's ``os._exit``: what it printed and the end go out first (a
        forked child, which ends this way, just ends)."""
        if os.getpid() != runner_pid:
            _exit(status)
        for tap in (sys.stdout, sys.stderr):
            if isinstance(tap, LineTap):
                tap.close_lines()
        locks.publish_holds()
        t = monotonic_ns()
        sink.append((ev.LOG, -1, -1, t, f"os._exit({status}): the program ends at once"))
        sink.append((ev.END, -1, -1, t, "finished"))
        flusher.flush()
        _exit(status)

    os._exit = exit_now
    code = _run_program(sink, script, module, args, children, relay)
    flusher.flush()
    _exit(code)


class _NoControl:
    """A program cannot be paused between its steps: back-pressure is all there is."""

    def throttle(self, throttled: bool) -> None:
        return None


def _obey(commands: Any) -> None:
    for _ in commands:  # pause / resume have no meaning for a program
        pass
    _end_of_parent()  # the app went away


def _capture_children(sink: Sink) -> Any:
    """File descriptors 1 and 2 become a pipe the runner reads: what the program's child
    processes print (forked or spawned, or any subprocess) is logged, line by line.
    Returns the reader's "drained" lock (released at end of file)."""
    read, write = os.pipe()
    os.dup2(write, 1)
    os.dup2(write, 2)
    os.close(write)
    drained = native.allocate_lock()
    drained.acquire()

    def relay() -> None:
        rest = b""
        with os.fdopen(read, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                *lines, rest = (rest + chunk).split(b"\n")
                t = monotonic_ns()
                for line in lines:
                    text = line.decode(errors="replace")[:4000]
                    sink.append((ev.LOG, -1, -1, t, text))
        if rest:
            sink.append((ev.LOG, -1, -1, monotonic_ns(), rest.decode(errors="replace")))
        drained.release()

    native.start_thread(relay)
    return drained


def _in_forked_child(out: Any, commands: Any) -> None:
    """A forked child keeps nothing of the runner's: not the stream, not the app's
    control lines; its prints go to descriptor 1, the runner's pipe, marked with its pid."""
    for stream in (out, commands):
        with _suppressed_errors():
            os.close(stream.fileno())
    pid = os.getpid()
    sys.stdout = _Marked(1, f"[pid {pid}] ")
    sys.stderr = _Marked(2, f"[pid {pid}] [stderr] ")


class _Marked:
    """A forked child's stdout / stderr: whole lines, marked, in one write each."""

    def __init__(self, fd: int, mark: str) -> None:
        self.fd, self.mark, self.partial = fd, mark, ""

    def write(self, text: str) -> int:
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            os.write(self.fd, (self.mark + line + "\n").encode(errors="replace"))
        return len(text)

    def flush(self) -> None:
        if self.partial:
            os.write(self.fd, (self.mark + self.partial + "\n").encode(errors="replace"))
            self.partial = ""

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.fd


class _suppressed_errors:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> bool:
        return exc[0] is not None and issubclass(exc[0], OSError)


def _run_program(
    sink: Sink,
    script: str | None,
    module: str | None,
    args: list[str],
    children: Any,
    relay: list[Relay],
) -> int:
    emit = sink.append
    out = LineTap(emit, tasks.writer)
    err = LineTap(emit, tasks.writer, prefix="[stderr] ")
    sys.stdout, sys.stderr = out, err
    failed = False
    code = 0
    try:
        if module is not None:
            sys.argv = [module, *args]
            sys.path[0] = os.getcwd()
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        else:
            assert script is not None
            sys.argv = [script, *args]
            sys.path[0] = str(Path(script).resolve().parent)
            runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = _exit_status(exc)
    except BaseException as exc:
        failed, code = True, 1
        greenlets.loop_exit(exc)  # gevent's verdict: nothing can wake any greenlet
        _print_uncaught(exc)
    _wait_for_threads(emit)
    with _suppressed():
        atexit._run_exitfuncs()
    out.close_lines()
    err.close_lines()
    # what children printed last: the pipe's end once every writer is gone (a child
    # still running keeps it open: wait a little, not for ever)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    if children.acquire(True, CHILD_OUTPUT_WAIT_S):
        children.release()
    if relay:
        relay[0].drain_sources()  # the children's last batches
    locks.publish_holds()  # every lock's count of holds, complete
    greenlets.end()
    t = monotonic_ns()
    if failed:
        emit((ev.ACTOR_FAILED, 0, -1, t, "the program raised (see the log)"))
    else:
        emit((ev.ACTOR_DONE, 0, -1, t, time.thread_time()))
    for thread in threading.enumerate():
        actor = getattr(thread, "_tui_actor", None)
        if actor is not None and thread.daemon and thread.is_alive():
            emit((ev.ACTOR_KILLED, actor, -1, t, "daemon cut off at exit"))
    emit((ev.END, -1, -1, monotonic_ns(), "finished"))
    return code


def _exit_status(exc: SystemExit) -> int:
    """What ``python`` exits with for this ``SystemExit`` (a message: printed, 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _print_uncaught(exc: BaseException) -> None:
    """The traceback ``python`` prints, without the runner's own frames."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename in _PLUMBING:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb, file=sys.stderr)


def _wait_for_threads(emit: Any) -> None:
    """As the interpreter does at exit: wait for every non-daemon thread (shown as the
    main thread joining it)."""
    site = instrument.exit_site()
    main = threading.main_thread()
    while True:
        left = [
            t
            for t in threading.enumerate()
            if t is not main and not t.daemon and t.is_alive() and not _is_dummy(t)
        ]
        if not left:
            return
        for thread in left:
            actor = getattr(thread, "_tui_actor", None)
            if actor is not None:
                emit((ev.WAIT, 0, actor, monotonic_ns(), site, "join", None))
            instrument._join(thread)
            if actor is not None:
                emit((ev.WAKE, 0, actor, monotonic_ns(), True))


def _is_dummy(thread: threading.Thread) -> bool:
    return type(thread).__name__ == "_DummyThread"


class _suppressed:
    """An ``atexit`` function that raises is printed, as Python does, and the exit goes on."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        if exc is not None:
            traceback.print_exception(kind, exc, tb, file=sys.stderr)
        return True


if __name__ == "__main__":
    main()
