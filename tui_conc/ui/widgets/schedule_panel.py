"""The Schedule panel: step mode's wheel — who may take the next step, and the steps so far."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui_conc.state.model import FINAL_STATUSES, Snapshot, StepOption

#: The schedule line shows at most this many of the latest steps.
SHOWN_STEPS = 60


class StepChoices(OptionList):
    """The actors parked at their next step; a blocked one cannot be chosen."""

    BINDINGS = [Binding(str(n), f"pick({n})", show=False) for n in range(1, 10)]

    def action_pick(self, n: int) -> None:
        """Choose the n-th actor listed (when it can go)."""
        if n <= self.option_count and not self.get_option_at_index(n - 1).disabled:
            self.highlighted = n - 1
            self.action_select()


class SchedulePanel(Vertical):
    """Goal, options and the schedule so far, for a run in step mode (hidden otherwise)."""

    DEFAULT_CSS = """
    SchedulePanel { height: auto; max-height: 45%; display: none; }
    SchedulePanel > #goal { height: auto; padding: 0 1; }
    SchedulePanel > StepChoices, SchedulePanel > StepChoices:focus {
        height: auto; max-height: 12; border: none; padding: 0;
    }
    SchedulePanel > #so-far { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    """

    class Chosen(Message):
        """The learner chose an actor for the next step."""

        def __init__(self, actor: int) -> None:
            super().__init__()
            self.actor = actor

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.border_title = "Schedule"
        self._shown: tuple[object, ...] = ()
        self.goal = ""  #: the challenge's goal and text (set by the app)
        self.reached = ""  #: "" or what the app says once the goal is reached
        #: a saved schedule being stepped through (actor names; empty: none) and its file
        self.plan: tuple[str, ...] = ()
        self.plan_name = ""

    def compose(self) -> ComposeResult:
        yield Static(id="goal")
        yield StepChoices(id="choices")
        yield Static(id="so-far")

    def show(self, snapshot: Snapshot) -> None:
        schedule = snapshot.schedule
        self.display = schedule is not None
        if schedule is None:
            return
        final = snapshot.status in FINAL_STATUSES
        key = (schedule, final, self.goal, self.reached, self.plan)
        if key == self._shown or (not schedule.options and not final and self._shown):
            return  # between a step and the next offer: keep the choices on show
        self._shown = key
        steps = len(schedule.choices)
        # on gevent a greenlet runs on to its next switch: a choice is a switch, not a step
        green = snapshot.backend == "gevent"
        unit = ("switch" if green else "step") + ("" if steps == 1 else "es" if green else "s")
        self.border_title = (
            f"Schedule · step mode{' on gevent' if green else ''} · {steps} {unit} · "
            f"virtual time {schedule.clock_s:g} s"
        )
        goal = self.query_one("#goal", Static)
        line = Text()
        if self.reached:
            line.append(f"★ {self.reached}", "bold green")
        elif self.goal:
            line.append("Goal: ", "bold")
            line.append(self.goal)
        if final and not self.reached:
            line.append(("\n" if line else "") + f"The run is over ({snapshot.status}): ", "bold")
            line.append("u undoes the last step, t starts again.")
        elif not final:
            line.append(
                ("\n" if line else "")
                + "1-9 or ↑ ↓ enter: that actor "
                + ("runs to its next switch" if green else "takes one step"),
                "dim",
            )
            line.append(" · a: let the scheduler go on · u: undo", "dim")
        planned = self._plan_line(line, schedule.choices, schedule.options, final)
        goal.update(line)
        self._fill(schedule.options if not final else (), planned)
        names = schedule.choices[-SHOWN_STEPS:]
        cut = "… " if len(schedule.choices) > SHOWN_STEPS else ""
        self.query_one("#so-far", Static).update(
            f"so far: {cut}{' '.join(_short(n) for n in names)}" if names else "so far: (none)"
        )

    def _plan_line(
        self,
        line: Text,
        choices: tuple[str, ...],
        options: tuple[StepOption, ...],
        final: bool,
    ) -> str | None:
        """Say where the run stands on the saved schedule; its next actor, if followed."""
        plan = self.plan
        if not plan:
            return None
        taken = len(choices)
        name = self.plan_name or "the schedule"
        line.append("\n" if line else "")
        if tuple(choices) != plan[:taken]:
            line.append(f"{name}: you left it at step {_left_at(choices, plan)}", "yellow")
            return None
        if taken >= len(plan):
            line.append(f"{name}: all {len(plan)} choices taken", "bold")
            return None
        nxt = plan[taken]
        line.append(f"{name}: {taken} of {len(plan)} · next: ", "bold")
        line.append(nxt, "bold cyan")
        if final:
            return None
        if not any(o.actor == nxt and o.enabled for o in options):
            line.append(" cannot go now: the run differs from the saved one", "bold red")
            return None
        line.append(" · enter follows it (▶), a digit leaves it", "dim")
        return nxt

    def _fill(self, options: tuple[StepOption, ...], planned: str | None = None) -> None:
        choices = self.query_one(StepChoices)
        was = choices.highlighted
        before = (
            choices.get_option_at_index(was).id
            if was is not None and choices.option_count
            else None
        )
        choices.clear_options()
        width = max((len(o.actor) for o in options), default=0)
        for n, o in enumerate(options, 1):
            prompt = Text()
            mark = "▶" if o.actor == planned else (str(n) if n < 10 else " ")
            prompt.append(f"{mark} ", "bold yellow" if o.actor == planned else "bold")
            prompt.append(f"{o.actor:<{width}}  ", "bold cyan")
            where = f"L{o.line} {o.text}" if o.line else o.text or "(starts)"
            prompt.append(f"{where:<28} ")
            if o.enabled:
                prompt.append("can go", "green")
            else:
                prompt.append(f"blocked on {o.blocked_on}", "bold red")
            choices.add_option(Option(prompt, id=str(o.index), disabled=not o.enabled))
        ids = [str(o.index) for o in options]
        enabled = [str(o.index) for o in options if o.enabled]
        follow = [str(o.index) for o in options if o.actor == planned and o.enabled]
        kept = before if before in enabled else (enabled[0] if enabled else None)
        target = follow[0] if follow else kept
        if target is not None:
            choices.highlighted = ids.index(target)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None and not event.option.disabled:
            self.post_message(self.Chosen(int(event.option.id)))

    def focus_choices(self) -> None:
        self.query_one(StepChoices).focus()

    def reset(self) -> None:
        self._shown = ()
        self.reached = ""
        self.query_one(StepChoices).clear_options()


def _left_at(choices: tuple[str, ...], plan: tuple[str, ...]) -> int:
    """The first step (from 1) where the choices differ from the plan."""
    for n, (a, b) in enumerate(zip(choices, plan, strict=False), 1):
        if a != b:
            return n
    return min(len(choices), len(plan)) + 1


def _short(name: str) -> str:
    """``worker-0`` → ``w0`` on the schedule line."""
    head, sep, tail = name.rpartition("-")
    return f"{head[:1]}{tail}" if sep and tail.isdigit() else name
