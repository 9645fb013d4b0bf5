"""The ``tui-conc`` command: the app by default, and headless ``list`` / ``check`` / ``run``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import NoReturn

from tui_conc.scenario.model import BACKENDS

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and where to read more), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INVALID, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tui-conc",
        description="A terminal playground for Python concurrency. "
        "With no command, opens the app on the scenarios.",
    )
    parser.add_argument(
        "--scenarios",
        type=Path,
        metavar="DIR",
        help="a folder of scenario files (default: shipped)",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    lst = sub.add_parser("list", help="list the scenarios with chapter, title, backend, validity")
    lst.add_argument("--scenarios", type=Path, metavar="DIR", dest="scenarios_sub")
    chk = sub.add_parser("check", help="validate scenario files (exit 2 if any is invalid)")
    chk.add_argument("files", nargs="+", type=Path)
    run = sub.add_parser("run", help="run a scenario headless and report")
    run.add_argument("file", type=Path)
    run.add_argument("--set", action="append", default=[], metavar="K=V", help="override a knob")
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
        help="stop the run if it uses more memory than this (default: 1024)",
    )
    run.add_argument("--json", action="store_true", help="print the report as one JSON object")
    run.add_argument("--record", type=Path, metavar="TRACE", help="save the event stream")
    run.add_argument(
        "--backend",
        choices=BACKENDS,
        help="run on this backend",
    )
    return parser


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse refuses anything else, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _megabytes(text: str) -> float:
    value = _seconds(text)  # the same rule: a positive, finite number
    return value


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "list":
        sys.exit(cmd_list(args.scenarios_sub or args.scenarios))
    if args.command == "check":
        sys.exit(cmd_check(args.files))
    if args.command == "run":
        sys.exit(
            cmd_run(
                args.file, args.set, args.timeout, args.json, args.record, args.backend, args.memory
            )
        )
    from tui_conc.ui.app import make_app

    make_app(args.scenarios).run()


def _folder(folder: Path | None) -> Path:
    from tui_conc.scenario import shipped_scenarios_dir

    return folder if folder is not None else shipped_scenarios_dir()


def cmd_list(folder: Path | None) -> int:
    from tui_conc.scenario import load_catalog

    root = _folder(folder)
    if not root.is_dir():
        print(f"tui-conc: no such folder: {root}", file=sys.stderr)
        return EXIT_INVALID
    entries = load_catalog(root)
    rows = [
        (
            e.chapter,
            e.title,
            "/".join(e.scenario.supported) if e.scenario else "-",
            "ok" if e.valid else f"INVALID  {e.error}",
        )
        for e in entries
    ]
    widths = [max((len(row[k]) for row in rows), default=0) for k in range(3)]
    for chapter, title, backend, status in rows:
        print(f"{chapter:<{widths[0]}}  {title:<{widths[1]}}  {backend:<{widths[2]}}  {status}")
    return EXIT_OK if all(e.valid for e in entries) else EXIT_INVALID


def cmd_check(files: list[Path]) -> int:
    from tui_conc.scenario import ScenarioError, load_scenario

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


def cmd_run(
    file: Path,
    sets: list[str],
    timeout: float,
    as_json: bool,
    record: Path | None,
    backend: str | None = None,
    memory_mb: float = 1024,
) -> int:
    from tui_conc.scenario import ScenarioError, load_scenario, parse_assignments, resolve_knobs
    from tui_conc.session import LiveRun
    from tui_conc.state import model as sm
    from tui_conc.state.expectations import check
    from tui_conc.state.report import build_report, render_text

    try:
        scenario = load_scenario(file)
        raw = parse_assignments(sets)
        knobs = resolve_knobs(scenario, raw)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    overrides = {name: knobs[name] for name in raw}
    if record is not None:
        try:
            record.open("wb").close()
        except OSError as exc:
            print(f"--record: cannot write {record}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_INVALID
    backend = backend or scenario.backend
    if backend not in scenario.supported:
        supported = ", ".join(scenario.supported)
        print(f"--backend: {file} runs on {supported}, not {backend}", file=sys.stderr)
        return EXIT_INVALID
    run = LiveRun(file, overrides, record=record, backend=backend, memory_mb=memory_mb).start()
    try:
        if not run.wait(timeout):
            run.stop(sm.TIMEOUT)
    except KeyboardInterrupt:
        run.stop()
    finally:
        run.stop()  # a deadlocked or stalled runner is still alive: end it
    snapshot = run.snapshot(log_tail=0)
    results = check(scenario, snapshot, run.log_texts())
    report = build_report(str(file), snapshot, results, run.warnings, run.suspicions)
    print(json.dumps(report, default=str) if as_json else render_text(report))
    # an actor that failed is a failed run, unless the lesson expects failures
    expects_failures = any("failed" in str(e.that) for e in scenario.expect)
    failed = not report["passed"] or snapshot.status == sm.ERROR
    return EXIT_FAILED if failed or (report["failures"] and not expects_failures) else EXIT_OK


if __name__ == "__main__":
    main()
