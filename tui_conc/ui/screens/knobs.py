"""The knobs form: edit a scenario's parameters before a run."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.validation import Function, Number, ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch

from tui_conc.scenario import ScenarioError, resolve_knobs
from tui_conc.scenario.model import Knob, Scenario


class _Valid(Validator):
    """A knob's value as ``--set`` would take it: its type, its range, its choices."""

    def __init__(self, scenario: Scenario, name: str) -> None:
        super().__init__()
        self.scenario, self.name = scenario, name

    def validate(self, value: str) -> ValidationResult:
        try:
            resolve_knobs(self.scenario, {self.name: value.strip()})
        except ScenarioError as exc:
            return self.failure(exc.message)
        return self.success()


def _field(scenario: Scenario, name: str, knob: Knob, current: str) -> Widget:
    """A Switch for a boolean, a Select for a knob with choices, else a checked Input."""
    if isinstance(knob.default, bool):
        return Switch(value=current.lower() in ("true", "yes", "on", "1"), id=f"knob-{name}")
    if knob.choices is not None:
        options = [(str(c), str(c)) for c in knob.choices]
        value = current if current in dict(options) else str(knob.default)
        return Select(options, value=value, allow_blank=False, compact=True, id=f"knob-{name}")
    validators: list[Validator] = [_Valid(scenario, name)]
    if isinstance(knob.default, int | float):
        validators.insert(0, Number(knob.min, knob.max, failure_description="not a number"))
        if isinstance(knob.default, int):
            validators.insert(0, Function(_whole, "not a whole number"))
    return Input(
        current,
        compact=True,
        select_on_focus=True,
        validators=validators,
        validate_on=["changed", "submitted"],
        id=f"knob-{name}",
    )


def _whole(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


class KnobsScreen(ModalScreen[dict[str, str] | None]):
    """One field per knob; Enter checks the values and returns the changed ones.

    | Key | Action |
    | :- | :- |
    | tab / shift+tab | next / previous field |
    | enter | keep these values (refused, with the reason, while one is invalid) |
    | escape | cancel |
    | ctrl+r | reset every knob to its default |
    """

    DEFAULT_CSS = """
    KnobsScreen { align: center middle; }
    KnobsScreen > Vertical {
        width: 76; max-width: 95%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    KnobsScreen Grid { grid-size: 3; grid-columns: 14 16 1fr; grid-rows: 1; height: auto; }
    KnobsScreen Grid Label.name { text-style: bold; }
    KnobsScreen Grid Label.help { color: $text-muted; }
    KnobsScreen Input { border: none; height: 1; padding: 0 1; }
    KnobsScreen Input.-invalid { background: $error 30%; }
    KnobsScreen Switch { border: none; height: 1; padding: 0; }
    KnobsScreen #knob-error { color: $error; height: auto; }
    KnobsScreen .hint { color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+r", "defaults", "Defaults"),
        Binding("enter", "keep", "Keep", priority=True),
    ]

    def __init__(self, scenario: Scenario, current: dict[str, str]) -> None:
        super().__init__()
        self.scenario = scenario
        self.fields = {
            name: _field(scenario, name, knob, current.get(name, str(knob.default)))
            for name, knob in scenario.knobs.items()
        }

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Knobs: {self.scenario.title}", classes="title")
            with Grid():
                for name, knob in self.scenario.knobs.items():
                    yield Label(name, classes="name")
                    yield self.fields[name]
                    yield Label(knob.help or _range(knob), classes="help")
            yield Static("", id="knob-error")
            yield Label("enter: keep · escape: cancel · ctrl+r: defaults", classes="hint")

    def on_mount(self) -> None:
        first = next(iter(self.fields.values()), None)
        if first is not None:
            first.focus()  # typing goes to the first knob at once

    def values(self) -> dict[str, str]:
        """Every knob's value, as text (what ``--set`` would take)."""
        out = {}
        for name, field in self.fields.items():
            value: Any = field.value  # type: ignore[attr-defined]
            out[name] = ("true" if value else "false") if isinstance(field, Switch) else str(value)
        return {k: v.strip() for k, v in out.items()}

    def on_input_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        error = self.query_one("#knob-error", Static)
        name = (event.input.id or "").removeprefix("knob-")
        if result is not None and not result.is_valid:
            error.update(f"{name}: {result.failure_descriptions[0]}")
        else:
            error.update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_keep()

    def action_keep(self) -> None:
        if isinstance(self.focused, Select) and self.focused.expanded:
            return  # enter chooses in the open list
        values = self.values()
        changed = {
            name: value
            for name, value in values.items()
            if value != _text(self.scenario.knobs[name].default)
        }
        try:
            resolve_knobs(self.scenario, changed)
        except ScenarioError as exc:
            self.query_one("#knob-error", Static).update(exc.message)
            return
        self.dismiss(changed)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_defaults(self) -> None:
        for name, field in self.fields.items():
            default = self.scenario.knobs[name].default
            if isinstance(field, Switch):
                field.value = bool(default)
            else:
                field.value = str(default)  # type: ignore[attr-defined]
        self.query_one("#knob-error", Static).update("")


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _range(knob: Knob) -> str:
    if knob.min is not None or knob.max is not None:
        low = "" if knob.min is None else f"{knob.min:g}"
        high = "" if knob.max is None else f"{knob.max:g}"
        return f"{low}…{high}"
    return ""
