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
        key = (schedule, final, self.goal, self.reached)
        if key == self._shown or (not schedule.options and not final and self._shown):
            return  # between a step and the next offer: keep the choices on show
        self._shown = key
        steps = len(schedule.choices)
        self.border_title = (
            f"Schedule · step mode · {steps} step{'s' if steps != 1 else ''} · "
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
                ("\n" if line else "") + "1-9 or ↑ ↓ enter: that actor takes one step", "dim"
            )
            line.append(" · a: let the scheduler go on · u: undo", "dim")
        goal.update(line)
        self._fill(schedule.options if not final else ())
        names = schedule.choices[-SHOWN_STEPS:]
        cut = "… " if len(schedule.choices) > SHOWN_STEPS else ""
        self.query_one("#so-far", Static).update(
            f"so far: {cut}{' '.join(_short(n) for n in names)}" if names else "so far: (none)"
        )

    def _fill(self, options: tuple[StepOption, ...]) -> None:
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
            prompt.append(f"{n if n < 10 else ' '} ", "bold")
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
        target = before if before in enabled else (enabled[0] if enabled else None)
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


def _short(name: str) -> str:
    """``worker-0`` → ``w0`` on the schedule line."""
    head, sep, tail = name.rpartition("-")
    return f"{head[:1]}{tail}" if sep and tail.isdigit() else name
