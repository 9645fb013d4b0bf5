"""Pilot tests of the readable run: help, details, focus and scrolling, resize, stop and
pause, failures, likely deadlocks, reload, the screenshot command."""

from __future__ import annotations

import time
from pathlib import Path

from textual.widgets import ContentSwitcher, Static

from tui_conc.scenario import load_catalog
from tui_conc.ui.app import TuiConcApp, make_app
from tui_conc.ui.screens.actor_detail import ActorDetail
from tui_conc.ui.screens.help import HelpScreen
from tui_conc.ui.widgets.actors_panel import ActorsPanel
from tui_conc.ui.widgets.banner import Banner
from tui_conc.ui.widgets.scenario_tree import ScenarioTree, shortened
from tui_conc.ui.widgets.status_bar import StatusBar

from .conftest import SCENARIOS
from .test_app import _open, _plain, _until


def _row_text(panel: ActorsPanel, key: str) -> str:
    strip = panel._draw(panel._live_cells[key], panel.rich_style)
    return "".join(segment.text for segment in strip)


async def test_help_opens_with_question_mark_and_f1_and_lists_keys_and_states() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            text = _plain(app.screen.query_one(Static))
            assert "quit" in text and "blocked" in text and "▓" in text and "Locks" in text
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)


async def test_the_footer_offers_only_what_applies_now() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(_open(app, "semaphore_pool"))
        await pilot.pause()
        assert app.check_action("pause", ()) is False and app.check_action("stop", ()) is False
        assert app.check_action("quit", ()) is True
        # long enough that a busy machine cannot skip "running" between two looks
        app.knob_overrides[app.entry.path] = {"hold": "3", "workers": "6"}
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "running", timeout=40)
        assert app.check_action("pause", ()) and app.check_action("stop", ())
        await _until(pilot, lambda: app.source.status == "finished", timeout=60)
        await pilot.pause(0.2)
        assert app.check_action("pause", ()) is False and app.check_action("stop", ()) is False


async def test_enter_on_an_actor_opens_its_details_with_its_step_in_the_file() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_entry(_open(app, "deadlock_mutex"))
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "deadlock")
        await pilot.pause(0.2)
        panel = app.query_one(ActorsPanel)
        panel.focus()
        await pilot.pause()
        first = panel.row_keys[0]  # a member of the cycle comes first
        assert "◆" in _row_text(panel, first)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ActorDetail)
        text = _plain(app.screen.query_one("#detail", Static))
        assert "holds mutex" in text and "blocked on mutex" in text
        assert "deadlock" in text and "▶" in text  # its YAML line, marked
        assert "states" in text and "running" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ActorDetail)


async def test_keyboard_focus_scrolls_the_actors_and_the_filter_keys_work() -> None:
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        app.open_entry(_open(app, "race_counter"))
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "finished", timeout=20)
        await pilot.pause(0.2)
        panel = app.query_one(ActorsPanel)
        panel.focus()
        await pilot.press("pagedown", "pagedown")  # a page down from the page's end scrolls
        await pilot.pause()
        assert panel.scroll_y > 0 and panel.cursor > 0
        await pilot.press("end")
        await pilot.pause()
        assert panel.cursor == len(panel.row_keys) - 1
        await pilot.press("home")
        await pilot.pause()
        assert panel.scroll_y == 0
        await pilot.press("f")  # live only: every actor is done
        await pilot.pause()
        assert panel.row_keys == [] and "live only" in panel.border_title
        await pilot.press("f", "f")
        await pilot.pause()
        assert len(panel.row_keys) == 100


async def test_resizing_lays_out_from_the_new_size() -> None:
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        app.open_entry(_open(app, "producer_consumer"))
        await pilot.press("r")
        await pilot.pause(0.3)
        tree = app.query_one(ScenarioTree)
        assert app.query_one(ContentSwitcher).current == "run" and tree.display
        for width, shown in ((80, False), (120, True), (60, False), (200, True)):
            await pilot.resize_terminal(width, 30)
            await pilot.pause(0.2)
            assert tree.display is shown, width
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        await pilot.press("escape")  # the list comes back, at any size
        await pilot.pause()
        assert tree.display and tree.has_focus
        await pilot.press("x")


async def test_a_stop_says_stopped_and_is_not_graded() -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_entry(_open(app, "semaphore_pool"))
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "running")
        await pilot.pause(0.5)
        await pilot.press("x")
        await _until(pilot, lambda: app.results is not None)
        assert [r.outcome for r in app.results] == ["not checked"] * 3
        assert "not checked" in _plain(app.query_one(StatusBar))
        panel = app.query_one(ActorsPanel)
        assert any("stopped (" in _row_text(panel, key) for key in panel.row_keys)
        # after a verdict, x says STOPPED too
        app.open_entry(_open(app, "deadlock_mutex"))
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "deadlock")
        await pilot.press("x")
        await pilot.pause(0.3)
        status = _plain(app.query_one(StatusBar))
        assert "DEADLOCK" in status and "STOPPED" in status


async def test_paused_time_does_not_count_and_parked_actors_say_where(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_entry(_open(app, "semaphore_pool"))
        app.knob_overrides[app.entry.path] = {"hold": "0.3"}
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "running", timeout=30)  # a busy CI
        await pilot.press("space")
        await _until(pilot, lambda: app.source.status == "paused", timeout=30)
        paused_at, pause_began = app.source.snapshot().elapsed_s, time.monotonic()
        await pilot.pause(2.5)
        snapshot = app.source.snapshot()
        assert snapshot.elapsed_s - paused_at < 0.5  # 2.5 s paused, not counted
        assert any(a.parked for a in snapshot.actors)
        await pilot.pause(0.2)
        panel = app.query_one(ActorsPanel)
        assert any("paused before L" in _row_text(panel, key) for key in panel.row_keys)
        resumed = time.monotonic()
        await pilot.press("space")
        await _until(pilot, lambda: app.source.status == "finished", timeout=20)
        snapshot = app.source.snapshot()
        wall = (snapshot.now - snapshot.t0) / 1e9
        # the runner paused before the app saw it and resumed after the key: all the
        # time held here is left out (the keys' own latency, 1.3 s once on a busy CI,
        # is left out too: only a lower bound is certain) ...
        assert wall - snapshot.elapsed_s >= resumed - pause_began - 0.05
        # ... and nothing more than the pause: 20 workers, 5 permits, 0.3 s holds
        # (4 waves; a hold under way goes on during the pause: it parks between steps)
        assert snapshot.elapsed_s >= 3 * 0.3, (wall, snapshot.elapsed_s)


FAILS = """title: fails
chapter: Test
resources:
  q: queue
actors:
  consumer:
    steps:
      - sleep: 0.1
      - let: {x: 1 // 0}
  other:
    steps: [{sleep: 0.2}]
"""


async def test_a_failure_is_loud(tmp_path: Path) -> None:
    (tmp_path / "fails.yaml").write_text(FAILS)
    app = TuiConcApp(load_catalog(tmp_path))
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_entry(app.entries[0])
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "finished")
        await pilot.pause(0.3)
        banner = _plain(app.query_one(Banner))
        assert "FAILED: consumer failed at line 9: ZeroDivisionError" in banner
        assert app.query_one(Banner).has_class("-failed")
        assert "1 FAILED" in _plain(app.query_one(StatusBar))
        assert any("✗ failed: line 9" in text for text in app.source.log_texts())


LIKELY = """title: likely
chapter: Test
resources:
  gate: lock
actors:
  a:
    steps: [{acquire: gate}, {acquire: gate}, {log: through}]
  janitor:
    steps: [{sleep: 1.5}, {release: gate}]
"""


async def test_a_likely_deadlock_is_said_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "likely.yaml").write_text(LIKELY)
    app = TuiConcApp(load_catalog(tmp_path))
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_entry(app.entries[0])
        await pilot.press("r")
        banner = app.query_one(Banner)
        await _until(pilot, lambda: banner.has_class("-suspect"), timeout=5)
        assert "LIKELY DEADLOCK" in _plain(banner) and "unless janitor" in _plain(banner)
        await _until(pilot, lambda: app.source.status == "finished", timeout=10)
        await pilot.pause(0.3)
        assert not banner.has_class("-suspect")
        assert len(app.source.suspicions) == 1


async def test_an_edited_file_is_read_again_on_run(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text((SCENARIOS / "race_counter_lock.yaml").read_text())
    app = TuiConcApp(load_catalog(tmp_path), folder=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_entry(app.entries[0])
        await pilot.pause()
        path.write_text(path.read_text().replace('title: "Fixed: a Lock on num"', "title: Edited"))
        await pilot.press("r")
        await pilot.pause(0.3)
        assert app.entry.title == "Edited"
        await pilot.press("x")
        (tmp_path / "second.yaml").write_text((SCENARIOS / "redis_event.yaml").read_text())
        await pilot.press("R")
        await pilot.pause()
        assert len(app.entries) == 2


async def test_the_screenshot_command_saves_where_it_says(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TUI_CONC_SCREENSHOTS", str(tmp_path))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        saved = app.deliver_screenshot()
        await pilot.pause()
        assert saved is not None and Path(saved).parent == tmp_path and Path(saved).exists()
        assert any(saved in str(n.message) for n in app._notifications)


def test_cut_titles_stay_apart() -> None:
    titles = ["IO multiplexing: select", "IO multiplexing: selectors", "Race: lost updates"]
    for width in range(8, 30):
        labels = shortened(titles, width)
        assert len(set(labels)) == len(labels), (width, labels)
        assert all(len(label) <= width for label in labels)


async def test_the_list_at_80_columns_shows_no_two_titles_alike() -> None:
    app = make_app()
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        tree = app.query_one(ScenarioTree)
        labels = [str(node.label) for node in tree._leaves()]
        assert len(set(labels)) == len(labels)
        assert any(label.endswith("…") for label in labels)  # titles were cut, and differ
    started = time.perf_counter()
    assert time.perf_counter() - started < 1
