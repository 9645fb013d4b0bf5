"""Check a scenario's expectations against the final state of its run."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tui_conc.scenario.expr import COMMON_FUNCTIONS, ExprError, compile_expr
from tui_conc.scenario.model import Scenario
from tui_conc.state import model as sm


@dataclass(frozen=True, slots=True)
class ExpectationResult:
    """One expectation: its sentence, whether it held, and what was measured."""

    text: str
    that: str
    passed: bool
    detail: str = ""


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
    **COMMON_FUNCTIONS,
}


def check(
    scenario: Scenario, snapshot: sm.Snapshot, log_texts: Sequence[str]
) -> list[ExpectationResult]:
    """Evaluate every expectation; an expectation that cannot be evaluated fails."""
    env = _Env(snapshot.knobs)
    env.snapshot = snapshot
    env.log_texts = log_texts
    env.update({v.name: v.value for v in snapshot.variables})
    for name in scenario.resources:
        env.setdefault(name, name)
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
    results = []
    for exp in scenario.expect:
        that = str(exp.that)
        text = exp.text or that
        try:
            value = compile_expr(exp.that, EXPECT_FUNCTIONS)(env)
            results.append(ExpectationResult(text, that, bool(value), _measured(that, env)))
        except (ExprError, ValueError, TypeError, KeyError, ZeroDivisionError) as exc:
            results.append(ExpectationResult(text, that, False, f"cannot evaluate: {exc}"))
    return results


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
        except (ExprError, ValueError, TypeError, KeyError):
            continue
        parts[source] = f"{value:.2f}" if isinstance(value, float) else repr(value)
    return ", ".join(f"{k}={v}" for k, v in parts.items())
