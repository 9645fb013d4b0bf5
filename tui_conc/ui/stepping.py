"""Step mode and exploration in the app: the runs they start and the search's screen."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar

from tui_conc.scenario import Entry, ScenarioError, load_entry, resolve_knobs

if TYPE_CHECKING:
    from tui_conc.session import RunSource

#: The app's search: at most this many runs, this many seconds.
EXPLORE_RUNS = 10_000
EXPLORE_SECONDS = 60.0


def step_knobs(entry: Entry, raw: dict[str, str]) -> dict[str, Any]:
    """The knobs of a run in step mode: the challenge's, then the learner's own."""
    assert entry.scenario is not None
    base = dict(entry.scenario.challenge.set) if entry.scenario.challenge else {}
    return resolve_knobs(entry.scenario, {**base, **raw})


def why_not_steppable(entry: Entry, backend: str) -> str:
    """Why step mode and exploration cannot drive this scenario ("" when they can)."""
    from tui_conc.exploration.runs import NotExplorable, check_explorable

    assert entry.scenario is not None
    try:
        check_explorable(entry.scenario, backend)
    except NotExplorable as exc:
        return str(exc)
    return ""


def stepped_source(
    entry: Entry, knobs: dict[str, Any], prefix: list[str], backend: str = "thread"
) -> RunSource:
    """A run in step mode on threads or gevent: ``prefix`` (actor names) replayed, then
    the learner."""
    from tui_conc import recordings
    from tui_conc.session import LiveRun

    try:
        path: Path | None = recordings.new_recording(entry.path.stem)
    except OSError:
        path = None
    run = LiveRun(
        entry.path,
        knobs,
        backend=backend,
        record=path,
        record_mb=recordings.RUN_MB,
        schedule=prefix,
        step=True,
    )
    return run.start()


@dataclass
class SavedSchedule:
    """A schedule file opened in the app: its scenario, knobs, backend and choices."""

    entry: Entry
    knobs: dict[str, Any]
    backend: str
    choices: list[str]
    name: str  #: the file's name, as the Schedule panel says it
    warnings: list[str] = field(default_factory=list)


def open_saved_schedule(path: Path) -> SavedSchedule:
    """Read a schedule file and the scenario it was found on; :class:`ScheduleError`
    (one line) when either cannot be used."""
    from tui_conc.engine.runner import scenario_hash
    from tui_conc.exploration.schedule import ScheduleError, load_schedule

    schedule = load_schedule(path)
    source = Path(schedule.scenario)
    if not source.is_absolute() and not source.is_file():
        source = path.parent / source  # saved beside it
    if not schedule.scenario or not source.is_file():
        raise ScheduleError(f"{path}: its scenario {schedule.scenario!r} is not here")
    entry = load_entry(source)
    if entry.scenario is None:
        raise ScheduleError(str(entry.error))
    why = why_not_steppable(entry, schedule.backend)
    if why:
        raise ScheduleError(f"{path}: {why}")
    try:
        knobs = resolve_knobs(entry.scenario, schedule.knobs)
    except ScenarioError as exc:
        raise ScheduleError(f"{path}: {exc.message}") from None
    warnings = []
    if schedule.scenario_sha256 and schedule.scenario_sha256 != scenario_hash(str(source)):
        warnings.append(f"{source.name} changed since this schedule was saved: it may not replay")
    return SavedSchedule(entry, knobs, schedule.backend, schedule.choices, path.name, warnings)


def goal_text(entry: Entry) -> str:
    """``deadlock — Deadlock two threads …``: the challenge as the Schedule panel says it."""
    challenge = entry.scenario.challenge if entry.scenario is not None else None
    if challenge is None:
        return ""
    return f"{challenge.text}  [{challenge.goal}]" if challenge.text else str(challenge.goal)


class ExploreScreen(ModalScreen[dict[str, Any] | None]):
    """The search for a failing schedule, with its progress; escape cancels it.

    Dismissed with ``tui-conc explore --json``'s result (None: cancelled or failed).
    """

    DEFAULT_CSS = """
    ExploreScreen { align: center middle; }
    ExploreScreen > Vertical {
        width: 72; max-width: 98%; height: auto;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    ExploreScreen ProgressBar { width: 100%; }
    ExploreScreen #explore-runs { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, entry: Entry, knobs: dict[str, Any], backend: str = "thread") -> None:
        super().__init__()
        self.entry = entry
        self.knobs = knobs
        self.backend = backend
        self._cancel = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None

    def compose(self) -> ComposeResult:
        title = self.entry.scenario.title if self.entry.scenario else self.entry.path.name
        with Vertical():
            yield Label(f"[b]Exploring[/b] {title}")
            how = (
                "on gevent, one switch at a time"
                if self.backend == "gevent"
                else "on real threads, one step at a time"
            )
            yield Label(
                f"DFS over schedules by number of preemptions (0, 1, 2) {how}; "
                "virtual time: sleeps and timeouts do not wait."
            )
            yield ProgressBar(total=EXPLORE_RUNS, show_eta=False, id="explore-bar")
            yield Label("starting …", id="explore-runs")
            yield Label("escape: stop the search", classes="dim")

    def on_mount(self) -> None:
        self.run_worker(self._search, thread=True, exit_on_error=False)

    def _search(self) -> None:
        """Run ``tui-conc explore --json`` in its own process (killed on escape or quit:
        a scenario's step that spins never holds the app), reading its progress."""
        cmd = [
            sys.executable,
            "-m",
            "tui_conc",
            "explore",
            str(self.entry.path),
            "--json",
            "--progress",
            "--knobs-json",
            json.dumps(self.knobs),
            "--backend",
            self.backend,
            "--runs",
            str(EXPLORE_RUNS),
            "--time-limit",
            str(EXPLORE_SECONDS),
        ]
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._proc = proc
        assert proc.stderr is not None and proc.stdout is not None
        problem = ""
        for raw in proc.stderr:
            line = raw.decode(errors="replace").strip()
            word, _, rest = line.partition(" ")
            if word == "progress" and rest.replace(" ", "").replace(".", "").isdigit():
                runs, seconds = rest.split()
                self.app.call_from_thread(self._show, int(runs), float(seconds))
            elif line:
                problem = line
        out = proc.stdout.read().decode(errors="replace")
        proc.wait()
        if self._cancel.is_set():
            self.app.call_from_thread(self.dismiss, None)
            return
        try:
            result = json.loads(out)
        except ValueError:
            result = None
        if not isinstance(result, dict):
            why = problem or f"the search ended with status {proc.returncode}"
            self.app.call_from_thread(self.app.notify, why, severity="error")
            self.app.call_from_thread(self.dismiss, None)
            return
        self.app.call_from_thread(self.dismiss, result)

    def _stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    def on_unmount(self) -> None:
        self._cancel.set()
        self._stop()

    def _show(self, runs: int, seconds: float) -> None:
        self.query_one(ProgressBar).update(progress=runs)
        rate = runs / seconds if seconds > 0 else 0.0
        self.query_one("#explore-runs", Label).update(
            f"{runs:,} schedules run, {rate:,.0f} a second"
        )

    def action_cancel(self) -> None:
        self._cancel.set()
        self._stop()
