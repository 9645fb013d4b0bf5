"""Check a scenario's expectations against the final state of its run.

Each expectation ends in one of four outcomes: passed, failed, inconclusive
(its ``when`` guard did not hold: the run could not show the claim, a busy
machine say) or not checked (the run was stopped, or never started). An
expectation that cannot be evaluated fails with one line naming it.
Evaluation is bounded (:mod:`tui_conc.scenario.expr`), so no expectation can
hang the caller.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tui_conc.scenario.expr import COMMON_FUNCTIONS, ExprError, compile_expr
from tui_conc.scenario.model import Scenario
from tui_conc.state import model as sm

PASSED, FAILED, INCONCLUSIVE, NOT_CHECKED = "passed", "failed", "inconclusive", "not checked"


@dataclass(frozen=True, slots=True)
class ExpectationResult:
    """One expectation: its sentence, its outcome, and what was measured."""

    text: str
    that: str
    passed: bool
    detail: str = ""
    status: str = ""  #: passed, failed, inconclusive or not checked (default: from passed)

    @property
    def outcome(self) -> str:
        return self.status or (PASSED if self.passed else FAILED)

    @property
    def failed(self) -> bool:
        return self.outcome == FAILED


class _Env(dict):
    """Names an expectation can read, plus the snapshot its functions look into."""

    snapshot: sm.Snapshot
    log_texts: Sequence[str]


def _lock(env: _Env, name: str) -> sm.LockView:
    for lock in env.snapshot.locks:
        if lock.name == name:
            return lock
    raise ValueError(f"{name!r} is not a lock or semaphore")


def _queue(env: _Env, name: str) -> sm.QueueView:
    for q in env.snapshot.queues:
        if q.name == name:
            return q
    raise ValueError(f"{name!r} is not a queue")


def _log_index(env: _Env, text: str, last: bool = False) -> int:
    hits = [n for n, line in enumerate(env.log_texts) if text in line]
    if not hits:
        raise ValueError(f"no log line contains {text!r}")
    return hits[-1] if last else hits[0]


def _log_order(env: _Env, *texts: str) -> bool:
    """True when the first line with each text comes in the order given."""
    firsts = [_log_index(env, t) for t in texts]
    return firsts == sorted(firsts) and len(set(firsts)) == len(firsts)


def _listener(env: _Env, name: str) -> tuple[sm.SocketView, list[sm.SocketView]]:
    """A listener and the server-side connections it accepted."""
    for sock in env.snapshot.sockets:
        if sock.role == "listen" and sock.label == name:
            conns = [s for s in env.snapshot.sockets if s.label.startswith(f"{name}←")]
            return sock, conns
    raise ValueError(f"{name!r} is not a listener")


def _misses(env: _Env, name: str) -> int:
    listener, conns = _listener(env, name)
    return listener.misses + sum(s.misses for s in conns)


def _found(env: _Env, name: str) -> int:
    listener, conns = _listener(env, name)
    return listener.accepted + sum(s.reads for s in conns)


def _pool(env: _Env, name: str) -> sm.PoolView:
    for pool in env.snapshot.pools:
        if pool.name == name:
            return pool
    raise ValueError(f"{name!r} is not a pool")


def _actors(env: _Env, name: str) -> list[sm.ActorView]:
    found = [a for a in env.snapshot.actors if a.name == name or a.group == name]
    if not found:
        raise ValueError(f"{name!r} is not an actor")
    return found


def _cpu(env: _Env, name: str) -> float:
    return sum(a.cpu_s or 0.0 for a in _actors(env, name))


def _wall(env: _Env, name: str) -> float:
    return max(a.wall_s or 0.0 for a in _actors(env, name))


def _cores(env: _Env, name: str) -> float:
    """CPU seconds per wall second of a group together: how many cores it got."""
    wall = _wall(env, name)
    return _cpu(env, name) / wall if wall > 0 else 0.0


def _start_spread(env: _Env, name: str) -> float:
    starts = [a.started_s for a in _actors(env, name) if a.started_s is not None]
    return max(starts) - min(starts) if starts else 0.0


def _cycle_edge(env: _Env, name: str) -> sm.CycleEdge | None:
    _actors(env, name)  # an unknown actor is an error, not "not in the cycle"
    return next((e for e in env.snapshot.cycle if e.actor == name), None)


def _state(env: _Env, name: str) -> str:
    states = {a.state for a in env.snapshot.actors if a.name == name or a.group == name}
    if not states:
        raise ValueError(f"{name!r} is not an actor")
    return states.pop() if len(states) == 1 else "mixed"


EXPECT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "max_holders": lambda env, r: _lock(env, r).max_holders,
    "acquisitions": lambda env, r: _lock(env, r).acquisitions,
    "contended": lambda env, r: _lock(env, r).contended,
    "waves": lambda env, r: _lock(env, r).waves,
    "expired_leases": lambda env, r: _lock(env, r).expiries,
    "max_depth": lambda env, q: _queue(env, q).max_depth,
    "depth": lambda env, q: _queue(env, q).depth,
    "puts": lambda env, q: _queue(env, q).puts,
    "gets": lambda env, q: _queue(env, q).gets,
    "put_blocks": lambda env, q: _queue(env, q).put_blocks,
    "get_blocks": lambda env, q: _queue(env, q).get_blocks,
    "log_count": lambda env, text: sum(text in line for line in env.log_texts),
    "state": _state,
    "log_index": lambda env, text: _log_index(env, text),
    "log_last": lambda env, text: _log_index(env, text, last=True),
    "log_order": _log_order,
    "hub_switches": lambda env: env.snapshot.hub.switches if env.snapshot.hub else 0,
    "hub_blocked": lambda env: len(env.snapshot.hub.blocked) if env.snapshot.hub else 0,
    "accepted": lambda env, name: _listener(env, name)[0].accepted,
    "max_open": lambda env, name: _listener(env, name)[0].max_open,
    "misses": _misses,
    "found": _found,
    "echoed": lambda env, name: sum(s.bytes_out for s in _listener(env, name)[1]),
    "received": lambda env, name: sum(s.bytes_in for s in _listener(env, name)[1]),
    "select_calls": lambda env: sum(s.calls for s in env.snapshot.selects),
    "select_blocked": lambda env: sum(s.blocked_s for s in env.snapshot.selects),
    "count_state": lambda env, s: sum(a.state == s for a in env.snapshot.actors),
    "max_busy": lambda env, p: _pool(env, p).max_busy,
    "tasks_submitted": lambda env, p: _pool(env, p).submitted,
    "tasks_done": lambda env, p: _pool(env, p).done,
    "tasks_failed": lambda env, p: _pool(env, p).failed,
    "never_ran": lambda env, p: len(_pool(env, p).never_ran),
    "values_got": lambda env, q: list(_queue(env, q).values),
    "cpu": _cpu,
    "wall": _wall,
    "cores": _cores,
    "start_spread": _start_spread,
    "span": lambda env, r: _lock(env, r).busy_s,
    "cycle_holds": lambda env, a: list(e.holds) if (e := _cycle_edge(env, a)) else [],
    "cycle_waits": lambda env, a: e.waits_for if (e := _cycle_edge(env, a)) else None,
    **COMMON_FUNCTIONS,
}


def check(
    scenario: Scenario, snapshot: sm.Snapshot, log_texts: Sequence[str]
) -> list[ExpectationResult]:
    """Evaluate every expectation; an expectation that cannot be evaluated fails.

    A stopped run, or one that never started, is not graded.
    """
    skipped = _not_graded(snapshot)
    if skipped:
        return [
            ExpectationResult(e.text or str(e.that), str(e.that), False, skipped, NOT_CHECKED)
            for e in scenario.expect
        ]
    env = environment(scenario, snapshot, log_texts)
    return [_one(exp, env) for exp in scenario.expect]


def environment(scenario: Scenario, snapshot: sm.Snapshot, log_texts: Sequence[str]) -> _Env:
    """The names an expectation (or a challenge's goal) reads, for ``snapshot``."""
    env = _Env(snapshot.knobs)
    env.snapshot = snapshot
    env.log_texts = log_texts
    values = {v.name: v.value for v in snapshot.variables}
    env.update(values)
    named = [
        *(r.name for r in (*snapshot.locks, *snapshot.queues, *snapshot.events)),
        *(b.name for b in snapshot.barriers),
        *values,
    ]
    for name, res in scenario.resources.items():
        if res.count is None:
            env.setdefault(name, name)
        else:  # a family: its members' names (a family of variables: their values)
            members = [n for n in named if n.startswith(f"{name}[")]
            env[name] = [values[n] for n in members] if res.type == "variable" else members
    for name in scenario.actors:
        env[name] = name
    env.update(
        outcome=snapshot.status,
        deadlock=bool(snapshot.cycle),
        stall=snapshot.stalled,
        elapsed=snapshot.elapsed_s,
        backend=snapshot.backend,
        cycle=[edge.actor for edge in snapshot.cycle],
    )
    return env


def goal_reached(scenario: Scenario, snapshot: sm.Snapshot, log_texts: Sequence[str]) -> bool:
    """Does the scenario's challenge goal hold for this run? (False when it cannot
    be evaluated: a goal that names what the run lacks is not reached.)"""
    if scenario.challenge is None:
        return False
    try:
        return bool(_evaluate(scenario.challenge.goal, environment(scenario, snapshot, log_texts)))
    except Exception:  # one answer, whatever the expression did
        return False


def _not_graded(snapshot: sm.Snapshot) -> str:
    """Why the run's expectations are not checked ("" when they are)."""
    if snapshot.status == sm.STOPPED:
        return "not checked: the run was stopped"
    started = any(a.state != sm.NEW for a in snapshot.actors)
    if snapshot.status == sm.ERROR and not started:
        return "not checked: the run did not start"
    return ""


def _one(exp: Any, env: _Env) -> ExpectationResult:
    that = str(exp.that)
    text = exp.text or that
    where = f"line {exp.line}: " if exp.line else ""
    if exp.when is not None:
        try:
            holds = bool(_evaluate(exp.when, env))
        except Exception as exc:  # one line, whatever the expression did
            return ExpectationResult(text, that, False, f"{where}{_cannot(exp.when, exc)}")
        if not holds:
            needs = exp.needs or f"when {exp.when}"
            measured = _measured(str(exp.when), env)
            detail = f"inconclusive: needs {needs}" + (f" ({measured})" if measured else "")
            return ExpectationResult(text, that, False, detail, INCONCLUSIVE)
    try:
        value = _evaluate(exp.that, env)
    except Exception as exc:
        return ExpectationResult(text, that, False, f"{where}{_cannot(exp.that, exc)}")
    return ExpectationResult(text, that, bool(value), _measured(that, env))


def _evaluate(source: Any, env: _Env) -> Any:
    return compile_expr(source, EXPECT_FUNCTIONS)(env)


def _cannot(source: Any, exc: BaseException) -> str:
    text = str(source)
    shown = text if len(text) <= 60 else text[:57] + "..."
    message = str(exc).replace("\n", " ")
    if isinstance(exc, ExprError):
        return f"cannot evaluate: {message}"
    return f"cannot evaluate {shown!r}: {type(exc).__name__}: {message}"


def _measured(that: str, env: _Env) -> str:
    """The measured values the expression used ("elapsed=8.02, max_holders(pool)=5")."""
    try:
        tree = ast.parse(that, mode="eval")
    except SyntaxError:
        return ""
    parts: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            source = ast.get_source_segment(that, node) or ""
        elif isinstance(node, ast.Name) and node.id in env:
            value = env[node.id]
            if node.id in env.snapshot.knobs or value == node.id:
                continue  # knobs and names of things are not measurements
            source = node.id
        else:
            continue
        try:
            value = compile_expr(source, EXPECT_FUNCTIONS)(env)
        except Exception:  # a part that cannot be evaluated alone is not shown
            continue
        parts[source] = f"{value:.2f}" if isinstance(value, float) else repr(value)
    return ", ".join(f"{k}={v}" for k, v in parts.items())
