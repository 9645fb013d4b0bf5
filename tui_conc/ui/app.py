"""The tui-conc app: pick a scenario, run it on real threads, watch the panels."""

from __future__ import annotations

import contextlib
import os
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Input, Static

from tui_conc.scenario import (
    Entry,
    ScenarioError,
    load_catalog,
    load_entry,
    resolve_knobs,
    shipped_scenarios_dir,
)
from tui_conc.scenario.sizes import SizeError, check_processes
from tui_conc.state import model as sm
from tui_conc.state.expectations import ExpectationResult
from tui_conc.ui.commands import ScenarioCommands, SettingsCommands
from tui_conc.ui.frames import FrameDrawing
from tui_conc.ui.pacing import RedrawPacer
from tui_conc.ui.playback import Playback
from tui_conc.ui.step_actions import StepModeActions
from tui_conc.ui.stepping import (
    SavedSchedule,
    goal_text,
    stepped_source,
)
from tui_conc.ui.widgets.actors_panel import ActorsPanel
from tui_conc.ui.widgets.app_footer import AppFooter
from tui_conc.ui.widgets.banner import Banner
from tui_conc.ui.widgets.lesson_view import LessonView, prewarm
from tui_conc.ui.widgets.live_table import LiveTable
from tui_conc.ui.widgets.locks_panel import LocksPanel
from tui_conc.ui.widgets.log_panel import LogPanel
from tui_conc.ui.widgets.pool_panel import PoolPanel
from tui_conc.ui.widgets.queues_panel import QueuesPanel
from tui_conc.ui.widgets.scenario_tree import ScenarioTree
from tui_conc.ui.widgets.schedule_panel import SchedulePanel
from tui_conc.ui.widgets.sockets_panel import SocketsPanel
from tui_conc.ui.widgets.status_bar import StatusBar
from tui_conc.ui.widgets.timeline_view import TimelineView
from tui_conc.ui.widgets.view_tabs import ViewTabs

if TYPE_CHECKING:
    from tui_conc.session import RunSource

W = TypeVar("W", bound=Widget)

#: From this width on, the scenario list stays beside the run view.
WIDE = 120
#: What laying out and painting a whole view takes under load (measured: 30-60 ms).
VIEW_SWITCH_S = 0.05
#: Where the screenshot command saves (default: the current folder).
SCREENSHOTS = "TUI_CONC_SCREENSHOTS"

#: Builds the run for a scenario and its knob overrides (live by default).
SourceFactory = Callable[[Entry, dict[str, Any], str], "RunSource"]
#: Builds a run in step mode: the scenario, its knobs, the schedule to replay first.
StepFactory = Callable[[Entry, dict[str, Any], list[str], str], "RunSource"]


def live_source(entry: Entry, overrides: dict[str, Any], backend: str) -> RunSource:
    """A real run in a runner process, on ``backend``, recorded in the cache folder
    (to look back in it, save it, replay it)."""
    from tui_conc import recordings
    from tui_conc.session import LiveRun  # imported on the first run, off the startup path

    try:
        path: Path | None = recordings.new_recording(entry.path.stem)
    except OSError:
        path = None  # no cache folder (a read-only home): the run is not recorded
    run = LiveRun(entry.path, overrides, backend=backend, record=path, record_mb=recordings.RUN_MB)
    if path is None:
        run.warnings.append(f"not recorded: cannot write in {recordings.cache_dir()}")
    return run.start()


class TuiConcApp(StepModeActions, FrameDrawing, App[None]):
    """Scenarios on the left; the lesson or the live panels on the right.

    | Key | Action |
    | :- | :- |
    | q | quit |
    | ? / F1 | help: keys, the state legend, the panels |
    | r | run (or restart) the selected scenario |
    | k | change the knobs for the next run |
    | b | switch the next run's backend (thread / process / gevent) where the scenario allows |
    | x | stop the run (kills its process at once) |
    | space | pause / resume |
    | 1 / 2 / 3 | Lesson / Run / Timeline view |
    | [ / ] | look back: the previous / next event (every panel shows the run then) |
    | { / } | the previous / next event of the selected actor |
    | end | back to now |
    | s | save the run: its recording and its report |
    | c | in the Timeline: the run before this one (of the same scenario) above it |
    | t | take the wheel: step mode, you choose who goes next (threads, gevent) |
    | 1-9 / enter | in step mode: that actor takes one step |
    | a / u | in step mode: let the scheduler go on / undo the last step |
    | e | explore: search the schedules for one that fails (or meets the challenge) |
    | R | read every scenario file again |
    | escape | back to the scenario list |
    """

    CSS_PATH = "app.tcss"
    AUTO_FOCUS = "#scenarios"
    TITLE = "tui-conc"
    COMMANDS = App.COMMANDS | {ScenarioCommands, SettingsCommands}
    #: Narrow (80 columns and up) is the default look; wide terminals get "-wide".
    HORIZONTAL_BREAKPOINTS = [(WIDE, "-wide")]
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("f1", "help", "Help", show=False),
        Binding("r", "run", "Run"),
        Binding("x", "stop", "Stop"),
        Binding("space", "pause", "Pause", priority=True),
        Binding("k", "knobs", "Knobs"),
        Binding("b", "backend", "Backend"),
        Binding("1", "tab('lesson')", "Lesson"),
        Binding("2", "tab('run')", "Run view"),
        Binding("3", "tab('timeline')", "Timeline"),
        Binding("left_square_bracket", "step(-1, 0)", "Back", show=False),
        Binding("right_square_bracket", "step(1, 0)", "Forward", show=False),
        Binding("left_curly_bracket", "step(-1, 1)", "Actor back", show=False),
        Binding("right_curly_bracket", "step(1, 1)", "Actor forward", show=False),
        Binding("end", "live", "Now", priority=True),
        Binding("s", "save", "Save"),
        Binding("t", "wheel", "Take the wheel"),
        Binding("a", "auto", "Auto"),
        Binding("u", "undo", "Undo"),
        Binding("e", "explore", "Explore"),
        Binding("c", "compare", "Compare"),
        Binding("less_than_sign", "speed(-1)", "Slower"),
        Binding("greater_than_sign", "speed(1)", "Faster"),
        Binding("escape", "focus_list", "Scenarios"),
        Binding("R", "reload", "Reload", show=False),
    ]

    def __init__(
        self,
        entries: list[Entry],
        source_factory: SourceFactory = live_source,
        refresh_interval: float = 1 / 30,
        folder: Path | None = None,
        replay: tuple[Entry, RunSource] | None = None,
        step_factory: StepFactory = stepped_source,
        schedule: SavedSchedule | None = None,
        program: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.step_factory = step_factory
        #: A program to trace (``tui-conc trace SCRIPT``): its runner's arguments.
        self.program = program
        self._program_entry: Entry | None = None
        #: A saved schedule to step through (``tui-conc replay FILE.schedule``).
        self.saved_schedule = schedule
        #: A recorded run to play back (``tui-conc replay``): its scenario and the run.
        self.replay = replay
        self.playback: Playback | None = None
        self.entries = entries
        self.folder = folder
        self.source_factory = source_factory
        self.refresh_interval = refresh_interval
        self.entry: Entry | None = None
        self.source: RunSource | None = None
        self.results: list[ExpectationResult] | None = None
        #: Knob values changed in the app, per scenario file (as typed).
        self.knob_overrides: dict[Path, dict[str, str]] = {}
        #: The backend chosen for the next run, per scenario file.
        self.backends: dict[Path, str] = {}
        self.frame_times: deque[float] = deque(maxlen=2000)
        self.pacer = RedrawPacer()
        self.latest: sm.Snapshot | None = None  #: the snapshot on screen
        self._shown_version = -1
        self._shown_status = ""
        self._shown_cursor: int | None = None
        self._ticker: Timer | None = None
        #: Looking back: the number of events of the run on show (None: now).
        self.cursor: int | None = None
        #: Step mode: the knobs of the run under the learner's wheel (None: a free run).
        self.stepping: dict[str, Any] | None = None
        self._step_backend = "thread"  #: where step mode runs: threads or gevent
        self._reached_at: int | None = None  #: the step count the goal was reached at
        #: The run of the same scenario before this one (to compare), and if shown.
        self.previous: RunSource | None = None
        self.comparing = False
        self._differences: tuple[tuple[int, int, str], tuple[str, ...]] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield ScenarioTree(self.entries, id="scenarios")
            with Vertical(id="main"):
                yield StatusBar(" IDLE   pick a scenario with ↑ ↓, then press r", id="status")
                yield Banner(id="banner")
                yield ViewTabs(id="views")
                with ContentSwitcher(initial="lesson", id="switcher"):
                    yield LessonView(self.entries, id="lesson")
                    with Vertical(id="run"):
                        yield Static("No run yet: press r to run the scenario.", id="no-run")
                    yield TimelineView(id="timeline")
        yield AppFooter()

    def on_mount(self) -> None:
        # The reader thread folds events in this process; a short switch interval
        # hands the GIL back to the UI thread promptly (measured: redraw gaps).
        sys.setswitchinterval(0.001)
        self.set_timer(0.3, self._prewarm)  # once the first frame is out
        self._ticker = self.set_interval(self.refresh_interval, self._tick)
        self._complain_about_bad_files()
        if self.replay is not None:
            self.call_after_refresh(self._start_replay)
        if self.saved_schedule is not None:
            self.call_after_refresh(self._start_saved_schedule)
        if self.program is not None:
            self.call_after_refresh(self._start_program)

    async def _start_program(self) -> None:
        """Trace the program: its source where a lesson would be, its run on the panels."""
        from tui_conc.tracing.command import program_label, recorded_traced_run

        assert self.program is not None
        program = self.program
        label = program_label(program)
        entry = Entry(Path(label), None, None)
        self._program_entry = entry
        self.open_entry(entry)
        try:
            source = "" if program[0] == "-m" else Path(label).read_text(errors="replace")
        except OSError:
            source = ""
        self._main(LessonView).show_program(Path(label).name, program, source)
        await self._begin(lambda: recorded_traced_run(program))

    async def _start_saved_schedule(self) -> None:
        """Step mode on the schedule's scenario, at step 0: enter follows the schedule."""
        assert self.saved_schedule is not None
        saved = self.saved_schedule
        self.open_entry(saved.entry)
        await self._follow(tuple(saved.choices), saved.name)
        await self._step_from(saved.entry, saved.knobs, saved.backend, [])
        for warning in saved.warnings:
            self.notify(warning, title="Schedule", severity="warning", timeout=10)

    async def _start_replay(self) -> None:
        """Open the recorded run: its lesson beside it, playing from the start."""
        assert self.replay is not None
        entry, source = self.replay
        self.open_entry(entry)
        if entry.scenario is None and entry.error is None:  # a traced program's recording
            header = source.folder.header if source.folder is not None else {}  # type: ignore[attr-defined]
            try:
                text = entry.path.read_text(errors="replace")
            except OSError:
                text = "(the program's file is not here)"
            argv = [str(a) for a in header.get("argv", [entry.path])]
            self._main(LessonView).show_program(entry.path.name, argv, text)
        await self._ensure_panels()
        self.source = source
        history = self._history()
        assert history is not None
        self.playback = Playback(history.nows[-1] - history.nows[0])
        self.cursor = 0
        for warning in getattr(source, "warnings", []):
            self.notify(warning, title="Replay", severity="warning", timeout=8)
        self.action_tab("run")
        self._tick()

    def _complain_about_bad_files(self) -> None:
        bad = [e for e in self.entries if not e.valid]
        if bad:
            self.notify(
                "\n".join(str(e.error) for e in bad),
                title=f"{len(bad)} scenario file(s) do not load",
                severity="error",
                timeout=10,
            )

    def _main_screen(self) -> Screen[object]:
        """The app's own screen, even while a modal (the knobs form) is on top."""
        return self.screen_stack[0]

    def _main(self, selector: type[W] | str, expect_type: type[W] | None = None) -> W:
        if expect_type is None:
            return self._main_screen().query_one(selector)  # type: ignore[return-value]
        return self._main_screen().query_one(selector, expect_type)  # type: ignore[arg-type]

    def _prewarm(self) -> None:
        self.run_worker(prewarm, name="prewarm markdown", thread=True, exit_on_error=False)

    # ------------------------------------------------------------ which keys apply

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show in the footer only what applies now (and keep space for a knob field)."""
        if isinstance(self.focused, Input) and action == "pause":
            return False
        status = self.source.status if self.source is not None else None
        live = status in (sm.RUN_RUNNING, sm.PAUSED, sm.STARTING)
        scenario = self.entry.scenario if self.entry is not None else None
        if self.playback is not None:  # a replay: play, pause, speed; nothing to run
            if action in ("pause", "speed", "run"):
                return True
            if action in ("stop", "backend", "knobs"):
                return False
        elif action == "speed":
            return False
        if action == "pause":
            return status in (sm.RUN_RUNNING, sm.PAUSED)
        if action == "stop":
            return live or (status in (sm.DEADLOCK, sm.STALL) and not self._stopped())
        if action == "backend":
            return scenario is not None and len(scenario.supported) > 1
        if action == "knobs":
            return scenario is not None and bool(scenario.knobs)
        if action == "run":
            return scenario is not None or (
                self.entry is not None and self.entry is self._program_entry
            )
        if action == "tab":
            return parameters[0] != self._view()
        if action == "live":
            return self.cursor is not None
        if action in ("step", "save"):
            return self._history() is not None
        if action == "compare":
            return self.previous is not None and self._view() == "timeline"
        if action in ("wheel", "explore"):
            return self.playback is None and scenario is not None
        if action == "auto":
            return self.stepping is not None and status == sm.RUN_RUNNING
        if action == "undo":
            return self.stepping is not None and self._steps_taken() > 0
        if action == "focus_list":
            return not self._main(ScenarioTree).has_focus or not self._main(ScenarioTree).display
        return True

    def _history(self) -> Any:
        """The current run's history (None if it is not recorded)."""
        return getattr(self.source, "history", None)

    def _stopped(self) -> bool:
        return bool(getattr(self.source, "stopped", False))

    def _view(self) -> str:
        with contextlib.suppress(NoMatches):
            return str(self._main(ContentSwitcher).current)
        return "lesson"

    # ------------------------------------------------------------ choosing

    def on_scenario_tree_picked(self, message: ScenarioTree.Picked) -> None:
        cursor = self._main(ScenarioTree).cursor_node
        if cursor is None or cursor.data is not message.entry:
            return  # stale: the cursor has moved on since this message was sent
        if message.entry is not self.entry:
            self.open_entry(message.entry)
        elif message.chosen:
            self.action_tab("lesson")
        self._main(ScenarioTree).focus()

    def choose_entry(self, entry: Entry) -> None:
        """Move the list's cursor to ``entry`` and open it (the command palette does this)."""
        self._main(ScenarioTree).select_entry(entry)

    def open_entry(self, entry: Entry) -> None:
        """Show ``entry``'s lesson; a run of another scenario is stopped."""
        self._stop_source()
        self._let_go(self.source)
        self._let_go(self.previous)
        self.source, self.previous, self.comparing = None, None, False
        self.cursor = None
        self.entry = entry
        self.results = None
        self.latest = None
        self._main(LessonView).show_entry(entry, self.knob_overrides.get(entry.path, {}))
        if entry.scenario is not None:
            self._main(LessonView).show_backend(entry.scenario.supported, self.backend_for(entry))
        self._reset_panels()
        self._main(StatusBar).show(entry.title, None, None)
        self._main(Banner).show(None)
        self.action_tab("lesson")
        self.refresh_bindings()

    def _reread(self, entry: Entry) -> Entry:
        """``entry`` as its file is now (a learner edits it between runs)."""
        fresh = load_entry(entry.path)
        if fresh.scenario == entry.scenario and str(fresh.error) == str(entry.error):
            return entry
        self.entries = [fresh if e is entry else e for e in self.entries]
        self._main(ScenarioTree).replace_entry(entry, fresh)
        self.entry = fresh
        self._main(LessonView).show_entry(fresh, self.knob_overrides.get(fresh.path, {}))
        if fresh.scenario is not None:
            self._main(LessonView).show_backend(fresh.scenario.supported, self.backend_for(fresh))
        self.notify(f"{fresh.path.name} changed on disk: read again", timeout=3)
        return fresh

    # ------------------------------------------------------------ actions

    async def _ensure_panels(self) -> None:
        """Mount the live panels on the first run (keeps the first frame light)."""
        if self._panels():
            return
        pane = self._main("#run", Vertical)
        await pane.query("#no-run").remove()
        await pane.mount_all(
            [
                SchedulePanel(id="schedule"),
                ActorsPanel(id="actors"),
                PoolPanel(id="pools"),
                Horizontal(LocksPanel(id="locks"), QueuesPanel(id="queues"), id="resources"),
                SocketsPanel(id="sockets"),
                LogPanel(id="log"),
            ]
        )

    async def action_run(self) -> None:
        """Run the selected scenario (a running one is stopped and started again); in a
        replay, play it again from the start."""
        if self.playback is not None:
            self.playback.restart()
            self._look_at(0, by_user=False)
            return
        if self.entry is not None and self.entry is self._program_entry:
            await self._start_program()  # the traced program, from its start again
            return
        cursor = self._main(ScenarioTree).cursor_node
        if cursor is not None and cursor.data is not None and cursor.data is not self.entry:
            self.open_entry(cursor.data)  # keys can arrive before the tree's highlight message
        if self.entry is None:
            return
        entry = self._reread(self.entry)
        if entry.scenario is None:
            self.notify(str(entry.error), title="This scenario does not load", severity="error")
            return
        raw = self.knob_overrides.get(entry.path, {})
        backend = self.backend_for(entry)
        try:
            knobs = resolve_knobs(entry.scenario, raw)
            check_processes(entry.scenario, knobs, backend)
        except ScenarioError as exc:
            self.notify(exc.message, title="Bad knob value", severity="error")
            return
        except SizeError as exc:
            self.notify(exc.message, title=f"Cannot run on {backend}", severity="error")
            return
        overrides = {name: knobs[name] for name in raw}
        await self._begin(lambda: self.source_factory(entry, overrides, backend))

    async def _begin(
        self, make: Callable[[], RunSource], stepping: dict[str, Any] | None = None
    ) -> None:
        """Stop the run on show (kept to compare) and start the one ``make`` builds."""
        self._stop_source()
        if self.source is not None:  # the run before, of this scenario: kept to compare
            self._let_go(self.previous)
            self.previous = self.source
        await self._ensure_panels()
        self._reset_panels()
        self.results = None
        self.cursor = None
        self.stepping = stepping
        self._reached_at = None
        self._main(LessonView).show_results(None)
        panel = self._main(SchedulePanel)
        panel.goal = goal_text(self.entry) if stepping is not None and self.entry else ""
        self.source = make()
        self.action_tab("run")
        if stepping is not None:
            panel.display = True
            panel.focus_choices()
        self._tick()
        self.refresh_bindings()

    def action_stop(self) -> None:
        """Stop the run now: its process and every thread in it are killed.

        A deadlocked or stalled run keeps its verdict, but its process goes too.
        """
        if self.source is not None:
            self.source.stop()
            self._tick()
            self.refresh_bindings()

    def action_pause(self) -> None:
        """Pause or resume the run at the actors' next step (a replay: its playing)."""
        if self.playback is not None:
            self.playback.toggle()
            self._tick()
            return
        if self.source is None:
            return
        if self.source.status == sm.PAUSED:
            self.source.resume()
        elif self.source.status == sm.RUN_RUNNING:
            self.source.pause()

    def action_step(self, direction: int, own: int) -> None:
        """Look back: to the previous / next event (``own``: of the selected actor)."""
        history = self._history()
        if history is None:
            self.notify("This run is not recorded: nothing to look back at.")
            return
        cursor = self.cursor if self.cursor is not None else history.total
        actor = self._selected_actor() if own else None
        if own and actor is None:
            self.notify("Select an actor first: its row (2) or its lane (3).")
            return
        found = history.find(cursor, forward=direction > 0, actor=actor)
        if found is None:
            self.notify("No later event." if direction > 0 else "No earlier event.", timeout=2)
            return
        self._look_at(found)

    def action_speed(self, step: int) -> None:
        """A replay: play slower or faster (0.25× … 10×)."""
        if self.playback is not None:
            self.notify(f"Replay at {self.playback.faster(step):g}×", timeout=2)
            self._tick()

    def action_compare(self) -> None:
        """In the Timeline: show the run before this one above it (again: this one alone)."""
        if self.previous is None:
            self.notify("Run the scenario again (after changing a knob, say) to compare.")
            return
        self.comparing = not self.comparing
        self._shown_version = -1
        self._tick()

    def action_live(self) -> None:
        """Back to now: the panels follow the run again."""
        self._look_at(None)

    def _look_at(self, cursor: int | None, by_user: bool = True) -> None:
        self.cursor = cursor
        history = self._history()
        if by_user and self.playback is not None and history is not None:
            at = history.nows[-1] if cursor is None else history.time_of(cursor)
            self.playback.seek(at - history.nows[0])
        self.refresh_bindings()
        with contextlib.suppress(NoMatches):  # at once: a key that moves in time is answered
            self._render_tick()

    def on_timeline_view_moved(self, message: TimelineView.Moved) -> None:
        history = self._history()
        if history is None:
            return
        self._look_at(None if message.at is None else history.cursor_at(message.at))

    def _selected_actor(self) -> int | None:
        if self._view() == "timeline":
            return self._main(TimelineView).selected_actor
        with contextlib.suppress(NoMatches):
            key = self._main(ActorsPanel).selected_key
            if key is not None and key.isdigit():
                return int(key)
        return None

    def action_save(self) -> None:
        """Save the run: its recording (a trace ``tui-conc replay`` opens) and its report."""
        from tui_conc.ui.saving import save_run

        if self.source is None or self.entry is None:
            return
        try:
            saved = save_run(self.source, self.entry, self.results)
        except OSError as exc:
            self.notify(f"cannot save: {exc}", severity="error")
            return
        self.notify("\n".join(str(p) for p in saved), title="Run saved", timeout=8)

    def action_help(self) -> None:
        """The help overlay: keys, state legend, panels."""
        from tui_conc.ui.screens.help import HelpScreen  # on first use: off the start-up path

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def on_live_table_selected(self, message: LiveTable.Selected) -> None:
        """Enter (or a click) on an Actors row: that actor's details."""
        if not isinstance(message.table, ActorsPanel) or not message.key.isdigit():
            return
        from tui_conc.ui.screens.actor_detail import ActorDetail

        path = self.entry.path if self.entry is not None else None
        self.push_screen(ActorDetail(int(message.key), self._detail_snapshot, path))

    def _detail_snapshot(self) -> sm.Snapshot | None:
        if self.source is None:
            return None
        return self.source.snapshot(wait=False, actor_limit=None)

    def backend_for(self, entry: Entry) -> str:
        """The backend the next run of ``entry`` uses."""
        assert entry.scenario is not None
        return self.backends.get(entry.path, entry.scenario.backend)

    def action_backend(self) -> None:
        """Switch the next run's backend among those the scenario supports."""
        entry = self.entry
        if entry is None or entry.scenario is None:
            return
        supported = entry.scenario.supported
        if len(supported) < 2:
            self.notify(f"This scenario runs on {supported[0]} only.")
            return
        current = supported.index(self.backend_for(entry))
        self.backends[entry.path] = supported[(current + 1) % len(supported)]
        self._main(LessonView).show_backend(supported, self.backends[entry.path])
        self.notify(f"Next run: {self.backends[entry.path]} (press r)")

    def action_dask_cluster(self) -> None:
        """Where the dask backend's next runs go (the command palette's "Dask cluster…")."""
        from tui_conc.ui.screens.dask_cluster import DaskClusterScreen, apply

        def keep(choice: tuple[str, int] | None) -> None:
            if choice is not None:
                self.notify(apply(choice), title="Dask", timeout=4)

        self.push_screen(DaskClusterScreen(), keep)

    def action_knobs(self) -> None:
        """Open the knobs form for the selected scenario."""
        entry = self.entry
        if entry is None or entry.scenario is None or not entry.scenario.knobs:
            self.notify("This scenario has no knobs.")
            return

        def keep(values: dict[str, str] | None) -> None:
            if values is not None and entry is self.entry:
                self.knob_overrides[entry.path] = values
                self._main(LessonView).show_knobs(values)
                self.action_tab("lesson")
                changed = ", ".join(f"{k}={v}" for k, v in values.items()) or "the defaults"
                self.notify(f"Next run: {changed} (press r)", title="Knobs set", timeout=4)

        from tui_conc.ui.screens.knobs import KnobsScreen

        self.push_screen(KnobsScreen(entry.scenario, self.knob_overrides.get(entry.path, {})), keep)

    def action_reload(self) -> None:
        """Read every scenario file again (new, edited and removed ones)."""
        folder = self.folder or shipped_scenarios_dir()
        self.entries = load_catalog(folder)
        self._main(ScenarioTree).set_entries(self.entries)
        self._main(LessonView).entries = self.entries
        if self.entry is not None:
            same = next((e for e in self.entries if e.path == self.entry.path), None)
            if same is not None:
                self.entry = same
                self._main(LessonView).show_entry(same, self.knob_overrides.get(same.path, {}))
        self.notify(f"{len(self.entries)} scenarios read again from {folder}", timeout=3)
        self._complain_about_bad_files()

    def action_tab(self, tab: str) -> None:
        """Show the Lesson or the Run view (which takes the whole width on narrow terminals)."""
        if self.source is not None:  # a whole new view to lay out and paint
            self.source.give_way(VIEW_SWITCH_S)
        self._main(ContentSwitcher).current = tab
        self._main(ViewTabs).active = tab
        self._fit_list(self.size.width)
        self._shown_version = -1  # the view on show draws the run afresh
        if tab == "timeline":
            self._main(TimelineView).focus()
        elif tab == "lesson" or self.size.width >= WIDE:
            self._main(ScenarioTree).focus()
        else:
            panels = self._panels()
            if panels:
                panels[0].focus()
        self.refresh_bindings()

    def _fit_list(self, width: int) -> None:
        """On a narrow terminal the run view takes the whole width; 1 or escape bring
        the list back. Set here rather than by a CSS class on the screen: a class
        change restyles every widget, a slow frame under a flood of events."""
        narrow_run = self._main(ContentSwitcher).current in ("run", "timeline") and width < WIDE
        self._main(ScenarioTree).display = not narrow_run

    def on_resize(self, event: events.Resize) -> None:
        with contextlib.suppress(NoMatches):
            self._fit_list(event.size.width)  # the new size (self.size may still be the old)

    def on_view_tabs_chosen(self, message: ViewTabs.Chosen) -> None:
        self.action_tab(message.view)

    def action_focus_list(self) -> None:
        """Back to the scenario list (on a narrow terminal, with the lesson beside it)."""
        tree = self._main(ScenarioTree)
        if not tree.display:
            self.action_tab("lesson")
        tree.display = True
        tree.focus()
        self.refresh_bindings()

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """The screenshot command: saved in $TUI_CONC_SCREENSHOTS or the current folder."""
        folder = path or os.environ.get(SCREENSHOTS) or os.getcwd()
        try:
            saved = self.save_screenshot(filename, folder, time_format)
        except OSError as exc:
            self.notify(f"cannot save a screenshot in {folder}: {exc}", severity="error")
            return None
        self.notify(f"screenshot saved: {saved}", title="Screenshot", timeout=6)
        return saved

    async def action_quit(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
        self._stop_source()
        self.exit()

    def on_unmount(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
        self._stop_source()

    # ------------------------------------------------------------ rendering

    def _stop_source(self) -> None:
        if self.source is not None and self.source.status not in (sm.FINISHED, sm.ERROR):
            self.source.stop()

    @staticmethod
    def _let_go(source: RunSource | None) -> None:
        """A run no longer on show: close what it keeps for looking back."""
        close = getattr(source, "close", None)
        if close is not None:
            close()


def make_app(
    folder: Path | None = None,
    source_factory: SourceFactory = live_source,
    replay: tuple[Entry, RunSource] | None = None,
    schedule: SavedSchedule | None = None,
    program: list[str] | None = None,
) -> TuiConcApp:
    """The app as users get it: every scenario in ``folder`` (default: the shipped ones);
    ``replay``: a recorded run to play back, with its scenario; ``schedule``: a saved
    schedule to step through."""
    return TuiConcApp(
        load_catalog(folder or shipped_scenarios_dir()),
        source_factory,
        folder=folder,
        replay=replay,
        schedule=schedule,
        program=program,
    )
