"""Chrome trace-event JSON: a structure Perfetto and chrome://tracing accept."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict

import pytest

from tui_conc.export.chrome import chrome_events, export_chrome

from .conftest import TRACES

ALL = sorted(TRACES.glob("*.trace"))


def check_structure(events: list[dict]) -> None:
    named: set[tuple[int, int]] = set()
    slices: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    flows: dict[int, list[dict]] = defaultdict(list)
    for e in events:
        assert e["ph"] in "MXsfiC", e
        if e["ph"] == "M":
            if e["name"] == "thread_name":
                named.add((e["pid"], e["tid"]))
            continue
        assert isinstance(e["ts"], int) and e["ts"] >= 0, e  # whole microseconds
        if e["ph"] == "X":
            assert isinstance(e["dur"], int) and e["dur"] >= 0, e
            slices[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"]))
        elif e["ph"] in "sf":
            flows[e["id"]].append(e)
        elif e["ph"] == "C":
            assert all(isinstance(v, int) for v in e["args"].values()), e
    for track, spans in slices.items():
        assert track in named, f"a track with slices but no name: {track}"
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, f"overlapping slices on {track}: ends {end}, next starts {start}"
    for pair in flows.values():
        assert sorted(e["ph"] for e in pair) == ["f", "s"], pair
        start, finish = sorted(pair, key=lambda e: e["ph"], reverse=True)
        assert finish["ts"] >= start["ts"] and finish.get("bp") == "e"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_every_trace_exports_a_well_formed_chrome_trace(path) -> None:
    events, folder, problem = chrome_events(path)
    assert problem is None
    check_structure(events)
    names = {e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert set(folder.actor_names) <= names


def test_a_process_run_gets_a_process_per_pid(process_trace) -> None:
    events, _, _ = chrome_events(process_trace)
    check_structure(events)
    pids = {e["pid"] for e in events if e["ph"] == "X" and e["cat"] == "state"}
    assert len(pids) >= 3  # main and the pool's workers, each its own process


def test_the_deadlock_export_names_the_cycle_and_the_hand_overs(tmp_path) -> None:
    out = tmp_path / "d.json"
    line = export_chrome(TRACES / "deadlock_mutex.trace", out)
    assert "trace events" in line
    events = json.loads(out.read_text())["traceEvents"]
    (verdict,) = [e for e in events if e["ph"] == "i" and e["s"] == "g"]
    assert verdict["name"] == "DEADLOCK"
    assert "worker-0" in verdict["args"]["cycle"] and "worker-1" in verdict["args"]["cycle"]
    held = [e for e in events if e["ph"] == "X" and e["cat"] == "lock"]
    assert {e["args"]["lock"] for e in held} == {"mutexA", "mutexB"}
    blocked = [e for e in events if e["ph"] == "X" and e["name"].startswith("blocked on mutex")]
    assert blocked
    assert any(e["ph"] == "s" for e in events)  # a lock handed from one worker to another


def test_queue_depths_become_counters() -> None:
    events, _, _ = chrome_events(TRACES / "producer_consumer.trace")
    depths = [e["args"]["depth"] for e in events if e["ph"] == "C"]
    assert depths and max(depths) >= 1 and min(depths) >= 0


def test_a_taken_back_lease_ends_the_hold_on_the_lock_track_and_is_marked() -> None:
    events, _, _ = chrome_events(TRACES / "dask_lease_expiry.trace")
    check_structure(events)  # two "holders" at once, yet no overlap on the lock's track
    (mark,) = [e for e in events if e["ph"] == "i" and e["name"].startswith("lease of")]
    assert mark["name"] == "lease of hog expired"
    held = sorted(
        (e["ts"], e["args"]["holder"]) for e in events if e["ph"] == "X" and e["cat"] == "lock"
    )
    assert [h for _, h in held] == ["hog", "other"]
    assert held[1][0] >= mark["ts"]  # other took it once the scheduler had it back
