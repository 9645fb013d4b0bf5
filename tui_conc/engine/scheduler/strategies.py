"""Who goes next: the choosers of a controlled run, and the preemption count.

A *preemption* is a switch away from the actor that ran last while it could
still go on; switching because it blocked or ended is free. Schedules with
few preemptions find most concurrency bugs (Musuvathi & Qadeer, CHESS, 2007),
and are the easiest to read: DFS explores them in order of that count.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from tui_conc.engine.scheduler.controlled import Controlled, Decision, Diverged


def is_preemption(previous: int, enabled: Sequence[int], chosen: int) -> bool:
    """Choosing ``chosen`` over ``previous``, which could have gone on."""
    return previous != chosen and previous in enabled


def preemptions(decisions: Sequence[Decision]) -> int:
    """How many preemptions a run's decisions made."""
    count, previous = 0, -1
    for d in decisions:
        count += is_preemption(previous, d.enabled, d.chosen)
        previous = d.chosen
    return count


def keep_going(sched: Controlled, enabled: list[int]) -> int:
    """The default, non-preemptive choice: the actor that ran last, else the first."""
    return sched.current if sched.current in enabled else enabled[0]


@dataclass
class Replay:
    """Follow ``choices``; past their end, ``strict`` stops (the schedule is over)
    or the run goes on without preemptions."""

    choices: Sequence[int]
    strict: bool = False
    names: Sequence[str] = ()

    def choose(self, sched: Controlled, enabled: list[int]) -> int:
        n = len(sched.decisions)
        if n < len(self.choices):
            chosen = self.choices[n]
            if chosen not in enabled:
                who = self.names[chosen] if 0 <= chosen < len(self.names) else f"actor {chosen}"
                raise Diverged(f"step {n + 1}: {who} is not enabled")
            return chosen
        if self.strict:
            raise Diverged(f"the schedule ends after {n} steps and the run goes on")
        return keep_going(sched, enabled)


@dataclass
class RandomWalk:
    """A uniformly random enabled actor at every step."""

    seed: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def choose(self, sched: Controlled, enabled: list[int]) -> int:
        return self.rng.choice(enabled)


@dataclass
class PCT:
    """Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).

    Each actor gets a random priority of at least ``depth``; at ``depth - 1``
    random steps out of ``steps`` the running actor's priority drops below
    every other (to ``depth - 1`` … ``1``). The highest-priority enabled
    actor always runs. A bug of depth ``d`` among ``n`` actors and ``k``
    steps is found by one run with probability at least ``1 / (n·k^(d-1))``.
    """

    seed: int = 0
    depth: int = 2
    steps: int = 100  #: k: an estimate of the run's length in steps
    rng: random.Random = field(init=False)
    priorities: dict[int, float] = field(default_factory=dict)
    change_points: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        points = self.rng.sample(range(1, max(self.steps, self.depth) + 1), self.depth - 1)
        # the i-th change point lowers the running actor to priority depth - 1 - i
        self.change_points = {p: self.depth - 1 - i for i, p in enumerate(sorted(points))}

    def choose(self, sched: Controlled, enabled: list[int]) -> int:
        for actor in enabled:  # a newcomer: a random high priority
            if actor not in self.priorities:
                self.priorities[actor] = self.depth + self.rng.random() * 1e6
        step = len(sched.decisions) + 1
        low = self.change_points.get(step)
        if low is not None and sched.current in self.priorities:
            self.priorities[sched.current] = low
        return max(enabled, key=lambda a: self.priorities[a])

    @staticmethod
    def bound(actors: int, steps: int, depth: int) -> float:
        """The per-run probability bound of finding a depth-``depth`` bug."""
        return 1.0 / (max(actors, 1) * max(steps, 1) ** (depth - 1))


@dataclass
class _Node:
    enabled: tuple[int, ...]
    chosen: int
    preempted: int  #: preemptions up to and including this choice
    tried: set[int]


@dataclass
class DepthFirst:
    """Stateless DFS over schedules with at most ``bound`` preemptions.

    Each run follows a prefix of choices, then goes on without preemptions;
    :meth:`next_prefix` backtracks to the deepest choice with an untried
    alternative within the bound. ``None``: the space is exhausted.
    """

    bound: int
    path: list[_Node] = field(default_factory=list)

    def chooser(self, prefix: Sequence[int]) -> Replay:
        return Replay(prefix)

    def record(self, decisions: Sequence[Decision]) -> None:
        """Take in a finished run's decisions (its prefix agrees with the path)."""
        del self.path[len(decisions) :]
        previous = self.path[-1].chosen if self.path else -1
        preempted = self.path[-1].preempted if self.path else 0
        start = len(self.path)
        for d in decisions[start:]:
            preempted += is_preemption(previous, d.enabled, d.chosen)
            self.path.append(_Node(d.enabled, d.chosen, preempted, {d.chosen}))
            previous = d.chosen

    def next_prefix(self) -> list[int] | None:
        while self.path:
            node = self.path[-1]
            before = self.path[-2] if len(self.path) > 1 else None
            previous = before.chosen if before else -1
            base = before.preempted if before else 0
            for alt in node.enabled:
                if alt in node.tried:
                    continue
                node.tried.add(alt)
                if base + is_preemption(previous, node.enabled, alt) <= self.bound:
                    node.chosen = alt
                    node.preempted = base + is_preemption(previous, node.enabled, alt)
                    return [n.chosen for n in self.path]
            self.path.pop()
        return None
