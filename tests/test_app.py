"""Pilot tests: the keys do what the footer says, on live runs."""

from __future__ import annotations

import os
import time

from textual.widgets import ContentSwitcher, Static

from tui_conc.scenario import load_catalog
from tui_conc.ui.app import TuiConcApp, make_app
from tui_conc.ui.screens.knobs import KnobsScreen
from tui_conc.ui.widgets.banner import Banner

from .conftest import SCENARIOS, gone


async def _until(pilot, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting in the app"
        await pilot.pause(0.05)


def _open(app: TuiConcApp, stem: str):
    return next(e for e in app.entries if e.path.stem == stem)


def _lesson_text(app: TuiConcApp) -> str:
    """The lesson's text: its prose and code, part by part."""
    return "\n".join(_plain(part) for part in app.query("#explanation Static").results(Static))


def _plain(widget: Static) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=open(os.devnull, "w"))
    console.print(widget.content)
    return console.export_text()


async def test_arrow_keys_switch_the_lesson() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.entry is None
        assert "Python concurrency" in _lesson_text(app)
        await pilot.press("down")
        await pilot.pause()
        first = app.entry
        assert first is not None and first.title in _lesson_text(app)
        await pilot.press("down")
        await pilot.pause()
        assert app.entry is not None and app.entry is not first
        assert app.entry.title in _lesson_text(app)
        await pilot.press("2")
        assert app.query_one(ContentSwitcher).current == "run"
        assert not app.query_one("#scenarios").display  # narrow: the run view takes the width
        await pilot.press("escape")
        assert app.query_one(ContentSwitcher).current == "lesson"
        assert app.query_one("#scenarios").has_focus
        await pilot.press("enter")
        assert app.query_one(ContentSwitcher).current == "lesson"


async def test_run_shows_the_panels_and_the_run_finishes() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(_open(app, "redis_event"))
        await pilot.press("r")
        assert app.query_one(ContentSwitcher).current == "run"
        await _until(pilot, lambda: app.source is not None and app.source.status == "running")
        await _until(pilot, lambda: app.results is not None)
        assert all(r.passed for r in app.results)
        assert app.source.status == "finished"


async def test_stop_then_restart() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(_open(app, "semaphore_pool"))
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "running")
        first = app.source
        pid = first.runner.pid
        await pilot.press("x")
        await _until(pilot, lambda: first.status == "stopped")
        assert gone(pid)
        await pilot.press("r")
        await _until(pilot, lambda: app.source is not first and app.source.status == "running")
        second_pid = app.source.runner.pid
    assert gone(second_pid)  # leaving the app ends the run


async def test_space_pauses_and_resumes() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(_open(app, "semaphore_pool"))
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "running")
        await pilot.press("space")
        await _until(pilot, lambda: app.source.status == "paused")
        await pilot.press("space")
        await _until(pilot, lambda: app.source.status == "running")
        await pilot.press("x")


async def test_deadlock_banner_and_quitting_a_deadlocked_run() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(_open(app, "deadlock_mutex"))
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "deadlock")
        await pilot.pause(0.1)
        banner = app.query_one(Banner)
        assert banner.has_class("-deadlock")
        assert "holds mutexA and waits for mutexB" in str(banner.render())
        pid = app.source.runner.pid
        assert not gone(pid)  # the deadlocked threads are still there to inspect
        started = time.perf_counter()
        await pilot.press("q")
    assert time.perf_counter() - started < 2
    assert gone(pid)


async def test_a_bad_knob_value_is_refused_with_a_message() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(_open(app, "deadlock_mutex"))
        await pilot.press("k")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, KnobsScreen)
        assert screen.focused is screen.fields["workers"]  # typing goes there at once
        await pilot.press("end", "ctrl+u", *"many")
        await pilot.pause()
        assert "not a whole number" in _plain(screen.query_one("#knob-error", Static))
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen  # still open, saying what is wrong
        assert "wants int" in _plain(screen.query_one("#knob-error", Static))
        await pilot.press("end", "ctrl+u", *"500", "enter")
        await pilot.pause()
        assert "above its maximum" in _plain(screen.query_one("#knob-error", Static))
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, KnobsScreen)
        assert app.knob_overrides == {}


async def test_choices_are_a_select_and_booleans_a_switch() -> None:
    from textual.widgets import Select, Switch

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(_open(app, "join_daemon"))
        await pilot.press("k")
        await pilot.pause()
        fields = app.screen.fields
        assert isinstance(fields["join"], Select) and isinstance(fields["daemon"], Switch)
        fields["join"].value = "both"
        fields["daemon"].value = True
        await pilot.press("enter")
        await pilot.pause()
        assert app.knob_overrides[app.entry.path] == {"join": "both", "daemon": "true"}
        assert any("Knobs set" in str(n.title) for n in app._notifications)  # confirmed


async def test_knob_edits_reach_the_run() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(_open(app, "deadlock_mutex"))
        await pilot.press("k")
        await pilot.pause()
        await pilot.press("end", "ctrl+u", "3", "space")  # a space in a knob must not pause
        await pilot.press("backspace", "enter")
        await pilot.pause()
        assert "3" in _plain(app.query_one("#knobs", Static))
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "deadlock")
        assert len(app.source.snapshot().actors) == 3
        await pilot.press("q")


async def test_invalid_file_shows_its_error_and_the_others_still_work(tmp_path) -> None:
    (tmp_path / "good.yaml").write_text((SCENARIOS / "redis_event.yaml").read_text())
    (tmp_path / "bad.yaml").write_text("title: broken\nchapter: x\nactors: 3\n")
    app = TuiConcApp(load_catalog(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        bad = next(e for e in app.entries if not e.valid)
        app.open_entry(bad)
        await pilot.press("r")
        await pilot.pause()
        assert app.source is None
        problem = _plain(app.query_one("#problem", Static))
        assert "bad.yaml:3:" in problem
        app.open_entry(next(e for e in app.entries if e.valid))
        await pilot.press("r")
        await _until(pilot, lambda: app.source is not None and app.source.status == "running")
        await pilot.press("x")


async def test_stop_kills_a_deadlocked_run_and_keeps_its_verdict() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(_open(app, "deadlock_mutex"))
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "deadlock")
        pid = app.source.runner.pid
        await pilot.press("x")
        await _until(pilot, lambda: gone(pid), timeout=2)
        assert app.source.status == "deadlock"
        assert app.query_one(Banner).has_class("-deadlock")


async def test_command_palette_opens_a_scenario_by_name() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"semaphore pool")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await _until(pilot, lambda: app.entry is not None)
        assert app.entry.path.stem == "semaphore_pool"
        assert app.query_one("#scenarios").cursor_node.data is app.entry


async def test_gevent_runs_in_its_runner_and_never_patches_the_app() -> None:
    import sys
    import threading
    import time

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(_open(app, "semaphore_pool"))
        # the lesson's timing expectations allow ~0.3 hold of lateness: at 0.2 s a
        # busy CI's late wake-ups went past it
        app.knob_overrides[app.entry.path] = {"hold": "0.5"}
        await pilot.press("b")
        assert app.backend_for(app.entry) == "process"
        await pilot.press("b")
        assert app.backend_for(app.entry) == "gevent"
        await pilot.press("r")
        await _until(pilot, lambda: app.results is not None, timeout=20)
        snapshot = app.source.snapshot()
        assert snapshot.status == "finished"
        assert snapshot.backend == "gevent" and snapshot.hub.switches > 0
        assert all(r.passed for r in app.results)
        pid = app.source.runner.pid
        app.knob_overrides[app.entry.path] = {"hold": "5"}
        await pilot.press("r")  # restart, then stop mid-run
        await _until(pilot, lambda: app.source.status == "running")
        second = app.source.runner.pid
        await pilot.press("x")
        await _until(pilot, lambda: gone(second), timeout=2)
    assert gone(pid)
    assert "gevent" not in sys.modules  # the app process never even imported it
    assert "eventlet" not in sys.modules
    assert time.sleep.__module__ == "time" and threading.Lock.__module__ == "_thread"


async def test_b_is_offered_only_where_a_scenario_has_several_backends() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(_open(app, "race_counter_lock"))
        await pilot.pause()
        assert app.check_action("backend", ()) is False  # not in the footer
        await pilot.press("b")
        await pilot.pause()
        assert app.backend_for(app.entry) == "thread"
        app.open_entry(_open(app, "semaphore_pool"))
        await pilot.pause()
        assert app.check_action("backend", ()) is True
        await pilot.press("b")
        await pilot.pause()
        assert app.backend_for(app.entry) == "process"


async def test_b_runs_the_deadlock_on_processes_and_stop_and_quit_leave_nothing() -> None:
    from .test_processes import in_group

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_entry(_open(app, "deadlock_mutex"))
        await pilot.press("b")
        assert app.backend_for(app.entry) == "process"
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "deadlock", timeout=20)
        await _until(pilot, lambda: "DEADLOCK" in _plain(app.query_one(Banner)))  # next redraw
        snapshot = app.source.snapshot()
        assert snapshot.backend == "process"
        started = [a for a in snapshot.actors if a.state != "new"]  # some may still be spawning
        assert len(started) >= 2 and all(a.pid is not None for a in started)
        in_cycle = {edge.actor for edge in snapshot.cycle}
        assert all(a.pid is not None for a in snapshot.actors if a.name in in_cycle)
        banner = _plain(app.query_one(Banner))
        assert "DEADLOCK" in banner and "mutexA" in banner
        first = app.source.runner.pid
        assert len(in_group(first)) > 2  # the runner, its children, the resource tracker
        await pilot.press("x")
        await _until(pilot, lambda: not in_group(first), timeout=3)
        await pilot.press("r")  # again, then quit in the middle of it
        await _until(pilot, lambda: app.source.status == "deadlock", timeout=20)
        second = app.source.runner.pid
        await pilot.press("q")
    deadline = time.monotonic() + 3
    while in_group(second) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not in_group(second)


async def test_the_pool_panel_shows_lanes_and_waiting_tasks() -> None:
    from .test_processes import in_group

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_entry(_open(app, "pool_five"))
        app.knob_overrides[app.entry.path] = {"tasks": "12", "seconds": "3"}
        await pilot.press("r")
        await _until(pilot, lambda: any(p.busy == 5 for p in app.source.snapshot().pools), 20)
        await pilot.pause(0.2)
        panel = app.query_one("PoolPanel")
        assert panel.display
        assert "5/5 busy" in str(panel.border_title)
        cells = [str(c) for row in panel._live_cells.values() for c in row]
        assert sum(c.startswith("work(n=") for c in cells) == 5
        assert any(c.startswith("waiting (7): work(n=5)") for c in cells), cells
        group = app.source.runner.pid
        await pilot.press("x")  # stopped inside the pool's tasks
        await _until(pilot, lambda: not in_group(group), timeout=3)
