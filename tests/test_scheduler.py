"""The controlled scheduler's strategies: preemption counting, DFS, PCT, replay."""

from __future__ import annotations

import pytest

from tui_conc.engine.backends.thread import ThreadRun
from tui_conc.engine.scheduler.controlled import Controlled, Decision, Diverged
from tui_conc.engine.scheduler.strategies import (
    PCT,
    DepthFirst,
    Replay,
    is_preemption,
    keep_going,
    preemptions,
)
from tui_conc.scenario import load_scenario, resolve_knobs

from .conftest import SCENARIOS


def _d(enabled: tuple[int, ...], chosen: int) -> Decision:
    return Decision(enabled, chosen, 0)


def test_a_switch_counts_as_a_preemption_only_when_the_last_actor_could_go_on() -> None:
    assert is_preemption(0, (0, 1), 1)
    assert not is_preemption(0, (1,), 1)  # 0 blocked or ended: a free switch
    assert not is_preemption(0, (0, 1), 0)
    assert not is_preemption(-1, (0, 1), 1)  # the first choice
    run = [_d((0, 1), 0), _d((0, 1), 1), _d((0, 1), 1), _d((0,), 0), _d((0, 1), 1)]
    assert preemptions(run) == 2  # 0→1 with 0 enabled; then 0→1 again after a free switch


class _Sched:
    def __init__(self, current: int, decisions: int = 0) -> None:
        self.current = current
        self.decisions = [None] * decisions


def test_without_preemptions_the_last_actor_goes_on() -> None:
    assert keep_going(_Sched(1), [0, 1, 2]) == 1  # type: ignore[arg-type]
    assert keep_going(_Sched(1), [0, 2]) == 0  # type: ignore[arg-type]


def test_a_replay_follows_its_choices_and_says_where_it_diverges() -> None:
    replay = Replay([1, 0], strict=True, names=["w0", "w1"])
    assert replay.choose(_Sched(-1, 0), [0, 1]) == 1  # type: ignore[arg-type]
    with pytest.raises(Diverged, match="step 2: w0 is not enabled"):
        replay.choose(_Sched(1, 1), [1])  # type: ignore[arg-type]
    with pytest.raises(Diverged, match="ends after 2 steps"):
        replay.choose(_Sched(1, 2), [0, 1])  # type: ignore[arg-type]
    assert Replay([1]).choose(_Sched(1, 1), [0, 1]) == 1  # type: ignore[arg-type]


def _tree_run(prefix: list[int], length: int = 3, actors: int = 2) -> list[Decision]:
    """A toy program: every actor is always enabled; each run takes ``length`` steps."""
    decisions: list[Decision] = []
    current = -1
    for n in range(length):
        enabled = tuple(range(actors))
        chosen = prefix[n] if n < len(prefix) else (current if current in enabled else 0)
        decisions.append(_d(enabled, chosen))
        current = chosen
    return decisions


@pytest.mark.parametrize(("bound", "expected"), [(0, 2), (1, 6), (2, 8)])
def test_dfs_visits_every_schedule_within_its_preemption_bound_once(bound, expected) -> None:
    search = DepthFirst(bound)
    seen = []
    prefix: list[int] | None = []
    while prefix is not None:
        run = _tree_run(prefix)
        search.record(run)
        seen.append(tuple(d.chosen for d in run))
        prefix = search.next_prefix()
    assert len(seen) == len(set(seen)) == expected  # 2 actors, 3 steps: 2·C(2,k) schedules
    assert all(preemptions(_tree_run(list(s))) <= bound for s in seen)
    assert {s for s in seen} >= {(0, 0, 0), (1, 1, 1)}


def test_pct_places_d_minus_1_change_points_and_runs_the_highest_priority() -> None:
    pct = PCT(seed=3, depth=3, steps=50)
    assert len(pct.change_points) == 2
    assert sorted(pct.change_points.values()) == [1, 2]
    assert all(1 <= p <= 50 for p in pct.change_points)
    sched = _Sched(-1)
    first = pct.choose(sched, [0, 1, 2])  # type: ignore[arg-type]
    assert first == max((0, 1, 2), key=lambda a: pct.priorities[a])
    assert min(pct.priorities.values()) >= 3  # every initial priority is at least d
    # at a change point the running actor drops below every initial priority
    point = min(pct.change_points)
    sched = _Sched(first, point - 1)
    pct.choose(sched, [0, 1, 2])  # type: ignore[arg-type]
    assert pct.priorities[first] == pct.change_points[point] < 3
    assert PCT.bound(2, 10, 2) == pytest.approx(1 / 20)
    assert PCT.bound(3, 10, 3) == pytest.approx(1 / 300)


def test_a_controlled_run_that_cannot_choose_says_why() -> None:
    sched = Controlled(Replay([]))
    assert sched.enabled() == []
    assert sched.options() == []


def _race_decisions(cooperative: bool) -> list[Decision]:
    scenario = load_scenario(SCENARIOS / "race_counter.yaml")
    knobs = resolve_knobs(scenario, {"workers": 2, "pause": 0})
    events: list[tuple] = []
    sched = Controlled(Replay([]), count_events=events.__len__, cooperative=cooperative)
    run = ThreadRun(scenario, knobs, events.append, control=sched)
    run.prepare()
    run.start()
    run.wait_until_done()
    sched.abandon()
    return sched.decisions


def test_a_cooperative_run_is_chosen_only_where_it_yields() -> None:
    """Threads: a choice before each of read, sleep, write. Greenlets: the running one
    goes on from its read into its sleep without a choice (sleep(0) still yields)."""
    assert len(_race_decisions(cooperative=False)) == 6
    assert len(_race_decisions(cooperative=True)) == 4
