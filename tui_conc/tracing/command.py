"""``tui-conc trace``: run a program, unmodified, in a traced runner; report or show it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tui_conc.state import model as sm
from tui_conc.state.report import build_report, render_text

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130
#: How long a program that has ended may take to exit (its status is in the report).
EXIT_GRACE_S = 5.0
#: Lines of the program's output a report carries (the fold keeps at most 20,000).
OUTPUT_LINES = 20_000


def program_args(script: str | None, module: str | None, args: list[str]) -> list[str] | None:
    """The traced runner's arguments, or None (and a line on stderr) when there is no
    program to run."""
    if module is not None:
        return ["-m", module, *args]
    if script is None:
        print("tui-conc trace: give a script (tui-conc trace SCRIPT [ARGS…]) or -m MODULE",
              file=sys.stderr)  # fmt: skip
        return None
    path = Path(script)
    if not path.is_file():
        print(f"tui-conc trace: {script}: no such file", file=sys.stderr)
        return None
    return [str(path), *args]


def program_label(program: list[str]) -> str:
    """The script's path, or the module's name."""
    return program[1] if program[0] == "-m" else program[0]


def traced_run(
    program: list[str],
    record: Path | None = None,
    memory_mb: float = 1024,
    record_mb: float | None = None,
) -> Any:
    """A live run of a traced program (the session's LiveRun, not yet started)."""
    from tui_conc.session import LiveRun

    return LiveRun(
        program_label(program),
        record=record,
        memory_mb=memory_mb,
        record_mb=record_mb,
        program=program,
    )


def recorded_traced_run(program: list[str]) -> Any:
    """The app's run of a program: recorded in the cache folder (to look back, save)."""
    from tui_conc import recordings

    try:
        path: Path | None = recordings.new_recording(Path(program_label(program)).stem)
    except OSError:
        path = None
    run = traced_run(program, path, record_mb=recordings.RUN_MB)
    if path is None:
        run.warnings.append(f"not recorded: cannot write in {recordings.cache_dir()}")
    return run.start()


def cmd_trace(
    program: list[str],
    as_json: bool,
    timeout: float,
    record: Path | None,
    memory_mb: float,
) -> int:
    """Run the program headless and print the report (as ``tui-conc run`` does)."""
    from tui_conc.run_command import cannot_write, follow

    if record is not None and cannot_write(record, "--record"):
        return EXIT_INVALID
    run = traced_run(program, record, memory_mb).start()

    def exit_follows() -> None:
        if run.status == sm.FINISHED:  # its END is out; its exit (atexit, flush) follows
            run.wait_exit(EXIT_GRACE_S)

    interrupted = follow(run, timeout, quiet=as_json, at_end=exit_follows)
    snapshot = run.snapshot(log_tail=OUTPUT_LINES)
    if interrupted:
        print("tui-conc: interrupted; nothing is left running", file=sys.stderr)
        return EXIT_INTERRUPTED
    report = trace_report(program, snapshot, run)
    print(json.dumps(report, default=str) if as_json else render_trace(report))
    finished = snapshot.status == sm.FINISHED
    return EXIT_OK if finished and report["exit_status"] == 0 else EXIT_FAILED


def trace_report(program: list[str], snapshot: sm.Snapshot, run: Any) -> dict[str, Any]:
    """``tui-conc run``'s report, with the program's output and exit status."""
    label = " ".join(program)
    report = build_report(label, snapshot, [], list(run.warnings), run.suspicions)
    del report["knobs"]  # a program has none
    finished = snapshot.status == sm.FINISHED
    report["exit_status"] = run.exit_status if finished else None
    report["output"] = [{"thread": line.actor, "text": line.text} for line in snapshot.log]
    return report


def render_trace(report: dict[str, Any]) -> str:
    """The program's output (each line with its thread), then the report."""
    width = max((len(line["thread"]) for line in report["output"]), default=0)
    lines = [f"{line['thread']:>{width}} │ {line['text']}" for line in report["output"]]
    body = render_text(report).rstrip()
    status = report["exit_status"]
    tail = (
        f"exit status: {status}"
        if status is not None
        else "exit status: (killed: " + (f"{report['outcome']})")
    )
    return "\n".join([*lines, "", body, tail])
