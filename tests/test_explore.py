"""Exploration on real threads: it finds the lessons' bugs, proves the fixes within its
bound, and every schedule it prints replays to the failure it claims."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tui_conc.engine.scheduler.strategies import RandomWalk, Replay
from tui_conc.exploration.command import challenge_knobs
from tui_conc.exploration.runs import (
    NotExplorable,
    check_explorable,
    controlled_run,
    failure,
    stable,
)
from tui_conc.exploration.search import explore
from tui_conc.scenario import load_scenario
from tui_conc.state.fold import StateFolder

from .conftest import SCENARIOS

CLI = [sys.executable, "-m", "tui_conc"]


def _load(stem: str, **sets):
    path = SCENARIOS / f"{stem}.yaml"
    scenario = load_scenario(path)
    knobs = challenge_knobs(scenario, [f"{k}={v}" for k, v in sets.items()])
    return scenario, str(path), knobs


@pytest.mark.parametrize(
    ("stem", "claim"),
    [
        ("race_counter", "goal reached: num != start - workers"),
        ("deadlock_mutex", "goal reached: deadlock"),
        ("condition_lost_wakeup", "goal reached: stall"),
        ("dining_philosophers", "goal reached: deadlock"),
        ("queue_empty_check", "goal reached: stall"),
        ("condition_if_wait", "goal reached: log_count('not there') > 0"),
        ("semaphore_misuse", "goal reached: max_holders(pool) > permits"),
    ],
)
def test_dfs_finds_each_challenge_and_its_schedule_replays_to_it(stem: str, claim: str) -> None:
    scenario, path, knobs = _load(stem)
    out = explore(scenario, path, knobs, strategy="dfs", runs=20_000)
    assert out.found is not None, f"{stem}: nothing found in {out.runs} runs"
    assert out.found.reason.startswith(claim)
    # the smallest: no schedule with fewer preemptions reaches it (DFS went bound by bound)
    assert out.found.result.preemptions == out.bound
    again = controlled_run(scenario, path, knobs, Replay(out.found.result.choices, strict=True))
    assert failure(scenario, again) == out.found.reason
    assert stable(again.events) == stable(out.found.result.events)


def test_the_deadlock_that_free_runs_rarely_hit_is_found_with_its_cycle() -> None:
    scenario, path, knobs = _load("deadlock_mutex")
    assert knobs["hold"] == 0 and knobs["workers"] == 2
    out = explore(scenario, path, knobs, strategy="dfs")
    assert out.found is not None
    snapshot = out.found.result.snapshot
    assert snapshot is not None and snapshot.status == "deadlock"
    assert {e.actor for e in snapshot.cycle} == {"worker-0", "worker-1"}
    assert out.found.result.preemptions == 1


@pytest.mark.parametrize(
    "stem",
    ["race_counter_lock", "deadlock_fixed_order", "deadlock_rlock", "dining_philosophers_ordered"],
)
def test_dfs_exhausts_the_fixed_variants_without_a_false_failure(stem: str) -> None:
    scenario, path, knobs = _load(stem)
    out = explore(scenario, path, knobs, strategy="dfs", bound=2, runs=50_000)
    assert out.found is None, out.found and out.found.reason
    assert out.exhausted, out.stopped
    assert out.runs > 1


def test_a_buggy_variant_fails_where_its_fix_holds_on_the_same_goal() -> None:
    race, path, knobs = _load("race_counter")
    out = explore(race, path, knobs, goal="num != start - workers")
    assert out.found is not None and out.found.result.snapshot.variables[0].value == 99


def test_pct_and_the_random_walk_find_the_lost_update_too() -> None:
    scenario, path, knobs = _load("race_counter")
    for strategy in ("pct", "random"):
        out = explore(scenario, path, knobs, strategy=strategy, runs=500, seed=1)
        assert out.found is not None, strategy
    assert 0 < explore(scenario, path, knobs, strategy="pct", runs=3).pct_bound <= 1


def test_a_saved_schedule_replays_to_the_same_stream_and_state_100_times_of_100() -> None:
    scenario, path, knobs = _load("condition_if_wait")
    first = controlled_run(scenario, path, knobs, RandomWalk(seed=11))
    choices = first.choices
    want_stream = stable(first.events)
    want_state = _final_state(first)
    for _ in range(100):
        again = controlled_run(scenario, path, knobs, Replay(choices, strict=True))
        assert again.stop == first.stop
        assert stable(again.events) == want_stream
        assert _final_state(again) == want_state
    assert threading.active_count() < 10  # every run's threads are gone


def _final_state(result) -> tuple:
    folder = StateFolder(result.header)
    folder.fold(result.events)
    snap = result.snapshot
    return (
        snap.status,
        tuple((v.name, v.value) for v in snap.variables),
        tuple((a.name, a.state) for a in snap.actors),
        tuple((lock.name, lock.acquisitions, lock.max_holders) for lock in snap.locks),
        tuple(text for *_, text in folder.log),
    )


def test_what_cannot_be_controlled_is_refused_in_one_line() -> None:
    cases = [
        ("io_select", "socket|selector"),
        ("pool_five", "process"),
        ("eventlet_spawn", "eventlet"),
    ]
    for stem, what in cases:
        scenario = load_scenario(SCENARIOS / f"{stem}.yaml")
        with pytest.raises(NotExplorable, match=what):
            check_explorable(scenario)
    with pytest.raises(NotExplorable, match="processes"):
        check_explorable(load_scenario(SCENARIOS / "deadlock_mutex.yaml"), "process")


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_explore_prints_the_story_saves_it_and_run_replays_it(tmp_path: Path) -> None:
    saved = tmp_path / "race.schedule"
    done = _cli("explore", "race_counter", "--save", str(saved))
    assert done.returncode == 1, done.stderr  # found
    out = done.stdout
    assert "virtual time" in out and "FOUND" in out
    assert "worker-0  L29 read num: reads num = 100" in out
    assert "worker-1  L29 read num: reads num = 100" in out
    assert "writes num = 99" in out
    data = json.loads(saved.read_text())
    assert data["format"] == "tui-conc-schedule" and data["knobs"]["workers"] == 2
    replay = _cli("run", "race_counter", "--schedule", str(saved), "--json")
    report = json.loads(replay.stdout)
    assert report["variables"]["num"] == 99
    assert report["challenge"]["reached"] is True
    assert any("replayed schedule" in w for w in report["warnings"])


def test_a_replayed_deadlock_schedule_ends_in_the_same_verdict(tmp_path: Path) -> None:
    saved = tmp_path / "dm.schedule"
    assert _cli("explore", "deadlock_mutex", "--save", str(saved)).returncode == 1
    report = json.loads(_cli("run", "deadlock_mutex", "--schedule", str(saved), "--json").stdout)
    assert report["outcome"] == "deadlock"
    assert {e["actor"] for e in report["cycle"]} == {"worker-0", "worker-1"}


def test_explore_says_when_the_bounded_space_is_exhausted() -> None:
    done = _cli("explore", "deadlock_fixed_order", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["found"] is False and result["exhausted"] is True and result["bound"] == 2
    text = _cli("explore", "deadlock_fixed_order").stdout
    assert "no failing schedule among" in text and "preemption bound 2" in text


def test_a_schedule_that_no_longer_fits_is_refused_with_the_reason(tmp_path: Path) -> None:
    saved = tmp_path / "race.schedule"
    _cli("explore", "race_counter", "--save", str(saved))
    data = json.loads(saved.read_text())
    # another file: its content hash differs
    wrong = _cli("run", "race_counter_lock", "--schedule", str(saved))
    assert wrong.returncode == 2
    assert "the scenario changed since this schedule was saved" in wrong.stderr
    # a choice that cannot be made there: the run stops at that step and says so
    data["choices"][1:3] = ["worker-1", "worker-1", "worker-1", "worker-1"]
    data["choices"].insert(0, "worker-1")
    bad = tmp_path / "bad.schedule"
    bad.write_text(json.dumps(data))
    report = json.loads(_cli("run", "race_counter", "--schedule", str(bad), "--json").stdout)
    assert report["outcome"] == "error" and "is not enabled" in report["error"]
    for text, why in [("{", "not a schedule"), ('{"format": "x"}', "not a tui-conc schedule")]:
        bad.write_text(text)
        done = _cli("run", "race_counter", "--schedule", str(bad))
        assert done.returncode == 2 and why in done.stderr and "Traceback" not in done.stderr


def test_explore_refuses_what_it_cannot_drive_in_one_line() -> None:
    done = _cli("explore", "io_select")
    assert done.returncode == 2 and "cannot explore" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    done = _cli("explore", "race_counter", "--goal", "num !=")
    assert done.returncode == 2 and "--goal" in done.stderr


def test_on_gevent_a_choice_is_a_switch_so_the_space_is_smaller(tmp_path: Path) -> None:
    """Greenlets switch only where they sleep or block: the fixed philosophers' space,
    exhausted on both backends, is several times smaller on gevent."""
    runs = {}
    for backend in ("thread", "gevent"):
        done = _cli("explore", "dining_philosophers_ordered", "--backend", backend, "--json")
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out["backend"] == backend and out["exhausted"] and not out["found"]
        runs[backend] = out["runs"]
    assert runs["gevent"] * 5 < runs["thread"], runs


def test_a_gevent_deadlock_is_found_saved_and_replayed_on_gevent_only(tmp_path: Path) -> None:
    saved = tmp_path / "philosophers.schedule"
    done = _cli("explore", "dining_philosophers", "--backend", "gevent", "--save", str(saved))
    assert done.returncode == 1, done.stderr
    assert "on gevent, one switch at a time" in done.stdout and "FOUND" in done.stdout
    assert json.loads(saved.read_text())["backend"] == "gevent"
    replay = _cli("run", "dining_philosophers", "--schedule", str(saved), "--json")
    report = json.loads(replay.stdout)
    assert report["outcome"] == "deadlock" and report["challenge"]["reached"]
    assert len(report["cycle"]) == 3
    assert "switches, one switch at a time" in report["warnings"][0]
    wrong = _cli("run", "dining_philosophers", "--schedule", str(saved), "--backend", "thread")
    assert wrong.returncode == 2 and "found on gevent" in wrong.stderr


def test_replay_of_a_bad_schedule_file_is_refused_in_one_line(tmp_path: Path) -> None:
    orphan = tmp_path / "orphan.schedule"
    orphan.write_text(
        json.dumps(
            {
                "format": "tui-conc-schedule",
                "version": 1,
                "scenario": "gone.yaml",
                "knobs": {},
                "choices": ["worker-0"],
            }
        )
    )
    bad_knob = tmp_path / "knob.schedule"
    bad_knob.write_text(
        json.dumps(
            {
                "format": "tui-conc-schedule",
                "version": 1,
                "scenario": str(SCENARIOS / "race_counter.yaml"),
                "knobs": {"workers": 0},
                "choices": [],
            }
        )
    )
    for path, why in [(orphan, "is not here"), (bad_knob, "workers")]:
        done = _cli("replay", str(path))
        assert done.returncode == 2, done.stderr
        assert why in done.stderr and len(done.stderr.strip().splitlines()) == 1
