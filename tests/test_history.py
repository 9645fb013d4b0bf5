"""Seeking in a recorded run: any cursor gives exactly the state of folding up to it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tui_conc.engine.wire import codec
from tui_conc.engine.wire.codec import TraceError
from tui_conc.engine.wire.events import CLOCK
from tui_conc.engine.wire.trace import load_trace
from tui_conc.session import LiveRun
from tui_conc.state import history as hist
from tui_conc.state.fold import StateFolder
from tui_conc.state.history import build_history

from .conftest import SCENARIOS, TRACES


def folded(header: dict, events: list, upto: int):
    folder = StateFolder(header)
    folder.fold(events[:upto])
    return folder.snapshot("running", now=folder.now)


def traces(process_trace: Path) -> list[Path]:
    return [*sorted(TRACES.glob("*.trace")), process_trace]


def test_every_cursor_gives_the_state_of_folding_up_to_it(process_trace, monkeypatch) -> None:
    monkeypatch.setattr(hist, "REPLAY_EVERY", 7)  # many checkpoints, even in short traces
    monkeypatch.setattr(hist, "REPLAY_SHARE", 1e9)
    rng = random.Random(5)
    many = 0
    for path in traces(process_trace):
        trace = load_trace(path)
        history, final, problem = build_history(path)
        assert problem is None
        assert history.total == len(trace.events), path.name
        many = max(many, len(history.checkpoints))
        assert final.snapshot("running", now=final.now) == folded(trace.header, trace.events, 10**9)
        cursors = [0, history.total, *(rng.randrange(history.total + 1) for _ in range(25))]
        for cursor in cursors + sorted(cursors) + sorted(cursors, reverse=True):
            got = history.state_at(cursor)
            assert got.count == cursor
            assert got.snapshot("running", now=got.now) == folded(
                trace.header, trace.events, cursor
            ), (path.name, cursor)
        history.close()
    assert many > 5  # checkpoints come at frame ends: some trace had many


def test_a_time_gives_the_cursor_of_every_event_up_to_it(process_trace) -> None:
    for path in traces(process_trace):
        trace = load_trace(path)
        history, _, _ = build_history(path)
        now, times = trace.header["t0"], []
        for e in trace.events:
            if e[0] >= CLOCK:
                now = e[3]
            times.append(now)
        for t in {times[0] - 1, times[len(times) // 2], times[-1], times[-1] + 10**9}:
            assert history.cursor_at(t) == sum(1 for x in times if x <= t), (path.name, t)
        history.close()


def test_next_and_previous_events_skip_clock_readings_and_other_actors(process_trace) -> None:
    trace = load_trace(TRACES / "deadlock_mutex.trace")
    history, _, _ = build_history(TRACES / "deadlock_mutex.trace")
    events = trace.events
    real = [i for i, e in enumerate(events) if e[0] != CLOCK]
    assert history.find(0, forward=True) == real[0] + 1
    assert history.find(real[3] + 1, forward=True) == real[4] + 1
    assert history.find(real[4] + 1, forward=False) == real[3] + 1
    assert history.find(len(events), forward=True) is None
    mine = [i for i, e in enumerate(events) if e[0] != CLOCK and e[1] == 1]
    assert history.find(0, forward=True, actor=1) == mine[0] + 1
    assert history.find(mine[2] + 1, forward=False, actor=1) == mine[1] + 1
    history.close()


def test_checkpoints_stay_within_their_bytes(monkeypatch, process_trace) -> None:
    monkeypatch.setattr(hist, "REPLAY_EVERY", 1)
    monkeypatch.setattr(hist, "REPLAY_SHARE", 1e9)
    monkeypatch.setattr(hist, "CHECKPOINTS_BYTES", 12_000)
    history, _, _ = build_history(process_trace)
    assert history.checkpoint_bytes <= 12_000 + max(len(c.state) for c in history.checkpoints)
    assert history.every > 1  # thinned out: the interval doubled
    trace = load_trace(process_trace)
    middle = history.total // 2
    got = history.state_at(middle)
    assert got.snapshot("running", now=got.now) == folded(trace.header, trace.events, middle)
    history.close()


def test_a_damaged_trace_gives_the_history_up_to_its_last_good_frame(tmp_path) -> None:
    data = (TRACES / "producer_consumer.trace").read_bytes()
    frames, offset = [], 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 4], "big") + 4
        frames.append(data[offset : offset + size])
        offset += size
    bad = tmp_path / "bad.trace"
    bad.write_bytes(b"".join(frames[:-1]) + codec.encode_frame([(99, 0, 0)]))
    history, folder, problem = build_history(bad)
    assert problem is not None and "read up to event" in problem
    assert history.total == folder.count
    assert history.state_at(10**9).count == folder.count
    with pytest.raises(TraceError, match="not a tui-conc trace"):
        (tmp_path / "junk.trace").write_bytes(b"\x00\x00\x00\x02hi")
        build_history(tmp_path / "junk.trace")


@pytest.mark.parametrize(
    ("name", "backend"), [("deadlock_mutex", "thread"), ("pool_five", "process")]
)
def test_a_live_run_keeps_its_history_as_it_goes(tmp_path, monkeypatch, name, backend) -> None:
    monkeypatch.setattr(hist, "CHECKPOINT_EVERY", 5)
    monkeypatch.setattr(hist, "CHECKPOINT_SHARE", 1e9)
    path = tmp_path / "run.trace"
    run = LiveRun(
        SCENARIOS / f"{name}.yaml",
        {"tasks": 6} if backend == "process" else {},
        record=path,
        backend=backend,
    ).start()
    assert run.wait(60)
    run.stop()
    history, folder = run.history, run.folder
    assert history is not None and folder is not None
    assert history.total == folder.count
    got = history.state_at(history.total)
    assert got.snapshot("running", now=got.now) == folder.snapshot("running", now=folder.now)
    # the file says the same: a replay builds the same history
    again, _, problem = build_history(path)
    assert problem is None and again.total == history.total
    middle = history.state_at(history.total // 2).snapshot("running", now=0)
    assert again.state_at(history.total // 2).snapshot("running", now=0) == middle


def test_a_recording_past_its_cap_stops_and_its_history_ends_there(tmp_path) -> None:
    path = tmp_path / "capped.trace"
    run = LiveRun(SCENARIOS / "stress_events.yaml", record=path, record_mb=0.5).start()
    assert run.wait(60)
    run.stop()
    assert any("reached its cap of 0.5 MB" in w for w in run.warnings), run.warnings
    assert path.stat().st_size <= 0.5 * 1024 * 1024
    history = run.history
    assert history is not None and history.cut is not None
    assert 0 < history.total < run.folder.count
    got = history.state_at(10**12)
    assert got.count == history.total


def test_the_state_at_a_time_is_the_state_at_its_cursor(process_trace, monkeypatch) -> None:
    monkeypatch.setattr(hist, "REPLAY_EVERY", 11)
    for path in traces(process_trace):
        history, _, _ = build_history(path)
        t0, t1 = history.nows[0], history.nows[-1]
        rng = random.Random(3)
        for t in [t0 - 1, t1, *(rng.randint(t0, t1) for _ in range(20))]:
            by_time = history.state_at_time(t).snapshot("running", now=0)
            cursor = history.cursor_at(t)
            assert history.state_at(cursor).snapshot("running", now=0) == by_time, (path, t)
        history.close()
