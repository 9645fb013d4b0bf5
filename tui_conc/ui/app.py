"""The tui-conc app: pick a scenario, run it on real threads, watch the panels."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from time import perf_counter
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, TabbedContent, TabPane

from tui_conc.scenario import (
    Entry,
    ScenarioError,
    load_catalog,
    resolve_knobs,
    shipped_scenarios_dir,
)
from tui_conc.session import LiveRun, RunSource
from tui_conc.state import model as sm
from tui_conc.state.expectations import ExpectationResult, check
from tui_conc.ui.commands import ScenarioCommands
from tui_conc.ui.widgets.actors_panel import ActorsPanel
from tui_conc.ui.widgets.banner import Banner
from tui_conc.ui.widgets.lesson_view import LessonView
from tui_conc.ui.widgets.locks_panel import LocksPanel
from tui_conc.ui.widgets.log_panel import LogPanel
from tui_conc.ui.widgets.queues_panel import QueuesPanel
from tui_conc.ui.widgets.scenario_tree import ScenarioTree
from tui_conc.ui.widgets.status_bar import StatusBar

#: Builds the run for a scenario and its knob overrides (live by default).
SourceFactory = Callable[[Entry, dict[str, Any]], RunSource]


def live_source(entry: Entry, overrides: dict[str, Any]) -> RunSource:
    """A real run in a runner process."""
    return LiveRun(entry.path, overrides).start()


class TuiConcApp(App[None]):
    """Scenarios on the left; the lesson or the live panels on the right.

    | Key | Action |
    | :- | :- |
    | r | run (or restart) the selected scenario |
    | x | stop the run (kills its process at once) |
    | space | pause / resume |
    | 1 / 2 | Lesson / Run tab |
    | q | quit |
    """

    CSS_PATH = "app.tcss"
    TITLE = "tui-conc"
    COMMANDS = App.COMMANDS | {ScenarioCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("r", "run", "Run/restart"),
        Binding("x", "stop", "Stop"),
        Binding("space", "pause", "Pause", priority=True),
        Binding("1", "tab('lesson')", "Lesson"),
        Binding("2", "tab('run')", "Run"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "focus_list", "Scenarios", show=False),
    ]

    def __init__(
        self,
        entries: list[Entry],
        source_factory: SourceFactory = live_source,
        refresh_interval: float = 0.05,
    ) -> None:
        super().__init__()
        self.entries = entries
        self.source_factory = source_factory
        self.refresh_interval = refresh_interval
        self.entry: Entry | None = None
        self.source: RunSource | None = None
        self.results: list[ExpectationResult] | None = None
        self.frame_times: deque[float] = deque(maxlen=2000)
        self._shown_version = -1
        self._shown_status = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield ScenarioTree(self.entries, id="scenarios")
            with Vertical(id="main"):
                yield StatusBar(id="status")
                yield Banner(id="banner")
                with TabbedContent(initial="lesson", id="tabs"):
                    with TabPane("Lesson", id="lesson"):
                        yield LessonView(id="lesson-view")
                    with TabPane("Run", id="run"):
                        yield ActorsPanel(id="actors")
                        with Horizontal(id="resources"):
                            yield LocksPanel(id="locks")
                            yield QueuesPanel(id="queues")
                        yield LogPanel(id="log")
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one(ScenarioTree).focus()
        first = next((e for e in self.entries if e.valid), None)
        if first is not None:
            await self.open_entry(first)
        self.set_interval(self.refresh_interval, self._tick)
        bad = [e for e in self.entries if not e.valid]
        if bad:
            self.notify(
                "\n".join(str(e.error) for e in bad),
                title=f"{len(bad)} scenario file(s) do not load",
                severity="error",
                timeout=10,
            )

    # ------------------------------------------------------------ choosing

    async def on_scenario_tree_picked(self, message: ScenarioTree.Picked) -> None:
        if message.entry is not self.entry:
            await self.open_entry(message.entry)
        elif message.chosen:
            self.action_tab("lesson")

    async def open_entry(self, entry: Entry) -> None:
        """Show ``entry``'s lesson; a run of another scenario is stopped."""
        self._stop_source()
        self.source = None
        self.entry = entry
        self.results = None
        await self.query_one(LessonView).show_entry(entry)
        self._reset_panels()
        self.query_one(StatusBar).show(entry.title, None, None)
        self.query_one(Banner).show(None)
        self.query_one(TabbedContent).active = "lesson"

    # ------------------------------------------------------------ actions

    def action_run(self) -> None:
        """Run the selected scenario (a running one is stopped and started again)."""
        entry = self.entry
        if entry is None:
            return
        if entry.scenario is None:
            self.notify(str(entry.error), title="This scenario does not load", severity="error")
            return
        raw = self.query_one(LessonView).knob_values()
        try:
            knobs = resolve_knobs(entry.scenario, raw)
        except ScenarioError as exc:
            self.notify(exc.message, title="Bad knob value", severity="error")
            return
        self._stop_source()
        self._reset_panels()
        self.results = None
        self.query_one(LessonView).show_results(None)
        self.source = self.source_factory(entry, {name: knobs[name] for name in raw})
        self.query_one(TabbedContent).active = "run"
        self._tick()

    def action_stop(self) -> None:
        """Stop the run now: its process and every thread in it are killed."""
        if self.source is not None and self.source.status not in sm.FINAL_STATUSES:
            self.source.stop()
            self._tick()

    def action_pause(self) -> None:
        """Pause or resume the run at the actors' next step."""
        if self.source is None:
            return
        if self.source.status == sm.PAUSED:
            self.source.resume()
        elif self.source.status == sm.RUN_RUNNING:
            self.source.pause()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Space pauses, except while typing a knob value (the Input gets it)."""
        return not (action == "pause" and isinstance(self.focused, Input))

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_focus_list(self) -> None:
        self.query_one(ScenarioTree).focus()

    async def action_quit(self) -> None:
        self._stop_source()
        self.exit()

    def on_unmount(self) -> None:
        self._stop_source()

    # ------------------------------------------------------------ rendering

    def _stop_source(self) -> None:
        if self.source is not None and self.source.status not in (sm.FINISHED, sm.ERROR):
            self.source.stop()

    def _reset_panels(self) -> None:
        self.query_one(ActorsPanel).reset()
        self.query_one(LocksPanel).reset()
        self.query_one(QueuesPanel).reset()
        self.query_one(LogPanel).reset()
        self._shown_version = -1
        self._shown_status = ""

    def _tick(self) -> None:
        source, entry = self.source, self.entry
        if source is None or entry is None:
            return
        source.poll()
        status, version = source.status, source.version
        if status in sm.FINAL_STATUSES and (version, status) == (
            self._shown_version,
            self._shown_status,
        ):
            return  # an ended run does not change: nothing to redraw
        snapshot = source.snapshot()  # type: ignore[call-arg]
        if status in sm.FINAL_STATUSES and self.results is None and entry.scenario is not None:
            self.results = check(entry.scenario, snapshot, source.log_texts())  # type: ignore[attr-defined]
            self.query_one(LessonView).show_results(self.results)
        with self.batch_update():
            self.query_one(StatusBar).show(entry.title, snapshot, self.results)
            self.query_one(Banner).show(snapshot)
            self.query_one(ActorsPanel).show(snapshot)
            self.query_one(LocksPanel).show(snapshot)
            self.query_one(QueuesPanel).show(snapshot)
            self.query_one(LogPanel).show(snapshot)
        self._shown_version, self._shown_status = version, status
        self.frame_times.append(perf_counter())


def make_app(
    folder: Path | None = None,
    source_factory: SourceFactory = live_source,
) -> TuiConcApp:
    """The app as users get it: every scenario in ``folder`` (default: the shipped ones)."""
    return TuiConcApp(load_catalog(folder or shipped_scenarios_dir()), source_factory)
