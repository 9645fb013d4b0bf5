"""Look for a failing schedule: DFS with a preemption bound, PCT or a random walk."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tui_conc.engine.scheduler.strategies import PCT, DepthFirst, RandomWalk, Replay
from tui_conc.exploration.runs import (
    MAX_STEPS,
    ControlledResult,
    check_explorable,
    controlled_run,
    failure,
)
from tui_conc.scenario import model as m

STRATEGIES = ("dfs", "pct", "random")


@dataclass
class Found:
    """A counterexample: the run, and what it shows."""

    result: ControlledResult
    reason: str
    run: int  #: which run found it (1-based)

    @property
    def key(self) -> tuple[int, int]:
        """Smaller is simpler: fewer preemptions, then fewer steps."""
        return (self.result.preemptions, len(self.result.decisions))


@dataclass
class Exploration:
    """What a search did and found."""

    strategy: str
    runs: int = 0
    seconds: float = 0.0
    found: Found | None = None
    exhausted: bool = False  #: DFS explored every schedule within ``bound``
    bound: int = 0
    depth: int = 0  #: PCT's bug depth d
    steps_estimate: int = 0  #: PCT's k
    actors: int = 0
    stopped: str = ""  #: why it stopped early (runs used up, cancelled)
    truncated: int = 0  #: runs cut at the step limit (their end unknown)

    @property
    def pct_bound(self) -> float:
        return PCT.bound(self.actors, self.steps_estimate, self.depth)


def explore(
    scenario: m.Scenario,
    path: str,
    knobs: dict[str, Any],
    strategy: str = "dfs",
    runs: int = 10_000,
    max_steps: int = MAX_STEPS,
    seed: int = 0,
    bound: int = 2,
    depth: int = 2,
    goal: str | None = None,
    progress: Callable[[Exploration], bool] | None = None,
    backend: str = "thread",
) -> Exploration:
    """Search for a schedule that reaches the goal (or shows a bug).

    ``progress`` is called after every run; returning False cancels.
    """
    check_explorable(scenario, backend)
    out = Exploration(strategy, bound=bound, depth=depth)
    t0 = time.perf_counter()

    def one(chooser: Any) -> ControlledResult:
        result = controlled_run(scenario, path, knobs, chooser, max_steps, backend)
        out.runs += 1
        out.truncated += result.stop == "depth"
        out.actors = max(out.actors, len(result.names))
        reason = failure(scenario, result, goal)
        if reason is not None:
            candidate = Found(result, reason, out.runs)
            if out.found is None or candidate.key < out.found.key:
                out.found = candidate
        out.seconds = time.perf_counter() - t0
        if progress is not None and progress(out) is False:
            out.stopped = "cancelled"
        return result

    if strategy == "dfs":
        _dfs(out, one, runs, bound)
    elif strategy in ("pct", "random"):
        first = one(Replay([]))  # also PCT's estimate of the run's length
        out.steps_estimate = max(len(first.decisions), 1)
        n = 1
        while n < runs and not out.stopped:
            if out.found is not None and strategy == "pct" and out.found.key[0] == 0:
                break  # nothing simpler exists
            chooser = (
                PCT(seed + n, depth, out.steps_estimate)
                if strategy == "pct"
                else RandomWalk(seed + n)
            )
            one(chooser)
            n += 1
        if n >= runs and not out.stopped:
            out.stopped = f"--runs {runs} used up"
    else:
        raise ValueError(f"unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    out.seconds = time.perf_counter() - t0
    return out


def _dfs(out: Exploration, one: Callable[[Any], ControlledResult], runs: int, bound: int) -> None:
    """Iterative preemption bounding: every schedule with 0 preemptions, then 1, …"""
    for b in range(bound + 1):
        out.bound = b
        search = DepthFirst(b)
        prefix: list[int] | None = []
        while prefix is not None:
            if out.runs >= runs:
                out.stopped = f"--runs {runs} used up"
                return
            result = one(Replay(prefix))
            if out.stopped:
                return
            search.record(result.decisions)
            if out.found is not None:
                return  # the first at the lowest bound: no schedule has fewer preemptions
            prefix = search.next_prefix()
    out.exhausted = out.truncated == 0
