"""The knobs form: edit a scenario's parameters before a run."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui_conc.scenario import ScenarioError, resolve_knobs
from tui_conc.scenario.model import Scenario


class KnobsScreen(ModalScreen[dict[str, str] | None]):
    """One Input per knob; Enter checks the values and returns the changed ones.

    | Key | Action |
    | :- | :- |
    | enter | keep these values |
    | escape | cancel |
    | ctrl+r | reset every knob to its default |
    """

    DEFAULT_CSS = """
    KnobsScreen { align: center middle; }
    KnobsScreen > Vertical {
        width: 72; max-width: 95%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    KnobsScreen Grid { grid-size: 3; grid-columns: 14 14 1fr; grid-rows: 1; height: auto; }
    KnobsScreen Grid Label.name { text-style: bold; }
    KnobsScreen Grid Label.help { color: $text-muted; }
    KnobsScreen Input { border: none; height: 1; padding: 0 1; }
    KnobsScreen #knob-error { color: $error; height: auto; }
    KnobsScreen .hint { color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+r", "defaults", "Defaults"),
    ]

    def __init__(self, scenario: Scenario, current: dict[str, str]) -> None:
        super().__init__()
        self.scenario = scenario
        self.inputs = {
            name: Input(current.get(name, str(knob.default)), compact=True, select_on_focus=True)
            for name, knob in scenario.knobs.items()
        }

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Knobs: {self.scenario.title}", classes="title")
            with Grid():
                for name, knob in self.scenario.knobs.items():
                    yield Label(name, classes="name")
                    yield self.inputs[name]
                    yield Label(knob.help, classes="help")
            yield Static("", id="knob-error")
            yield Label("enter: keep · escape: cancel · ctrl+r: defaults", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        changed = {
            name: field.value.strip()
            for name, field in self.inputs.items()
            if field.value.strip() != str(self.scenario.knobs[name].default)
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
        for name, field in self.inputs.items():
            field.value = str(self.scenario.knobs[name].default)
