"""Pilot tests of looking back in a run: [ ] { } end, the Timeline's keys, replay, save;
the recordings cache; the command line's replay and export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tui_conc import recordings
from tui_conc.scenario import load_entry
from tui_conc.session import ReplayRun
from tui_conc.state.model import FINAL_STATUSES
from tui_conc.ui.app import make_app
from tui_conc.ui.widgets.actors_panel import ActorsPanel
from tui_conc.ui.widgets.status_bar import StatusBar
from tui_conc.ui.widgets.timeline_view import TimelineView

from .conftest import SCENARIOS, TRACES
from .test_app import _open, _plain, _until


def replaying(stem: str):
    return make_app(
        source_factory=lambda entry, overrides, backend: ReplayRun(TRACES / f"{stem}.trace")
    )


async def _ran(pilot, stem: str) -> None:
    app = pilot.app
    app.open_entry(_open(app, stem))
    await pilot.press("r")
    # (a live run is "starting" before it is "running": wait for its verdict)
    await _until(pilot, lambda: app.latest is not None and app.latest.status in FINAL_STATUSES, 30)


async def test_brackets_step_back_through_events_and_end_returns_to_now() -> None:
    app = replaying("deadlock_mutex")
    async with app.run_test(size=(100, 30)) as pilot:
        await _ran(pilot, "deadlock_mutex")
        assert app.latest.status == "deadlock" and app.cursor is None
        history = app.source.history
        await pilot.press("left_square_bracket")
        assert app.cursor is not None and app.cursor < history.total
        first = app.cursor
        for _ in range(40):
            await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.cursor < first
        assert app.latest.past and app.latest.status == "running"  # before the deadlock formed
        assert app.latest.events_folded == app.cursor
        assert "AT " in _plain(app.query_one(StatusBar))
        await pilot.press("right_square_bracket")
        assert app.cursor > 0
        await pilot.press("end")
        await pilot.pause()
        assert app.cursor is None and app.latest.status == "deadlock"
        assert "AT " not in _plain(app.query_one(StatusBar))


async def test_curly_brackets_follow_the_selected_actor() -> None:
    app = replaying("deadlock_mutex")
    async with app.run_test(size=(100, 30)) as pilot:
        await _ran(pilot, "deadlock_mutex")
        panel = app.query_one(ActorsPanel)
        panel.focus()
        await pilot.pause()
        actor = int(panel.selected_key)
        history = app.source.history
        cursor = history.total
        for _ in range(3):
            await pilot.press("left_curly_bracket")
            assert app.cursor is not None and app.cursor < cursor
            cursor = app.cursor
            # the event just before the cursor is the selected actor's
            assert history.find(cursor - 1, forward=True, actor=actor) == cursor


async def test_the_timeline_moves_zooms_and_sets_the_panels() -> None:
    app = replaying("pool_five")
    async with app.run_test(size=(120, 36)) as pilot:
        await _ran(pilot, "pool_five")
        await pilot.press("3")
        await pilot.pause(0.2)
        timeline = app.query_one(TimelineView)
        assert timeline.has_focus and timeline.data is not None
        assert len(timeline.data.order) == len(app.latest.actors)
        await pilot.press("home")
        await pilot.pause()
        assert app.cursor == 0 or app.cursor is not None
        start_cursor = app.cursor
        for _ in range(5):
            await pilot.press("shift+right")
        await pilot.pause()
        assert app.cursor > start_cursor
        seconds = timeline.cursor
        _, span = timeline.window()
        await pilot.press("plus")
        await pilot.pause()
        assert timeline.window()[1] < span  # zoomed in, around the cursor
        start, narrower = timeline.window()
        assert start <= seconds - timeline.data.t0 <= start + narrower  # the window: since t0
        await pilot.press("minus", "minus", "minus", "minus", "minus")
        assert timeline.window()[1] == span  # never wider than the run
        await pilot.press("end")
        await pilot.pause()
        assert app.cursor is None and timeline.cursor is None


async def test_a_replay_plays_pauses_changes_speed_and_ends_as_the_run_did() -> None:
    trace = TRACES / "producer_consumer.trace"
    run = ReplayRun(trace)
    entry = load_entry(SCENARIOS / "producer_consumer.yaml")
    app = make_app(replay=(entry, run))
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.playback is not None)
        assert "REPLAY ▶ 1×" in _plain(app.query_one(StatusBar))
        await _until(pilot, lambda: app.cursor is not None and app.cursor > 0)
        await pilot.press("space")  # pause
        await pilot.pause(0.3)
        held = app.cursor
        await pilot.pause(0.3)
        assert app.cursor == held and not app.playback.playing
        for _ in range(6):
            await pilot.press("greater_than_sign")
        assert app.playback.speed == 10
        await pilot.press("space")
        await _until(pilot, lambda: app.cursor is None, timeout=10)  # played to the end
        await pilot.pause(0.2)
        assert app.latest.status == "finished" and not app.latest.past
        assert app.check_action("stop", ()) is False and app.check_action("knobs", ()) is False
        for _ in range(6):  # slow again: at 10× a busy machine's key latency is half the run
            await pilot.press("less_than_sign")
        await pilot.press("r")  # from the start again
        assert app.playback.playing and app.cursor is not None
        assert app.cursor < run.history.total // 2


async def test_s_saves_the_recording_and_the_report(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TUI_CONC_SAVE", str(tmp_path))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ran(pilot, "deadlock_mutex")
        await pilot.press("s")
        await pilot.pause()
    saved = sorted(p.suffix for p in tmp_path.iterdir())
    assert saved == [".json", ".trace", ".txt"]
    report = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert report["outcome"] == "deadlock"
    again = ReplayRun(next(tmp_path.glob("*.trace")))
    assert again.status == "deadlock" and not again.warnings


def test_the_cache_keeps_the_newest_recordings_within_its_caps(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TUI_CONC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(recordings, "KEEP_RUNS", 3)
    made = []
    for k in range(5):
        path = recordings.new_recording(f"s{k}")
        path.write_bytes(b"x" * 10)
        os.utime(path, (1_000 + k, 1_000 + k))
        made.append(path)
    left = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert left == sorted(p.name for p in made[-3:])  # KEEP_RUNS: the new one and two before
    monkeypatch.setattr(recordings, "CACHE_MB", 0.000_01)  # 10 bytes: only the newest fits
    recordings.prune(tmp_path / "cache", keep=[made[-2]])
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        p.name for p in made[-2:]
    )


def test_replay_and_export_refuse_what_is_not_a_trace_in_one_line(tmp_path) -> None:
    junk = tmp_path / "junk.trace"
    junk.write_bytes(b"GIF89a")
    for args in (("replay", str(junk)), ("export", str(junk), str(tmp_path / "out.json"))):
        out = subprocess.run(
            [sys.executable, "-m", "tui_conc", *args], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 2, out
        assert out.stderr.count("\n") == 1 and "not a tui-conc trace" in out.stderr
        assert "Traceback" not in out.stderr


def test_export_writes_chrome_trace_json(tmp_path) -> None:
    out = tmp_path / "deadlock.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui_conc",
            "export",
            str(TRACES / "deadlock_mutex.trace"),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "trace events" in done.stdout
    assert json.loads(Path(out).read_text())["traceEvents"]


def _report(path, knobs: dict) -> dict:
    from tui_conc.scenario import load_scenario
    from tui_conc.session import LiveRun
    from tui_conc.state.expectations import check
    from tui_conc.state.report import build_report

    run = LiveRun(path, knobs).start()
    assert run.wait(60)
    run.stop()
    snapshot = run.snapshot(log_tail=0)
    results = check(load_scenario(path), snapshot, run.log_texts())
    return build_report(str(path), snapshot, results)


def test_the_diff_of_two_runs_names_what_changed() -> None:
    from tui_conc.state.compare import diff_reports

    path = SCENARIOS / "producer_consumer_bounded.yaml"
    small = _report(path, {"maxsize": 1, "items": 6, "eat_time": 0.05})
    large = _report(path, {"maxsize": 6, "items": 6, "eat_time": 0.05})
    lines = diff_reports(small, large)
    assert lines[0] == "knobs: maxsize 1 → 6"
    assert any(line.startswith("duration: ") for line in lines)
    (queue,) = [line for line in lines if line.startswith("q: ")]
    assert f"max depth 1 → {large['resources']['q']['max_depth']}" in queue
    assert "outcome" not in " ".join(lines)  # both finished: not a difference
    deadlock = _report(SCENARIOS / "deadlock_mutex.yaml", {"workers": 2})
    other = dict(deadlock, outcome="finished", cycle=[])
    lines = diff_reports(deadlock, other)
    assert "outcome: deadlock → finished" in lines
    assert any(line.startswith("deadlock cycle: worker-") and "→ none" in line for line in lines)


async def test_c_shows_the_run_before_above_this_one() -> None:
    app = make_app()
    async with app.run_test(size=(110, 40)) as pilot:
        app.open_entry(_open(app, "producer_consumer_bounded"))
        app.knob_overrides[app.entry.path] = {"items": "4", "eat_time": "0.01", "maxsize": "1"}
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "finished", timeout=20)
        app.knob_overrides[app.entry.path] = {"items": "4", "eat_time": "0.01", "maxsize": "4"}
        await pilot.press("r")
        await _until(pilot, lambda: app.source.status == "finished", timeout=20)
        await pilot.press("3")
        assert app.previous is not None and app.check_action("compare", ())
        await pilot.press("c")
        await pilot.pause(0.2)
        timeline = app.query_one(TimelineView)
        assert timeline.compared is not None
        assert "maxsize=1" in timeline.compared.title
        assert "knobs: maxsize 1 → 4" in timeline.compared.differences
        rows = [row[0] for row in timeline._layout]
        assert rows.count("title") == 2 and rows[0] == "note"
        await pilot.press("c")
        await pilot.pause(0.2)
        assert timeline.compared is None
