"""The Lesson tab: what the scenario teaches, its knobs, and its expectations."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Markdown, Static

from tui_conc.scenario import Entry
from tui_conc.state.expectations import ExpectationResult


class KnobRow(Horizontal):
    """One knob: its name, an input holding its value, and its help."""

    DEFAULT_CSS = """
    KnobRow { height: 1; }
    KnobRow Label.name { width: 14; text-style: bold; }
    KnobRow Input { width: 12; height: 1; border: none; padding: 0 1; }
    KnobRow Label.help { color: $text-muted; padding-left: 1; }
    """

    def __init__(self, name: str, value: object, help_text: str) -> None:
        super().__init__()
        self.knob = name
        self.input = Input(str(value), compact=True, select_on_focus=True)
        self._help = help_text

    def compose(self) -> ComposeResult:
        yield Label(self.knob, classes="name")
        yield self.input
        yield Label(self._help, classes="help")


class LessonView(VerticalScroll):
    """The explanation (markdown), the knobs to edit before a run, the expectations."""

    DEFAULT_CSS = """
    LessonView #knobs { height: auto; padding: 0 1; }
    LessonView #expectations { padding: 0 1; height: auto; }
    LessonView .section { text-style: bold; color: $accent; padding: 1 1 0 1; }
    LessonView #problem { color: $error; padding: 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entry: Entry | None = None
        self._rows: list[KnobRow] = []

    def compose(self) -> ComposeResult:
        yield Markdown(id="explanation")
        yield Static(id="problem")
        yield Label("Knobs — edit, then press r", classes="section", id="knobs-title")
        yield Vertical(id="knobs")
        yield Label("Expectations — checked when the run ends", classes="section")
        yield Static(id="expectations")

    async def show_entry(self, entry: Entry) -> None:
        """Show ``entry``'s lesson and reset its knobs to their defaults."""
        self.entry = entry
        self.scroll_home(animate=False)
        markdown = self.query_one("#explanation", Markdown)
        problem = self.query_one("#problem", Static)
        knobs = self.query_one("#knobs", Vertical)
        await knobs.remove_children()
        self._rows = []
        sc = entry.scenario
        if sc is None:
            await markdown.update(f"## {entry.title}\n\nThis file does not load.")
            problem.update(Text(str(entry.error), style="bold"))
            problem.display = True
            self.query_one("#knobs-title").display = False
            self.show_results(None)
            return
        problem.display = False
        await markdown.update(f"## {sc.title}\n\n*{sc.chapter} · {sc.backend}*\n\n{sc.explanation}")
        self.query_one("#knobs-title").display = bool(sc.knobs)
        self._rows = [KnobRow(n, k.default, k.help) for n, k in sc.knobs.items()]
        await knobs.mount_all(self._rows)
        self.show_results(None)

    def knob_values(self) -> dict[str, str]:
        """The knobs the learner changed, as typed (validated when the run starts)."""
        if self.entry is None or self.entry.scenario is None:
            return {}
        defaults = self.entry.scenario.knobs
        return {
            row.knob: row.input.value.strip()
            for row in self._rows
            if row.input.value.strip() != str(defaults[row.knob].default)
        }

    def show_results(self, results: list[ExpectationResult] | None) -> None:
        """List the expectations, with ✓ / ✗ and what was measured once a run has ended."""
        sc = self.entry.scenario if self.entry else None
        text = Text()
        if sc is None or not sc.expect:
            text.append("none", "dim")
        elif results is None:
            for exp in sc.expect:
                text.append("  •  ", "dim")
                text.append(exp.text or str(exp.that))
                text.append(f"   ({exp.that})\n", "dim")
        else:
            for r in results:
                text.append(" ✓ " if r.passed else " ✗ ", "bold green" if r.passed else "bold red")
                text.append(f" {r.text}")
                text.append(f"   [{r.detail}]\n" if r.detail else "\n", "dim")
        self.query_one("#expectations", Static).update(text)
