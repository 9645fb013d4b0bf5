"""Step mode and exploration, the app's side: take the wheel (``t``), let the scheduler
choose (``a``), undo (``u``), follow a saved schedule, search for a failing one (``e``),
and say when a challenge is reached. (The controlled scheduler itself is
``engine.scheduler``; the explore form and the helpers are ``ui.stepping``.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_conc.engine.scheduler import EXPLORABLE
from tui_conc.scenario import Entry, ScenarioError
from tui_conc.state import model as sm
from tui_conc.ui.stepping import ExploreScreen, step_knobs, why_not_steppable
from tui_conc.ui.widgets.scenario_tree import ScenarioTree
from tui_conc.ui.widgets.schedule_panel import SchedulePanel

if TYPE_CHECKING:
    from tui_conc.session import RunSource


class StepModeActions:
    """The step-mode keys and messages of ``TuiConcApp`` (a part of it)."""

    def _steppable(self) -> tuple[Entry, dict[str, Any], str] | None:
        """The selected scenario, its step-mode knobs and backend, or None (and say why
        not)."""
        cursor = self._main(ScenarioTree).cursor_node
        if cursor is not None and cursor.data is not None and cursor.data is not self.entry:
            self.open_entry(cursor.data)
        if self.entry is None:
            return None
        entry = self._reread(self.entry)
        if entry.scenario is None:
            self.notify(str(entry.error), title="This scenario does not load", severity="error")
            return None
        backend = self.backend_for(entry)
        if backend not in EXPLORABLE and "thread" in entry.scenario.supported:
            backend = "thread"  # step mode drives threads and gevent; the lesson runs on threads
        why = why_not_steppable(entry, backend)
        if why:
            self.notify(why, title="Step mode and exploration cannot drive this", severity="error")
            return None
        try:
            knobs = step_knobs(entry, self.knob_overrides.get(entry.path, {}))
        except ScenarioError as exc:
            self.notify(exc.message, title="Bad knob value", severity="error")
            return None
        return entry, knobs, backend

    async def action_wheel(self) -> None:
        """Take the wheel: a run on threads (or greenlets) where you choose who goes next."""
        found = self._steppable()
        if found is not None:
            await self._follow(())  # the learner's own schedule from here
            await self._step_from(*found, [])

    async def _follow(self, plan: tuple[str, ...], name: str = "") -> None:
        """The saved schedule the Schedule panel offers to follow (empty: none)."""
        await self._ensure_panels()
        panel = self._main(SchedulePanel)
        panel.plan, panel.plan_name = plan, name

    async def _step_from(
        self, entry: Entry, knobs: dict[str, Any], backend: str, prefix: list[str]
    ) -> None:
        self._step_backend = backend
        await self._begin(lambda: self.step_factory(entry, knobs, prefix, backend), stepping=knobs)

    def action_auto(self) -> None:
        """Step mode: the scheduler chooses, until an actor blocks or ends."""
        if self.stepping is not None and self.source is not None:
            self.source.auto_steps(1000)  # type: ignore[attr-defined]

    async def action_undo(self) -> None:
        """Step mode: the schedule so far but its last step, run again from the start
        (real threads cannot be rewound; the same choices replay the same run)."""
        if self.stepping is None or self.source is None or self.entry is None:
            return
        snapshot = self.source.snapshot(log_tail=0, actor_limit=0)
        choices = list(snapshot.schedule.choices) if snapshot.schedule else []
        if choices:
            await self._step_from(self.entry, self.stepping, self._step_backend, choices[:-1])

    def _steps_taken(self) -> int:
        latest = self.latest
        return len(latest.schedule.choices) if latest is not None and latest.schedule else 0

    def on_schedule_panel_chosen(self, message: SchedulePanel.Chosen) -> None:
        if self.stepping is not None and self.source is not None and self.cursor is None:
            self.source.take_step(message.actor)  # type: ignore[attr-defined]

    def _judge_challenge(self, entry: Entry, snapshot: sm.Snapshot, source: RunSource) -> None:
        """Step mode's run has ended: did the learner reach the challenge's goal?"""
        from tui_conc.state.expectations import goal_reached

        scenario = entry.scenario
        if scenario is None or scenario.challenge is None or snapshot.schedule is None:
            return
        if goal_reached(scenario, snapshot, source.log_texts()):  # type: ignore[attr-defined]
            steps = len(snapshot.schedule.choices)
            self._reached_at = steps
            goal = scenario.challenge.text or scenario.challenge.goal
            unit = "switches" if snapshot.backend == "gevent" else "steps"
            said = f"Goal reached in {steps} {unit}: {goal}"
            self._main(SchedulePanel).reached = said
            self.notify(said, title="Challenge", timeout=10)

    def action_explore(self) -> None:
        """Search the schedules for one that fails (or reaches the challenge's goal)."""
        found = self._steppable()
        if found is None:
            return
        entry, knobs, backend = found

        async def done(result: dict[str, Any] | None) -> None:
            if result is None:
                return
            if not result.get("found"):
                how = (
                    f"preemption bound {result['bound']}: every schedule within it was run"
                    if result.get("exhausted")
                    else f"{result.get('stopped') or 'stopped'}: not a proof"
                )
                self.notify(
                    f"No failing schedule among {result['runs']:,} schedules ({how}).",
                    title="Explored",
                    timeout=10,
                )
                return
            self.notify(
                f"{result['reason']} — after {result['found_at_run']:,} schedules; the smallest: "
                f"{result['preemptions']} preemption(s), {result['steps']} steps. Replayed here: "
                "u undoes a step, [ ] look back through it.",
                title="Found a schedule",
                timeout=12,
            )
            await self._follow(())
            await self._step_from(entry, knobs, backend, list(result["schedule"]))

        self.push_screen(ExploreScreen(entry, knobs, backend), done)
