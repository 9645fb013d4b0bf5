"""Every expectation function, on a run folded from hand-written events, and check()
itself: outcomes, guards, errors that name their line, bounded evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from tui_conc.engine.wire import events as ev
from tui_conc.scenario import parse_scenario
from tui_conc.scenario.expr import COMMON_FUNCTIONS, LimitError, compile_expr
from tui_conc.scenario.functions import EXPECT_FUNCTIONS as DOCUMENTED
from tui_conc.state import model as sm
from tui_conc.state.expectations import EXPECT_FUNCTIONS, check
from tui_conc.state.fold import StateFolder

S = 1_000_000_000

HEADER = {
    "t0": 0,
    "title": "t",
    "backend": "gevent",
    "knobs": {"n": 3},
    "actors": [
        {"name": "w-0", "group": "w"},
        {"name": "w-1", "group": "w"},
        {"name": "main", "group": "main"},
        {"name": "pool-w0", "group": "pool"},
    ],
    "resources": [
        {"name": "lk", "type": "lock"},
        {"name": "sem", "type": "semaphore", "value": 2},
        {"name": "q", "type": "queue", "kind": "fifo", "maxsize": 2},
        {"name": "num", "type": "variable", "value": 0},
        {"name": "pool", "type": "pool", "workers": 1},
        {"name": "pq", "type": "queue", "kind": "fifo", "maxsize": 0},
    ],
    "steps": [[5, "acquire lk"]],
}


def folded() -> StateFolder:
    """One run that exercises every function once."""
    f = StateFolder(HEADER)
    f.fold([(ev.ACTOR_START, i, -1, 0, 10 + i) for i in range(4)])
    f.fold(
        [
            (ev.ACQUIRED, 0, 0),
            (ev.WAIT, 1, 0, S // 10, 0, "acquire", None),  # contended once
            (ev.RELEASED, 0, 0),
            (ev.WAKE, 1, 0, S // 5, True),
            (ev.ACQUIRED, 1, 0),
            (ev.RELEASED, 1, 0),
            (ev.ACQUIRED, 0, 1),
            (ev.ACQUIRED, 1, 1),  # two holders of sem at once
            (ev.CLOCK, -1, -1, S),
            (ev.RELEASED, 0, 1),
            (ev.RELEASED, 1, 1),
            (ev.PUT, 0, 2),
            (ev.PUT, 0, 2),
            (ev.WAIT, 0, 2, S, 0, "put", None),  # a blocked put
            (ev.GOT, 1, 2),
            (ev.WAKE, 0, 2, S, True),
            (ev.PUT, 0, 2),
            (ev.GOT, 1, 2),
            (ev.WAIT, 1, 2, S, 0, "get", None),  # a blocked get
            (ev.WAKE, 1, 2, S, True),
            (ev.GOT, 1, 2),
            (ev.WRITE, 0, 3, S, 42),
            (ev.LOG, 0, -1, S, "start"),
            (ev.LOG, 1, -1, S, "middle"),
            (ev.LOG, 0, -1, S, "end start"),
            (ev.HUB, -1, -1, S, 1234),
            (ev.HUB_BLOCKED, 0, -1, S, 150.0),
            (ev.SOCK_OPEN, 2, 1, S, "srv", "listen", -1),
            (ev.SOCK_OPEN, 2, 2, S, "srv←w-0", "conn", 1),
            (ev.IO_MISS, 2, 1, S),
            (ev.RECEIVED, 2, 2, S, 5),
            (ev.SENT, 2, 2, S, 5),
            (ev.SELECTED, 2, -1, S, [2], [1, 2], S // 2),
            (ev.SUBMIT, 2, 4, S, 1, "work(n=1)"),
            (ev.SUBMIT, 2, 4, S, 2, "work(n=2)"),
            (ev.TASK_BEGIN, 3, 4, S, 1),
            (ev.TASK_END, 3, 4, 2 * S, 1, True, ""),
            (ev.TASK_BEGIN, 3, 4, 2 * S, 2),
            (ev.TASK_END, 3, 4, 2 * S, 2, False, "ZeroDivisionError"),
            (ev.SUBMIT, 2, 4, 2 * S, 3, "work(n=3)"),
            (ev.POOL_TERMINATE, 2, 4, 2 * S),
            (ev.PUT, 0, 5),
            (ev.GOT_ITEM, 2, 5, 2 * S, "hello"),
            (ev.LEASE, 1, 1, 2 * S, "lease-a"),  # sem on Dask: w-1's lease, taken back
            (ev.LEASE_EXPIRED, -1, 1, 2 * S, "lease-a", 31.0),
            (ev.ACTOR_DONE, 0, -1, 2 * S, 1.5),
            (ev.ACTOR_DONE, 1, -1, 3 * S, 0.5),
            (ev.ACTOR_FAILED, 2, -1, 3 * S, "line 5: boom"),
            (ev.END, -1, -1, 3 * S, "finished"),
        ]
    )
    return f


def snapshot(cycle: tuple[sm.CycleEdge, ...] = ()) -> sm.Snapshot:
    return folded().snapshot("finished", cycle=cycle)


LOG = ["start", "middle", "end start"]
CYCLE = (
    sm.CycleEdge("w-0", ("lk",), "sem", ("w-1",)),
    sm.CycleEdge("w-1", ("sem",), "lk", ("w-0",)),
)

#: Every expectation function: an expression using it and its value on the run above.
CASES: dict[str, tuple[str, Any]] = {
    "max_holders": ("max_holders(sem)", 2),
    "acquisitions": ("acquisitions(lk)", 2),
    "contended": ("contended(lk)", 1),
    "waves": ("waves(lk)", 2),  # taken again 0.2 s later, after a release
    "expired_leases": ("expired_leases(sem)", 1),
    "span": ("span(lk)", 0.2),
    "max_depth": ("max_depth(q)", 2),
    "depth": ("depth(q)", 0),
    "puts": ("puts(q)", 3),
    "gets": ("gets(q)", 3),
    "put_blocks": ("put_blocks(q)", 1),
    "get_blocks": ("get_blocks(q)", 1),
    "log_count": ("log_count('start')", 2),
    "log_index": ("log_index('start')", 0),
    "log_last": ("log_last('start')", 2),
    "log_order": ("log_order('start', 'middle')", True),
    "hub_switches": ("hub_switches()", 1234),
    "hub_blocked": ("hub_blocked()", 1),
    "state": ("state(w)", "done"),
    "count_state": ("count_state('failed')", 1),
    "accepted": ("accepted(srv)", 1),
    "max_open": ("max_open(srv)", 1),
    "misses": ("misses(srv)", 1),
    "found": ("found(srv)", 2),
    "echoed": ("echoed(srv)", 5),
    "received": ("received(srv)", 5),
    "select_calls": ("select_calls()", 1),
    "select_blocked": ("select_blocked()", 0.5),
    "max_busy": ("max_busy('pool')", 1),
    "tasks_submitted": ("tasks_submitted('pool')", 3),
    "tasks_done": ("tasks_done('pool')", 1),
    "tasks_failed": ("tasks_failed('pool')", 1),
    "never_ran": ("never_ran('pool')", 1),
    "values_got": ("values_got(pq)", ["hello"]),
    "cpu": ("cpu(w)", 2.0),
    "wall": ("wall(w)", 3.0),
    "cores": ("cores(w)", 2.0 / 3.0),
    "start_spread": ("start_spread(w)", 0.0),
    "cycle_holds": ("cycle_holds('w-0')", ["lk"]),
    "cycle_waits": ("cycle_waits('w-1')", "lk"),
    "len": ("len(cycle)", 2),
    "min": ("min(3, 1, 2)", 1),
    "max": ("max([3, 1, 2])", 3),
    "abs": ("abs(-2)", 2),
    "int": ("int(2.7)", 2),
    "float": ("float(2)", 2.0),
    "str": ("str(5)", "5"),
    "round": ("round(2.456, 1)", 2.5),
    "sorted": ("sorted([3, 1, 2])", [1, 2, 3]),
    "sum": ("sum([1, 2, 3])", 6),
    "range": ("range(3)", [0, 1, 2]),
    "all": ("all(x > 0 for x in [1, 2])", True),
    "any": ("any([0, 0, 1])", True),
}


def env() -> Any:
    from tui_conc.state import expectations

    scenario = parse_scenario(
        "title: t\nchapter: c\nknobs:\n  n: 3\nresources:\n  lk: lock\n  sem: semaphore\n"
        "  q: queue\n  num: variable\n  pq: queue\n  srv: listener\n"
        "actors:\n  w:\n    count: 2\n    steps: [{log: hi}]\n"
    )
    captured: dict[str, Any] = {}
    real = expectations._one

    def spy(exp: Any, e: Any) -> Any:
        captured["env"] = e
        return real(exp, e)

    expectations._one = spy  # type: ignore[assignment]
    try:
        scenario = scenario.__class__(**{**_fields(scenario), "expect": [_exp("True")]})
        check(scenario, snapshot(CYCLE), LOG)
    finally:
        expectations._one = real  # type: ignore[assignment]
    return captured["env"]


def _fields(struct: Any) -> dict[str, Any]:
    return {f: getattr(struct, f) for f in struct.__struct_fields__}


def _exp(that: str, **kw: Any) -> Any:
    from tui_conc.scenario.model import Expectation

    return Expectation(that=that, **kw)


def test_every_documented_function_is_tested_here() -> None:
    assert set(DOCUMENTED) == set(EXPECT_FUNCTIONS)
    assert set(CASES) == set(EXPECT_FUNCTIONS), set(EXPECT_FUNCTIONS) ^ set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_function_measures_what_it_says(name: str) -> None:
    source, expected = CASES[name]
    value = compile_expr(source, EXPECT_FUNCTIONS)(env())
    if isinstance(expected, float):
        assert value == pytest.approx(expected), source
    else:
        assert value == expected, source


def test_state_says_mixed_when_the_copies_differ() -> None:
    e = env()
    assert compile_expr("state('w-0')", EXPECT_FUNCTIONS)(e) == "done"
    assert compile_expr("state('main')", EXPECT_FUNCTIONS)(e) == "failed"
    f = folded()
    f.fold([(ev.ACTOR_START, 1, -1, 3 * S, 11)])  # w-1 runs again (a restarted copy)
    e.snapshot = f.snapshot("running")
    assert compile_expr("state(w)", EXPECT_FUNCTIONS)(e) == "mixed"


@pytest.mark.parametrize(
    ("source", "x", "value"),
    [
        ("1 < x < 2", 3, False),  # every link compares with its own left side
        ("1 < x < 2", 1.5, True),
        ("0 <= x <= 10", 11, False),
        ("3 > x > 1 > 0", 2, True),
        ("1 == x != 2", 2, False),
    ],
)
def test_chained_comparisons_compare_each_link(source: str, x: float, value: bool) -> None:
    assert compile_expr(source, COMMON_FUNCTIONS)({"x": x}) is value


@pytest.mark.parametrize(
    "source",
    ["2 ** 20000", "(10 ** 10000) ** 10000", "2.0 ** 10000", "'a' * 10 ** 7", "range(10 ** 8)"],
)
def test_growth_past_the_limits_is_refused_quickly(source: str) -> None:
    import time

    started = time.perf_counter()
    with pytest.raises(LimitError):
        compile_expr(source, COMMON_FUNCTIONS)({})
    assert time.perf_counter() - started < 0.5


def test_outcomes_guards_and_errors_that_name_their_line() -> None:
    text = (
        "title: t\nchapter: c\nknobs:\n  n: 3\nactors:\n  w:\n    steps: [{log: hi}]\n"
        "expect:\n"
        "  - that: n == 3\n"  # line 9
        "  - that: n == 4\n"
        "  - that: n == 3\n    when: n > 5\n    needs: more than five\n"
        "  - that: '[1][5] == 1'\n"  # line 14
        "  - that: min() == 0\n"
    )
    scenario = parse_scenario(text)
    results = check(scenario, snapshot(), LOG)
    assert [r.outcome for r in results] == ["passed", "failed", "inconclusive", "failed", "failed"]
    assert results[2].detail.startswith("inconclusive: needs more than five")
    assert results[3].detail.startswith("line 14: cannot evaluate '[1][5] == 1': IndexError")
    assert "line 15" in results[4].detail and "min() of nothing" in results[4].detail
    assert all("\n" not in r.detail for r in results)


def test_a_stopped_run_and_a_run_that_never_started_are_not_graded() -> None:
    scenario = parse_scenario(
        "title: t\nchapter: c\nactors:\n  w:\n    steps: [{log: hi}]\nexpect: [deadlock]\n"
    )
    stopped = folded().snapshot("stopped")
    assert [r.outcome for r in check(scenario, stopped, LOG)] == ["not checked"]
    never = StateFolder({**HEADER, "error": "bad"}).snapshot("error")
    (result,) = check(scenario, never, [])
    assert result.outcome == "not checked" and "did not start" in result.detail
