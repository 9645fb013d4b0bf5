"""The Lesson tab: what the scenario teaches, its knobs, and its expectations."""

from __future__ import annotations

import re

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from tui_conc.scenario import Entry, chapters
from tui_conc.state.expectations import ExpectationResult
from tui_conc.ui.widgets.code_block import CodeBlock
from tui_conc.ui.widgets.styles import OUTCOME_MARKS

WELCOME_KEYS = (
    ("↑ ↓ enter", "choose a scenario (ctrl+p finds one by name)"),
    ("r", "run it on real threads; r again restarts"),
    ("k", "change its knobs (workers, sleep times, seed…)"),
    ("space", "pause / resume"),
    ("x", "stop: the run's process is killed at once"),
    ("1 2", "lesson / live panels"),
    ("q", "quit"),
)


def markdown(text: str) -> RenderableType:
    """Render markdown with Rich (imported on first use, off the startup path)."""
    from rich.markdown import Markdown

    return Markdown(text)


def prewarm() -> None:
    """Import the markdown and highlighting machinery ahead of the first lesson."""
    from rich.syntax import Syntax

    markdown("```python\nx = 1\n```")
    Syntax("x = 1", "python").highlight("x = 1")


#: A traced program's source is shown up to this many lines.
PROGRAM_LINES = 400
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*$", re.S | re.M)


def lesson_parts(text: str) -> list[Widget]:
    """A lesson's markdown as widgets: prose as markdown, each fenced block of code as
    a :class:`CodeBlock` (never wrapped in the middle of a line)."""
    parts: list[Widget] = []
    at = 0
    for match in _FENCE.finditer(text):
        prose = text[at : match.start()].strip()
        if prose:
            parts.append(Static(markdown(prose), classes="prose"))
        parts.append(CodeBlock(match.group(2), match.group(1) or "python"))
        at = match.end()
    rest = text[at:].strip()
    if rest:
        parts.append(Static(markdown(rest), classes="prose"))
    return parts


def welcome(entries: list[Entry]) -> Text:
    """The overview shown before a scenario is picked: chapters and keys."""
    text = Text()
    text.append("tui-conc", "bold")
    text.append(" — Python concurrency, on real threads, with live panels\n\n")
    for chapter, members in chapters(entries):
        text.append(f"  {chapter}", "bold cyan")
        text.append(f"  {len(members)} scenario{'s' if len(members) > 1 else ''}\n", "dim")
    text.append("\n")
    for keys, what in WELCOME_KEYS:
        text.append(f"  {keys:<10}", "bold yellow")
        text.append(f" {what}\n")
    bad = sum(not e.valid for e in entries)
    if bad:
        text.append(f"\n  {bad} file(s) do not load: they are listed in red.", "bold red")
    return text


class LessonView(VerticalScroll):
    """The explanation (markdown), the knobs for the next run, the expectations."""

    DEFAULT_CSS = """
    LessonView { scrollbar-gutter: stable; }
    LessonView > Static, LessonView #explanation > Static { padding: 0 1; }
    LessonView #explanation { height: auto; }
    LessonView #problem { color: $error; padding: 1; display: none; }
    LessonView #knobs, LessonView #expectations, LessonView #backend { padding: 1 1 0 1; }
    """

    def __init__(self, entries: list[Entry], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entry: Entry | None = None
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical(id="explanation"):
            yield Static(welcome(self.entries))
        yield Static(id="problem")
        yield Static(id="backend")
        yield Static(id="knobs")
        yield Static(id="expectations")

    def show_welcome(self) -> None:
        """Back to the overview shown before a scenario is picked."""
        self.entry = None
        self._explain([Static(welcome(self.entries))])
        self.query_one("#problem", Static).display = False
        self.query_one("#knobs", Static).update("")
        self.query_one("#expectations", Static).update("")
        self.query_one("#backend", Static).update("")

    def show_entry(self, entry: Entry, knobs: dict[str, str]) -> None:
        """Show ``entry``'s lesson with the knob values the next run will use."""
        self.entry = entry
        self.scroll_home(animate=False)
        problem = self.query_one("#problem", Static)
        sc = entry.scenario
        if sc is None:
            self._explain([Static(markdown(f"## {entry.title}\n\nThis file does not load:"))])
            problem.update(Text(str(entry.error), style="bold"))
            problem.display = True
            self.query_one("#knobs", Static).update("")
            self.show_results(None)
            return
        problem.display = False
        lesson = f"## {sc.title}\n\n*{sc.chapter} · {sc.backend}*\n\n{sc.explanation}"
        self._explain(lesson_parts(lesson))
        self.show_knobs(knobs)
        self.show_results(None)

    def show_program(self, label: str, argv: list[str], source: str) -> None:
        """A traced program instead of a lesson: what is traced, and its source."""
        self.entry = None
        self.scroll_home(animate=False)
        self.query_one("#problem", Static).display = False
        self.query_one("#knobs", Static).update("")
        self.query_one("#backend", Static).update("")
        self.show_results(None)
        shown = "\n".join(source.splitlines()[:PROGRAM_LINES])
        cut = "\n\n*(the rest of the file is not shown)*" if shown != source.rstrip() else ""
        text = (
            f"## {label} (traced)\n\n*a program, run unmodified on real threads* · "
            f"`{' '.join(argv)}`\n\n"
            "Its threads are named as the program names them; its locks, semaphores, events, "
            "conditions, barriers and queues by the variable it assigns them to (else by type "
            "and line). Its output is the Log, line by line with the thread that wrote it. "
            "Press **2** for the panels, **r** to run it again, **x** to stop it.\n\n"
            "Not seen: objects made before it started, C-level locks, the standard "
            "library's and installed packages' own locks, greenlets, and what happens "
            "inside child processes (their output is in the Log). A thread that waits on "
            "something unseen is never called stuck: no verdict is given on a guess.\n\n"
            f"```python\n{shown}\n```{cut}"
        )
        self._explain(lesson_parts(text))

    def _explain(self, parts: list[Widget]) -> None:
        box = self.query_one("#explanation", Vertical)
        box.remove_children()
        box.mount_all(parts)

    def show_backend(self, supported: list[str], chosen: str) -> None:
        """Which backends the scenario runs on, and the one the next run uses."""
        text = Text.assemble(("Runs on  ", "bold underline"))
        for name in supported:
            text.append(f" {name} ", "bold reverse" if name == chosen else "dim")
            text.append(" ")
        if len(supported) > 1:
            text.append(" press b to switch", "dim")
        self.query_one("#backend", Static).update(text)

    def show_knobs(self, overrides: dict[str, str]) -> None:
        """The knob table: name, the value the next run uses, help; changed values stand out."""
        sc = self.entry.scenario if self.entry else None
        widget = self.query_one("#knobs", Static)
        if sc is None or not sc.knobs:
            widget.update("")
            return
        table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        table.add_column(style="dim")
        for name, knob in sc.knobs.items():
            value = overrides.get(name)
            shown = (
                Text(value, style="bold yellow") if value is not None else Text(str(knob.default))
            )
            table.add_row(name, shown, knob.help)
        title = Text.assemble(("Knobs", "bold underline"), ("  press k to change them", "dim"))
        widget.update(Group(title, table))

    def show_results(self, results: list[ExpectationResult] | None) -> None:
        """List the expectations, with ✓ ✗ ? – and what was measured once a run has ended."""
        sc = self.entry.scenario if self.entry else None
        text = Text.assemble(("Expectations", "bold underline"))
        if sc is None or not sc.expect:
            text.append("\nnone", "dim")
        elif results is None:
            text.append("  checked when the run ends", "dim")
            for exp in sc.expect:
                text.append("\n •  ", "dim")
                text.append(exp.text or str(exp.that))
                text.append(f"   ({exp.that})", "dim")
        else:
            for r in results:
                mark, style = OUTCOME_MARKS[r.outcome]
                text.append(f"\n {mark} ", style)
                text.append(f" {r.text}")
                if r.detail:
                    text.append(f"   [{r.detail}]", "dim")
        self.query_one("#expectations", Static).update(text)
