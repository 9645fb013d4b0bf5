"""The end-of-run report, built in-process: the --json contract and its text form."""

from __future__ import annotations

from tui_conc.scenario import parse_scenario
from tui_conc.state import model as sm
from tui_conc.state.expectations import check
from tui_conc.state.report import build_report, render_text

from .test_expectations import CYCLE, LOG, folded

SCENARIO = parse_scenario(
    "title: t\nchapter: c\nknobs:\n  n: 3\nactors:\n  w:\n    steps: [{log: hi}]\n"
    "expect:\n  - that: n == 3\n    text: three\n  - that: n == 4\n    text: four\n"
    "  - that: n == 3\n    when: n > 5\n    needs: six\n"
)


def report(cycle=()) -> dict:
    snapshot = folded().snapshot("deadlock" if cycle else "finished", cycle=cycle)
    suspicion = sm.Suspicion(1.25, CYCLE, ("main",))
    results = check(SCENARIO, snapshot, LOG)
    return build_report("f.yaml", snapshot, results, ["recording stopped"], [suspicion])


def test_the_json_report_carries_every_figure() -> None:
    r = report(CYCLE)
    assert (r["file"], r["title"], r["outcome"], r["duration_s"], r["events"]) == (
        "f.yaml",
        "t",
        "deadlock",
        3.0,
        r["events"],
    )
    assert r["cycle"] == [
        {"actor": "w-0", "holds": ["lk"], "waits_for": "sem"},
        {"actor": "w-1", "holds": ["sem"], "waits_for": "lk"},
    ]
    assert r["resources"]["lk"] == {
        "type": "lock",
        "max_holders": 1,
        "acquisitions": 2,
        "contended": 1,
        "waves": 2,
        "holders": [],
        "waiters": [],
    }
    assert r["resources"]["sem"]["max_holders"] == 2
    assert r["resources"]["q"] == {
        "type": "queue",
        "kind": "fifo",
        "maxsize": 2,
        "max_depth": 2,
        "depth": 0,
        "puts": 3,
        "gets": 3,
        "put_blocks": 1,
        "get_blocks": 1,
    }
    assert r["variables"] == {"num": 42}
    assert r["actors"] == {"w-0": "done", "w-1": "done", "main": "failed", "pool-w0": "running"}
    assert r["failures"] == {"main": "line 5: boom"}
    assert r["sockets"] == {
        "srv": {"accepted": 1, "max_open": 1, "empty_polls": 1, "bytes_in": 0, "bytes_out": 0}
    }
    assert r["selects"] == {"select.select": {"calls": 1, "blocked_s": 0.5}}
    assert r["pools"]["pool"] == {
        "workers": 1,
        "submitted": 3,
        "done": 1,
        "failed": 1,
        "lost": [],
        "killed": 0,
        "never_ran": 1,
        "max_busy": 1,
    }
    assert [(e["text"], e["status"], e["passed"]) for e in r["expectations"]] == [
        ("three", "passed", True),
        ("four", "failed", False),
        ("n == 3", "inconclusive", False),
    ]
    assert r["passed"] is False  # "four" failed; the inconclusive one is not a failure
    assert r["warnings"] == ["recording stopped"]
    assert r["suspected"] == [
        {"at_s": 1.25, "cycle": r["cycle"], "could_break": ["main"]},
    ]


def test_the_text_report_says_the_same_in_lines() -> None:
    text = render_text(report(CYCLE)).splitlines()
    assert text[0] == "t  (f.yaml)"
    assert text[1].startswith("outcome: deadlock   duration: 3.00s   events: ")
    assert "warning: recording stopped" in text
    assert "deadlock cycle:" in text
    assert "  w-0 holds lk and waits for sem" in text
    assert "  w-1 holds sem and waits for lk" in text
    assert any(line.startswith("suspected deadlock at 1.25s: w-0 waits for sem") for line in text)
    assert (
        "  q (fifo queue, maxsize 2): puts 3, gets 3, max depth 2, left 0, blocked puts 1, "
        "blocked gets 1" in text
    )
    assert "  lk (lock): acquired 2×, contended 1×, max holders 1" in text
    assert "listener srv: accepted 1, at most 1 open at once, 1 empty polls" in text
    assert "select.select: 1 calls, 0.500s blocked" in text
    assert "pool pool (1 workers): submitted 3, done 1, failed 1, at most 1 busy" in text
    assert "variables: num = 42" in text
    assert "failed: main: line 5: boom" in text
    assert "  PASS  three" in text  # a knob is not a measurement: nothing in brackets
    assert "  FAIL  four" in text
    assert any(line.startswith("  INCONCLUSIVE  n == 3  [inconclusive: needs six") for line in text)


def test_a_finished_run_has_no_cycle_lines() -> None:
    text = render_text(report())
    assert "deadlock cycle" not in text and "outcome: finished" in text
