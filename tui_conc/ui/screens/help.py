"""The help overlay: every key, what each state looks like, what each panel shows."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui_conc.ui.screens.overlay import Overlay
from tui_conc.ui.widgets.styles import STATE_GLYPHS, STATE_STYLES

KEYS = (
    ("↑ ↓  enter", "choose a scenario; enter opens its lesson"),
    ("r", "run it (again: restart); an edited file is read again first"),
    ("k", "its knobs for the next run"),
    ("b", "the backend of the next run (thread / process / gevent …)"),
    ("space", "pause / resume (actors stop at their next step)"),
    ("x", "stop: the run's process is killed at once"),
    ("1  2  3", "the lesson / the live panels / the timeline"),
    ("[  ]", "look back: the previous / next event; every panel shows the run then"),
    ("{  }", "the previous / next event of the selected actor (its row or its lane)"),
    ("end", "back to now"),
    ("← →  + -", "in the Timeline: move the cursor (shift: 10 columns), zoom; home / end"),
    ("s", "save the run: its recording (tui-conc replay opens it) and its report"),
    ("t", "take the wheel: step mode on threads or gevent; you choose who goes next"),
    ("1-9  enter", "in step mode: that actor takes one step (a blocked one cannot)"),
    ("a  u", "in step mode: the scheduler goes on until someone blocks / undo a step"),
    ("e", "explore: search the schedules for one that reaches the challenge"),
    ("<  >", "in a replay: slower / faster (space plays or pauses, r from the start)"),
    ("tab", "next panel; in a panel ↑ ↓ pgup pgdn home end scroll"),
    ("enter", "in Actors: the selected actor's details"),
    ("o  f", "in Actors: order (interesting first / declared), show (all / live / blocked)"),
    ("R", "read every scenario file again"),
    ("escape", "back to the scenario list"),
    ("ctrl+p", "find a scenario, save a screenshot, switch theme"),
    ("?  F1", "this help"),
    ("q", "quit (always at once; nothing is left running)"),
)

STATES = (
    ("running", "runs Python code"),
    ("blocked", "waits for a lock or semaphore, or to put / get on a queue"),
    ("waiting", "waits for an event, a notify, a join, a barrier, a pipe"),
    ("sleeping", "in time.sleep"),
    ("computing", "CPU-bound work (holds the GIL)"),
    ("io", "in a socket call or select"),
    ("done", "ended normally"),
    ("failed", "raised an exception (the banner says where)"),
    ("killed", "a daemon cut off at exit, or a process killed by a signal"),
)

PANELS = (
    (
        "Actors",
        "each thread, process or greenlet: what it holds and waits for "
        "(holds mutexB · blocked on mutexA), for how long, its states over the run, "
        "its step (the YAML line). ◆ marks a deadlock's members, ◇ a likely one's.",
    ),
    ("Pool", "a process pool: a lane per worker, its task, the tasks waiting or lost."),
    (
        "Locks & semaphores",
        "who holds each lock (×n: an RLock's count), a semaphore's "
        "permits, who waits (a cycle's member first); events, barriers, variables.",
    ),
    ("Queues", "depth against maxsize, its history over time, puts / gets, who is stuck."),
    ("Sockets", "listeners and connections, their traffic, the select calls."),
    ("Log", "what the actors log, with run time and actor."),
    (
        "Timeline",
        "a lane per actor (its states over time, a deadlock's members first), "
        "a lane per lock (who held it), semaphore values, queue depths, events; "
        "the cursor sets every panel to that instant (AT … in the status line).",
    ),
    (
        "Banners",
        "DEADLOCK (red) and STALL (yellow) are certain and end the run; "
        "LIKELY DEADLOCK (dark) is not certain and the run goes on; a failed actor "
        "and a blocked gevent hub are said too.",
    ),
)


def help_text() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold yellow", no_wrap=True)
    grid.add_column()
    grid.add_row(Text("Keys", style="bold underline"), "")
    for key, what in KEYS:
        grid.add_row(key, what)
    grid.add_row("", "")
    grid.add_row(Text("States", style="bold underline"), "")
    for state, what in STATES:
        glyph = STATE_GLYPHS[state]
        grid.add_row(
            Text.assemble((glyph * 3, STATE_STYLES[state]), " ", (state, STATE_STYLES[state])),
            what,
        )
    grid.add_row("", "")
    grid.add_row(Text("Panels", style="bold underline"), "")
    for panel, what in PANELS:
        grid.add_row(panel, what)
    return grid


class HelpScreen(Overlay):
    """Keys, the state legend and the panels; any of escape, q, ? or F1 closes it."""

    DEFAULT_CSS = "HelpScreen > VerticalScroll { width: 96; }"
    BINDINGS = [
        Binding("question_mark", "close", "Close", show=False),
        Binding("f1", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "tui-conc help · escape closes"
            yield Static(help_text())
