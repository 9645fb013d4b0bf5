"""The ``tui-conc`` command: the app by default, and headless ``list`` / ``check`` / ``run``."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from tui_conc import __version__
from tui_conc.run_command import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, cmd_run
from tui_conc.scenario.model import BACKENDS

#: The live progress line on a terminal is redrawn this often (seconds).


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and where to read more), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INVALID, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _seconds(text: str) -> float:
    """A positive, finite number (argparse refuses anything else, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _megabytes(text: str) -> float:
    try:
        return _seconds(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be a positive number of MB, not {text}") from None


def _dask_options(parser: argparse.ArgumentParser) -> None:
    """--scheduler, --workers and --listen: where the dask backend runs."""
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=argparse.SUPPRESS,
        help="dask backend: use the cluster at this scheduler (tcp://HOST:PORT; its workers "
        "must reach this machine and have tui-conc installed) instead of a LocalCluster",
    )
    parser.add_argument(
        "--workers",
        type=_count,
        metavar="N",
        default=argparse.SUPPRESS,
        help="dask backend: worker processes of the LocalCluster a run starts (default: 2)",
    )
    parser.add_argument(
        "--listen",
        metavar="HOST",
        default=argparse.SUPPRESS,
        help="dask backend: the address the workers send their events to (this machine's; "
        "default: the one it uses to reach the scheduler)",
    )


def _use_dask_options(args: argparse.Namespace) -> None:
    """Hand --scheduler, --workers and --listen to the runners (they read the environment)."""
    from tui_conc.engine.backends.dask import LISTEN_ENV, SCHEDULER_ENV, WORKERS_ENV

    if getattr(args, "listen", None):
        os.environ[LISTEN_ENV] = args.listen
    if getattr(args, "scheduler", None):
        os.environ[SCHEDULER_ENV] = args.scheduler
    if getattr(args, "workers", None):
        os.environ[WORKERS_ENV] = str(args.workers)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tui-conc",
        description="A terminal playground for Python concurrency. "
        "With no command, opens the app on the scenarios.",
    )
    parser.add_argument("--version", action="version", version=f"tui-conc {__version__}")
    folder_help = "a folder of scenario files (default: the shipped ones)"
    parser.add_argument("--scenarios", type=Path, metavar="DIR", help=folder_help)
    _dask_options(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    lst = sub.add_parser("list", help="the scenarios: name, chapter, title, backends, validity")
    lst.add_argument(
        "--scenarios", type=Path, metavar="DIR", dest="scenarios_sub", help=folder_help
    )
    chk = sub.add_parser("check", help="validate scenario files (exit 2 if any is invalid)")
    chk.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="scenario files or names (tui-conc list shows them); none: every scenario",
    )
    chk.add_argument(
        "--scenarios", type=Path, metavar="DIR", dest="scenarios_sub", help=folder_help
    )
    run = sub.add_parser(
        "run",
        help="run a scenario headless and report",
        description="Run a scenario headless on real threads, processes or greenlets and "
        "print its report. Exit 0: every expectation held (or could not be shown: "
        "inconclusive); 1: one failed, an actor failed, or the run erred; 2: invalid "
        "input; 130: interrupted.",
    )
    run.add_argument("file", metavar="FILE", help="a scenario file, or a shipped scenario's name")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="K=V",
        help="set knob K to V for this run (repeatable; the knobs are in the scenario file)",
    )
    run.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        metavar="S",
        help="give up after S seconds (default: 60)",
    )
    run.add_argument(
        "--memory",
        type=_megabytes,
        default=1024,
        metavar="MB",
        help="stop the run if its processes use more memory than this (default: 1024)",
    )
    run.add_argument("--json", action="store_true", help="print the report as one JSON object")
    run.add_argument("--record", type=Path, metavar="TRACE", help="save the run's event stream")
    run.add_argument(
        "--backend",
        choices=BACKENDS,
        help="run on this backend (default: the scenario's own)",
    )
    run.add_argument(
        "--schedule",
        type=Path,
        metavar="SCHEDULE",
        help="replay a schedule saved by tui-conc explore --save, step for step (on the "
        "backend it was found on, with its knobs)",
    )
    run.add_argument(
        "--scenarios", type=Path, metavar="DIR", dest="scenarios_sub", help=folder_help
    )
    _dask_options(run)
    _explore_parser(sub, folder_help)
    _trace_parser(sub)
    _serve_parser(sub, folder_help)
    rep = sub.add_parser(
        "replay",
        help="open the app on a recorded run (a trace) or a saved schedule",
        description="Open the app on a recorded run: the trace of `tui-conc run --record` "
        "or of the app's s key. space plays or pauses, < and > change the speed, "
        "[ ] step through its events, 3 shows its timeline. Given a schedule saved by "
        "`tui-conc explore --save`, open its scenario in step mode instead: a real run, "
        "one choice at a time; enter follows the schedule, a digit leaves it, u undoes.",
    )
    rep.add_argument("trace", type=Path, metavar="TRACE", help="a trace file, or a schedule file")
    exp = sub.add_parser(
        "export",
        help="write a recorded run for Perfetto / chrome://tracing",
        description="Convert a trace to the Chrome trace-event JSON format, which "
        "ui.perfetto.dev and chrome://tracing open: a track per actor with its states, "
        "a track per lock with who held it, arrows from each release to the acquire it "
        "let happen, counters for queue depths and semaphore values, the verdict.",
    )
    exp.add_argument("trace", type=Path, metavar="TRACE", help="a trace file")
    exp.add_argument("out", type=Path, metavar="OUT", help="the file to write")
    exp.add_argument(
        "--format", choices=("chrome-json",), default="chrome-json", help="(default: chrome-json)"
    )
    return parser


def _explore_parser(sub: Any, folder_help: str) -> None:
    exp = sub.add_parser(
        "explore",
        help="search the schedules of a scenario for a failing one",
        description="Run the scenario many times on real threads under a controlled "
        "scheduler (one step at a time; on gevent, one switch at a time; virtual time: "
        "sleeps and timeouts do not wait), "
        "looking for a schedule that reaches its challenge's goal, or else a deadlock, a "
        "stall, a failed actor or a failed expectation. Prints the smallest schedule found "
        "as a story. Exit 0: none found; 1: found; 2: invalid input.",
    )
    exp.add_argument("file", metavar="FILE", help="a scenario file, or a shipped scenario's name")
    exp.add_argument(
        "--strategy",
        choices=("dfs", "pct", "random"),
        default="dfs",
        help="dfs: every schedule by number of preemptions (0, 1, … --bound): the smallest "
        "counterexample; pct: probabilistic concurrency testing; random: a random walk",
    )
    exp.add_argument("--runs", type=_count, default=10_000, metavar="N", help="at most N runs")
    exp.add_argument(
        "--bound", type=_count0, default=2, metavar="B", help="dfs: at most B preemptions (2)"
    )
    exp.add_argument(
        "--depth", type=_count, default=2, metavar="D", help="pct: the bug depth d (default: 2)"
    )
    exp.add_argument(
        "--max-steps",
        type=_count,
        default=10_000,
        metavar="N",
        help="cut a run after N steps (default: 10000)",
    )
    exp.add_argument(
        "--backend",
        choices=("thread", "gevent"),
        help="threads (a choice at every step) or gevent (a choice where a greenlet yields); "
        "default: the scenario's own",
    )
    exp.add_argument("--seed", type=int, default=0, metavar="S", help="pct / random: the seed")
    exp.add_argument(
        "--goal", metavar="EXPR", help="look for this instead of the challenge (e.g. deadlock)"
    )
    exp.add_argument("--set", action="append", default=[], metavar="K=V", help="set a knob")
    exp.add_argument("--save", type=Path, metavar="FILE", help="save the schedule found")
    exp.add_argument("--json", action="store_true", help="print the result as one JSON object")
    exp.add_argument(
        "--time-limit",
        type=_seconds,
        default=120.0,
        metavar="S",
        help="stop searching after S seconds (default: 120)",
    )
    exp.add_argument(
        "--scenarios", type=Path, metavar="DIR", dest="scenarios_sub", help=folder_help
    )
    # for the app's search: progress lines on stderr, the knobs as the app resolved them
    exp.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)
    exp.add_argument("--knobs-json", help=argparse.SUPPRESS)


def _serve_parser(sub: Any, folder_help: str) -> None:
    from tui_conc.serve import DEFAULT_MAX_SESSIONS

    srv = sub.add_parser(
        "serve",
        help="serve the app to web browsers (each tab gets its own app)",
        description="Serve the full app to web browsers: each tab that connects gets its "
        "own app and its own runs, ended when the tab closes. A served app runs scenario "
        "code on this machine, so the server listens on 127.0.0.1 unless --host says "
        "otherwise.",
    )
    srv.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    srv.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="port to listen on; 0 picks a free one (default: 8000)",
    )
    srv.add_argument(
        "--max-sessions",
        type=_count,
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help="at most N apps at once; more tabs get a page saying so (default: %(default)s)",
    )
    srv.add_argument(
        "--scenarios", type=Path, metavar="DIR", dest="scenarios_sub", help=folder_help
    )


def _bounded(text: str, low: int, high: int, span: str, what: str = "a whole number") -> int:
    """``text`` as an int within ``low``..``high`` (``span`` says that range to a person)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected {span}, got {value}")
    return value


def _port(text: str) -> int:
    """A TCP port, 0 to 65535."""
    return _bounded(text, 0, 65535, "0 to 65535", "a port number")


def _trace_parser(sub: Any) -> None:
    tr = sub.add_parser(
        "trace",
        help="run any Python program, unmodified, and watch its threads, locks and queues",
        description="Run SCRIPT (or -m MODULE) with its arguments, unmodified, with "
        "threading and queue instrumented: the app shows every thread, lock, semaphore, "
        "event, condition and queue as the program makes them (named by the variable they "
        "are assigned to), its output line by line with the thread that wrote it, and "
        "names a deadlock with its cycle. With --json or --headless, print the report "
        "instead. Exit 0: the program finished with status 0; 1: it deadlocked, stalled, "
        "timed out or exited non-zero (its status is in the report); 2: no such program.",
    )
    tr.add_argument("--json", action="store_true", help="headless: print the report as JSON")
    tr.add_argument("--headless", action="store_true", help="headless: print the report")
    tr.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        metavar="S",
        help="headless: stop the program after S seconds (default: 60)",
    )
    tr.add_argument("--record", type=Path, metavar="TRACE", help="save the run's event stream")
    tr.add_argument(
        "--memory",
        type=_megabytes,
        default=1024,
        metavar="MB",
        help="stop the program if it uses more memory than this (default: 1024)",
    )
    tr.add_argument("-m", dest="module", metavar="MODULE", help="run a module, as python -m")
    tr.add_argument("program", nargs=argparse.REMAINDER, metavar="SCRIPT [ARGS…]")


def _count(text: str) -> int:
    """A whole number of at least 1."""
    return _bounded(text, 1, 10**9, "1 to 1,000,000,000")


def _count0(text: str) -> int:
    """A whole number of at least 0 (at most 20)."""
    return _bounded(text, 0, 20, "0 to 20")


def main(argv: list[str] | None = None) -> None:
    try:
        sys.exit(_main(argv))
    except KeyboardInterrupt:
        print("tui-conc: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # the reader went away (tui-conc check | head): stop quietly, as a filter does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_OK)


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    _use_dask_options(args)
    folder = getattr(args, "scenarios_sub", None) or args.scenarios
    if args.command == "list":
        return cmd_list(folder)
    if args.command == "check":
        return cmd_check(args.files, folder)
    if args.command == "replay":
        return cmd_replay(args.trace, args.scenarios)
    if args.command == "export":
        return cmd_export(args.trace, args.out)
    if args.command == "explore":
        from tui_conc.exploration.command import cmd_explore

        return cmd_explore(
            resolve(args.file, folder),
            args.set,
            args.strategy,
            args.runs,
            args.bound,
            args.depth,
            args.max_steps,
            args.seed,
            args.goal,
            args.save,
            args.json,
            args.time_limit,
            args.progress,
            args.knobs_json,
            args.backend,
            sys.argv[1:] if argv is None else argv,
        )
    if args.command == "trace":
        from tui_conc.tracing.command import cmd_trace, program_args

        script = None if args.module else (args.program[0] if args.program else None)
        rest = args.program if args.module else args.program[1:]
        program = program_args(script, args.module, rest)
        if program is None:
            return EXIT_INVALID
        if args.json or args.headless:
            return cmd_trace(program, args.json, args.timeout, args.record, args.memory)
        from tui_conc.ui.app import make_app

        make_app(args.scenarios, program=program).run()
        return EXIT_OK
    if args.command == "serve":
        from tui_conc.serve import cmd_serve

        return cmd_serve(args.host, args.port, args.max_sessions, folder)
    if args.command == "run":
        return cmd_run(
            args.file,
            args.set,
            args.timeout,
            args.json,
            args.record,
            args.backend,
            args.memory,
            folder,
            args.schedule,
        )
    from tui_conc.ui.app import make_app

    make_app(args.scenarios).run()
    return EXIT_OK


def cmd_replay(trace: Path, folder: Path | None) -> int:
    """Open the app on a recorded run, or in step mode on a saved schedule."""
    if _is_schedule(trace):
        return cmd_step_through(trace, folder)
    from tui_conc.engine.wire.codec import TraceError
    from tui_conc.scenario import Entry, ScenarioError, load_entry
    from tui_conc.session import ReplayRun

    try:
        run = ReplayRun(trace)
    except TraceError as exc:
        print(f"{exc}", file=sys.stderr)
        return EXIT_INVALID
    assert run.folder is not None
    header = run.folder.header
    source = Path(str(header.get("file", "")))
    if header.get("traced"):  # a program's run: its source is shown, not a lesson
        entry = Entry(source, None, None)
    elif source.is_file():
        entry = load_entry(source)
        from tui_conc.engine.runner import scenario_hash

        if header.get("scenario_sha256") not in (None, scenario_hash(str(source))):
            run.warnings.append(f"{source} changed since this run was recorded")
    else:
        title = header.get("title") or trace.name
        missing = ScenarioError(str(source or trace), 1, f"the scenario of {title!r} is not here")
        entry = Entry(source if str(source) else trace, None, missing)
    from tui_conc.ui.app import make_app

    make_app(folder, replay=(entry, run)).run()
    return EXIT_OK


def _is_schedule(path: Path) -> bool:
    """A JSON file (a schedule) rather than a trace (binary frames)."""
    try:
        with path.open("rb") as f:
            return f.read(64).lstrip().startswith(b"{")
    except OSError:
        return False


def cmd_step_through(path: Path, folder: Path | None) -> int:
    """Open the app in step mode on a saved schedule's scenario: enter follows it."""
    from tui_conc.exploration.schedule import ScheduleError
    from tui_conc.ui.stepping import open_saved_schedule

    try:
        saved = open_saved_schedule(path)
    except ScheduleError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    from tui_conc.ui.app import make_app

    make_app(folder, schedule=saved).run()
    return EXIT_OK


def cmd_export(trace: Path, out: Path) -> int:
    """Write a recorded run as Chrome trace-event JSON."""
    from tui_conc.engine.wire.codec import TraceError
    from tui_conc.export.chrome import export_chrome

    try:
        summary = export_chrome(trace, out)
    except TraceError as exc:
        print(f"{exc}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"{out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    print(summary)
    return EXIT_OK


def _folder(folder: Path | None) -> Path:
    from tui_conc.scenario import shipped_scenarios_dir

    return folder if folder is not None else shipped_scenarios_dir()


def resolve(name: str, folder: Path | None) -> Path:
    """A scenario's path: the file itself, or a name in the folder (``deadlock_mutex``)."""
    from tui_conc.scenario.catalog import resolve_scenario

    return resolve_scenario(name, folder)


def _short(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root).with_suffix(""))
    except ValueError:
        return str(path)


def cmd_list(folder: Path | None) -> int:
    from tui_conc.scenario import load_catalog

    root = _folder(folder)
    if not root.is_dir():
        print(f"tui-conc: no such folder: {root}", file=sys.stderr)
        return EXIT_INVALID
    entries = load_catalog(root)
    if not entries:
        print(f"tui-conc: no scenario files (*.yaml) in {root}", file=sys.stderr)
        return EXIT_INVALID
    rows = [
        (
            _short(e.path, root),
            e.chapter,
            e.title,
            "/".join(e.scenario.supported) if e.scenario else "-",
            "ok" if e.valid else f"INVALID  {e.error}",
        )
        for e in entries
    ]
    widths = [max(len(row[k]) for row in rows) for k in range(4)]
    for row in rows:
        print(
            "  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=False)) + f"  {row[4]}"
        )
    return EXIT_OK if all(e.valid for e in entries) else EXIT_INVALID


def cmd_check(names: list[str], folder: Path | None) -> int:
    from tui_conc.scenario import ScenarioError, load_scenario

    if names:
        files = [resolve(name, folder) for name in names]
    else:
        root = _folder(folder)
        files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            print(f"tui-conc: no scenario files (*.yaml) in {root}", file=sys.stderr)
            return EXIT_INVALID
    bad = 0
    for file in files:
        try:
            load_scenario(file)
        except ScenarioError as exc:
            bad += 1
            print(exc, file=sys.stderr)
        else:
            print(f"{file}: ok")
    return EXIT_INVALID if bad else EXIT_OK


if __name__ == "__main__":
    main()
