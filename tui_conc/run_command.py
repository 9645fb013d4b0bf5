"""``tui-conc run``: a scenario headless, its report printed, its exit status."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from tui_conc.scenario.catalog import resolve_scenario

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130
#: How often the progress line is redrawn.
PROGRESS_EVERY_S = 0.25


def cmd_run(
    name: str,
    sets: list[str],
    timeout: float,
    as_json: bool,
    record: Path | None,
    backend: str | None = None,
    memory_mb: float = 1024,
    folder: Path | None = None,
    schedule_file: Path | None = None,
) -> int:
    from tui_conc.scenario import ScenarioError, load_scenario, parse_assignments, resolve_knobs
    from tui_conc.scenario.sizes import SizeError, check_processes
    from tui_conc.session import LiveRun
    from tui_conc.state import model as sm
    from tui_conc.state.expectations import check
    from tui_conc.state.report import build_report, render_text

    file = resolve_scenario(name, folder)
    try:
        scenario = load_scenario(file)
        raw = parse_assignments(sets)
        knobs = resolve_knobs(scenario, raw)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    overrides = {k: knobs[k] for k in raw}
    choices: list[str] | None = None
    if schedule_file is not None:
        from tui_conc.exploration.command import schedule_for_run
        from tui_conc.exploration.runs import NotExplorable, check_explorable

        if sets:
            print("--schedule: a schedule carries its own knobs: drop --set", file=sys.stderr)
            return EXIT_INVALID
        schedule, problem = schedule_for_run(file, schedule_file)
        if not problem and backend not in (None, schedule.backend):
            problem = (
                f"--schedule: {schedule_file} was found on {schedule.backend}, not {backend} "
                "(greenlets and threads are switched at other moments)"
            )
        backend = schedule.backend
        try:
            check_explorable(scenario, backend)
            knobs = resolve_knobs(scenario, schedule.knobs)
        except NotExplorable as exc:
            problem = problem or f"--schedule: {exc}"
        except ScenarioError as exc:
            problem = problem or f"{schedule_file}: {exc.message}"
        if problem:
            print(problem, file=sys.stderr)
            return EXIT_INVALID
        overrides, choices = dict(knobs), schedule.choices
    if record is not None and cannot_write(record, "--record"):
        return EXIT_INVALID
    backend = backend or scenario.backend
    if backend not in scenario.supported:
        supported = ", ".join(scenario.supported)
        print(f"--backend: {file} runs on {supported}, not {backend}", file=sys.stderr)
        return EXIT_INVALID
    try:
        check_processes(scenario, knobs, backend)
    except SizeError as exc:
        print(f"--backend: {file}: {exc.message}", file=sys.stderr)
        return EXIT_INVALID
    run = LiveRun(
        file, overrides, record=record, backend=backend, memory_mb=memory_mb, schedule=choices
    ).start()
    interrupted = follow(run, timeout, quiet=as_json)
    snapshot = run.snapshot(log_tail=0)
    if interrupted and not as_json:
        states = ", ".join(f"{n} {s}" for s, n in snapshot.actor_states)
        print(
            f"tui-conc: interrupted after {snapshot.elapsed_s:.2f}s "
            f"({snapshot.events_folded:,} events; actors: {states}); nothing is left running",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    results = check(scenario, snapshot, run.log_texts())
    warnings = list(run.warnings)
    if choices is not None:
        from tui_conc.exploration.runs import in_virtual_time

        results = in_virtual_time(scenario, results)
        taken = len(snapshot.schedule.choices) if snapshot.schedule else 0
        unit = "switch" if backend == "gevent" else "step"  # a greenlet runs on to its switch
        warnings.insert(
            0,
            f"replayed schedule {schedule_file}: {taken} of {len(choices)} {unit}"
            f"{'es' if unit == 'switch' else 's'}, one {unit} at a time, virtual time (sleeps "
            "and timeouts do not wait)",
        )
    report = build_report(str(file), snapshot, results, warnings, run.suspicions)
    if choices is not None and scenario.challenge is not None:
        from tui_conc.state.expectations import goal_reached

        report["challenge"] = {
            "goal": str(scenario.challenge.goal),
            "text": scenario.challenge.text,
            "reached": goal_reached(scenario, snapshot, run.log_texts()),
        }
    print(json.dumps(report, default=str) if as_json else render_text(report))
    if interrupted:
        return EXIT_INTERRUPTED
    # an actor that failed is a failed run, unless the lesson expects failures
    expects_failures = any("failed" in str(e.that) for e in scenario.expect)
    failed = not report["passed"] or snapshot.status == sm.ERROR
    return EXIT_FAILED if failed or (report["failures"] and not expects_failures) else EXIT_OK


def cannot_write(path: Path, option: str, mode: str = "wb") -> bool:
    """True, having said why in one line, when ``path`` cannot be written (it is
    created now, so that a long run does not end in that error)."""
    try:
        path.open(mode).close()
    except OSError as exc:
        print(f"{option}: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return True
    return False


def follow(run: Any, timeout: float, quiet: bool, at_end: Any = None) -> bool:
    """Wait for ``run`` to end — stopped as a timeout past ``timeout`` s, ``at_end()``
    called if it ended by itself — with a progress line on a terminal unless ``quiet``.
    The run is stopped either way (a deadlocked or stalled runner is still alive).
    True when Ctrl-C cut the wait short."""
    from tui_conc.state import model as sm

    progress = Progress(sys.stderr) if sys.stderr.isatty() and not quiet else None
    try:
        if not wait_for_end(run, timeout, progress):
            run.stop(sm.TIMEOUT)
        elif at_end is not None:
            at_end()
    except KeyboardInterrupt:
        return True
    finally:
        if progress is not None:
            progress.clear()
        run.stop()
    return False


def wait_for_end(run: Any, timeout: float, progress: Progress | None) -> bool:
    """Wait for the run's end (False past ``timeout``), drawing the progress line."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if run.wait(min(left, PROGRESS_EVERY_S)):
            return True
        if progress is not None:
            progress.show(run.snapshot(log_tail=0, wait=False, actor_limit=0))


class Progress:
    """One line on a terminal, drawn over itself: elapsed, events, actors by state."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.width = 0

    def show(self, snapshot: Any) -> None:
        states = " · ".join(f"{n} {s}" for s, n in snapshot.actor_states)
        line = (
            f"  {snapshot.status.upper()}  {snapshot.elapsed_s:6.2f}s  "
            f"{snapshot.events_folded:,} events  {states}"
        )
        columns = os.get_terminal_size(self.out.fileno()).columns if self.out.isatty() else 80
        line = line[: max(columns - 1, 10)]
        self.out.write("\r" + line.ljust(self.width))
        self.out.flush()
        self.width = len(line)

    def clear(self) -> None:
        if self.width:
            self.out.write("\r" + " " * self.width + "\r")
            self.out.flush()
