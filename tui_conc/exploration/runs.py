"""One run under the controlled scheduler, in this process, folded and judged.

The actors are real ``threading.Thread``s and the primitives real
``threading`` ones; only the order of their steps is chosen. Time is
virtual: sleeps and timeouts do not wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from time import monotonic_ns
from typing import Any

import msgspec

from tui_conc.engine.backends.thread import COOPERATIVE, ThreadRun
from tui_conc.engine.scheduler import EXPLORABLE
from tui_conc.engine.scheduler.controlled import (
    BLOCKED,
    DEPTH,
    FINISHED,
    Chooser,
    Controlled,
    Decision,
)
from tui_conc.engine.scheduler.strategies import preemptions
from tui_conc.engine.scheduler.unfinished import Unfinished
from tui_conc.engine.wire import codec
from tui_conc.engine.wire import events as ev
from tui_conc.scenario import model as m
from tui_conc.scenario.expr import compile_expr
from tui_conc.state import analysis
from tui_conc.state import model as sm
from tui_conc.state.expectations import (
    EXPECT_FUNCTIONS,
    FAILED,
    INCONCLUSIVE,
    PASSED,
    ExpectationResult,
    check,
    goal_reached,
)
from tui_conc.state.fold import StateFolder

#: What exploration cannot control, by resource type and by step kind.
_RESOURCES = {
    "listener": "sockets",
    "selector": "selectors",
    "http_server": "sockets",
    "pipe": "pipes",
    "pool": "process pools",
}
_STEPS = {
    "accept",
    "connect",
    "send",
    "recv",
    "close",
    "select",
    "register",
    "unregister",
    "switch",
    "fetch",
    "submit",
    "map",
    "terminate",
}
#: A run stops choosing after this many steps unless told otherwise.
MAX_STEPS = 10_000


class NotExplorable(Exception):
    """The scenario uses what the controlled scheduler cannot drive: why, in one line."""


def check_explorable(scenario: m.Scenario, backend: str | None = None) -> None:
    """Raise :class:`NotExplorable` unless every actor, resource and step can be controlled."""
    backend = backend or scenario.backend
    if backend not in EXPLORABLE:
        what = {
            "process": "processes cannot be stepped by one scheduler (each has its own)",
            "eventlet": "greenlets are scheduled by eventlet's hub, which this scheduler "
            "does not drive",
            "greenlet": "raw greenlets already switch only where the scenario says",
        }.get(backend, "")
        raise NotExplorable(
            f"step mode and exploration run on the thread and gevent backends, not {backend}"
            + (f": {what}" if what else "")
        )
    for name, res in scenario.resources.items():
        if res.type in _RESOURCES:
            raise NotExplorable(
                f"resource {name!r} ({res.type}): {_RESOURCES[res.type]} are not controlled "
                "by the scheduler (real IO and processes are out of scope)"
            )
    for steps in [a.steps for a in scenario.actors.values()]:
        for step in _walk(steps):
            kind = m.STEP_KIND[type(step)]
            if kind in _STEPS:
                raise NotExplorable(
                    f"line {step.line}: step {kind!r} does real IO or uses a process pool, "
                    "which the scheduler does not control"
                )


def _walk(steps: Sequence[m.Step]) -> Any:
    for s in steps:
        yield s
        for key in m.NESTED.get(m.STEP_KIND[type(s)], ()):
            attr = {"do": "do", "then": "then", "else": "else_"}.get(key, key)
            yield from _walk(getattr(s, attr) or [])


@dataclass
class ControlledResult:
    """A finished controlled run: its stream, its choices and how it ended."""

    header: dict[str, Any]
    events: list[tuple[Any, ...]]
    decisions: list[Decision]
    stop: str  #: finished, blocked, depth, diverged or error
    message: str = ""  #: why it diverged or failed to run
    clock_s: float = 0.0
    snapshot: sm.Snapshot | None = None
    log_texts: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [a["name"] for a in self.header.get("actors", [])]

    @property
    def preemptions(self) -> int:
        return preemptions(self.decisions)

    @property
    def choices(self) -> list[int]:
        return [d.chosen for d in self.decisions]


def controlled_run(
    scenario: m.Scenario,
    path: str,
    knobs: dict[str, Any],
    chooser: Chooser,
    max_steps: int = MAX_STEPS,
    backend: str = "thread",
) -> ControlledResult:
    """Run ``scenario`` once with ``chooser`` picking every step; fold and judge it.

    ``backend="gevent"`` needs this process monkey-patched (greenlets are chosen
    only where they yield)."""
    events: list[tuple[Any, ...]] = []
    sched = Controlled(
        chooser, max_steps, count_events=events.__len__, cooperative=backend in COOPERATIVE
    )
    t0 = monotonic_ns()
    header: dict[str, Any] = {"format": codec.FORMAT, "version": codec.VERSION, "t0": t0}
    stop, message = FINISHED, ""
    try:
        run = ThreadRun(scenario, knobs, events.append, backend=backend, control=sched)
    except Exception as exc:
        return ControlledResult(header, [], [], "error", f"cannot build: {exc}")
    header.update(title=scenario.title, file=path, backend=backend, knobs=knobs, **run.header())
    try:
        run.prepare()
        run.start()
        run.wait_until_done()
        run.cut_off_daemons()
    except Unfinished as exc:
        stop = exc.outcome
        message = sched.diverged
    except Exception as exc:
        stop, message = "error", f"{type(exc).__name__}: {exc}"
    kept = list(events)  # what follows (parked actors unwinding) is not part of the run
    sched.abandon()
    now = monotonic_ns()
    if stop == FINISHED:
        kept.append((ev.END, -1, -1, now, "finished"))
    elif stop == BLOCKED:
        kept.append((ev.BLOCKED_FOREVER, -1, -1, now, "no actor can take a step"))
    elif stop == "error":
        kept.append((ev.ERROR, -1, -1, now, message))
    result = ControlledResult(header, kept, sched.decisions, stop, message, sched.clock_s)
    result.snapshot, result.log_texts = judge(header, kept, stop, max_steps)
    return result


def judge(
    header: dict[str, Any], events: list[tuple[Any, ...]], stop: str, max_steps: int
) -> tuple[sm.Snapshot, list[str]]:
    """Fold the run and give its certain verdict: every actor's fate is known."""
    folder = StateFolder(header)
    folder.fold(events)
    verdict = analysis.judge(folder, folder.now)
    if verdict.cycle:
        status = sm.DEADLOCK
    elif verdict.stalled:
        status = sm.STALL
    elif stop in (DEPTH, "diverged"):
        status = sm.STOPPED if stop == "diverged" else sm.TIMEOUT
    else:
        status = folder.end_reason or sm.FINISHED
    snapshot = folder.snapshot(status, cycle=verdict.cycle, stalled=verdict.stalled, log_tail=0)
    return snapshot, [text for *_, text in folder.log]


def failure(scenario: m.Scenario, result: ControlledResult, goal: str | None = None) -> str | None:
    """What makes this run a counterexample, or ``None``.

    With a goal (``--goal``, else the scenario's challenge) only the goal
    counts; without, a deadlock, a stall, a failed actor or a failed
    expectation does.
    """
    snapshot = result.snapshot
    if snapshot is None or result.stop in ("diverged", "error", DEPTH):
        return None
    target = goal if goal is not None else (scenario.challenge.goal if scenario.challenge else None)
    if target is not None:
        probe = scenario if goal is None else _with_goal(scenario, goal)
        if goal_reached(probe, snapshot, result.log_texts):
            text = scenario.challenge.text if goal is None and scenario.challenge else ""
            return f"goal reached: {target}" + (f" ({text})" if text else "")
        return None
    if snapshot.cycle:
        return "deadlock: " + " → ".join(e.actor for e in snapshot.cycle)
    if snapshot.stalled:
        return "stall: every live actor waits for ever"
    failed = [a for a in snapshot.actors if a.state == sm.FAILED]
    if failed:
        return f"{failed[0].name} failed"
    timeless = [e for e in scenario.expect if reads_no_time(e)]
    for r in check(msgspec.structs.replace(scenario, expect=timeless), snapshot, result.log_texts):
        if r.failed:
            return f"expectation failed: {r.text}"
    return None


#: What an expectation reads that virtual time cannot give: such claims are skipped.
_TIME_NAMES = frozenset({"elapsed"})
_TIME_CALLS = frozenset({"cpu", "wall", "cores", "start_spread", "span", "waves"})


def in_virtual_time(
    scenario: m.Scenario, results: list[ExpectationResult]
) -> list[ExpectationResult]:
    """A controlled run's results: a claim about durations cannot be judged (inconclusive)."""
    out = []
    for exp, r in zip(scenario.expect, results, strict=True):
        if r.outcome in (PASSED, FAILED) and not reads_no_time(exp):
            r = ExpectationResult(
                r.text,
                r.that,
                False,
                "inconclusive: needs real time (a controlled run's time is virtual)",
                INCONCLUSIVE,
            )
        out.append(r)
    return out


def reads_no_time(exp: m.Expectation) -> bool:
    """An expectation a controlled run can judge: no clock in it, no ``when`` guard."""
    if exp.when is not None:
        return False
    compiled = compile_expr(exp.that, EXPECT_FUNCTIONS)
    return not (compiled.names & _TIME_NAMES or compiled.calls & _TIME_CALLS)


def _with_goal(scenario: m.Scenario, goal: str) -> m.Scenario:
    return msgspec.structs.replace(scenario, challenge=m.Challenge(goal=goal))


def stable(events: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The stream without what differs between identical schedules (clock readings,
    thread idents, CPU times): two replays of one schedule give equal lists."""
    out = []
    for e in events:
        kind = e[0]
        if kind < 10 or kind in (
            ev.ACTOR_START,
            ev.ACTOR_DONE,
            ev.CLOCK,
            ev.END,
            ev.BLOCKED_FOREVER,
        ):
            out.append(tuple(e[:3]))
        else:
            out.append((*e[:3], *e[4:]))
    return out
