"""The end-of-run report: one dict (the ``--json`` contract) and its text form."""

from __future__ import annotations

from typing import Any

from tui_conc.state import model as sm
from tui_conc.state.expectations import ExpectationResult


def build_report(
    file: str,
    snapshot: sm.Snapshot,
    expectations: list[ExpectationResult],
    warnings: list[str] | None = None,
    suspicions: list[sm.Suspicion] | None = None,
) -> dict[str, Any]:
    """The report: outcome, cycle, resources, variables, duration_s, expectations, …"""
    resources: dict[str, dict[str, Any]] = {}
    for lock in snapshot.locks:
        resources[lock.name] = {
            "type": lock.kind,
            "max_holders": lock.max_holders,
            "acquisitions": lock.acquisitions,
            "contended": lock.contended,
            "waves": lock.waves,
            "holders": [name for name, _ in lock.owners],
            "waiters": list(lock.waiters),
        }
    for q in snapshot.queues:
        resources[q.name] = {
            "type": "queue",
            "kind": q.kind,
            "maxsize": q.maxsize,
            "max_depth": q.max_depth,
            "depth": q.depth,
            "puts": q.puts,
            "gets": q.gets,
            "put_blocks": q.put_blocks,
            "get_blocks": q.get_blocks,
        }
    for e in snapshot.events:
        resources[e.name] = {"type": "event", "is_set": e.is_set, "sets": e.sets}
    sockets = {
        s.label: {
            "accepted": s.accepted,
            "max_open": s.max_open,
            "empty_polls": s.misses,
            "bytes_in": s.bytes_in,
            "bytes_out": s.bytes_out,
        }
        for s in snapshot.sockets
        if s.role == "listen"
    }
    pools = {
        p.name: {
            "workers": p.workers,
            "submitted": p.submitted,
            "done": p.done,
            "failed": p.failed,
            "lost": list(p.lost),
            "killed": p.killed,
            "never_ran": len(p.never_ran),
            "max_busy": p.max_busy,
        }
        for p in snapshot.pools
    }
    selects = {
        sel.name: {"calls": sel.calls, "blocked_s": round(sel.blocked_s, 4)}
        for sel in snapshot.selects
    }
    return {
        "title": snapshot.title,
        "sockets": sockets,
        "selects": selects,
        "pools": pools,
        "file": file,
        "outcome": snapshot.status,
        "duration_s": round(snapshot.elapsed_s, 4),
        "cycle": [
            {
                "actor": e.actor,
                "holds": list(e.holds),
                "waits_for": e.waits_for,
                **({"where": e.where} if e.where else {}),
            }
            for e in snapshot.cycle
        ],
        "resources": resources,
        "variables": {v.name: v.value for v in snapshot.variables},
        "actors": {a.name: a.state for a in snapshot.actors},
        "failures": {a.name: a.detail for a in snapshot.actors if a.state == sm.FAILED},
        "knobs": snapshot.knobs,
        "events": snapshot.events_folded,
        "error": snapshot.error,
        "warnings": list(warnings or []),
        # deadlocks that were only likely: shown during the run, never a verdict
        "suspected": [
            {
                "at_s": round(s.at_s, 3),
                "cycle": [
                    {"actor": e.actor, "holds": list(e.holds), "waits_for": e.waits_for}
                    for e in s.cycle
                ],
                "could_break": list(s.could_break),
            }
            for s in (suspicions or [])
        ],
        "expectations": [
            {
                "text": r.text,
                "that": r.that,
                "passed": r.passed,
                "status": r.outcome,
                "measured": r.detail,
            }
            for r in expectations
        ],
        # inconclusive and unchecked expectations are not failures
        "passed": not any(r.failed for r in expectations),
    }


_MARKS = {
    "passed": "PASS",
    "failed": "FAIL",
    "inconclusive": "INCONCLUSIVE",
    "not checked": "NOT CHECKED",
}


def render_text(report: dict[str, Any]) -> str:
    """A plain-text report for the terminal."""
    lines = [
        f"{report['title']}  ({report['file']})",
        f"outcome: {report['outcome']}   duration: {report['duration_s']:.2f}s"
        f"   events: {report['events']:,}",
    ]
    if report["error"]:
        lines.append(f"error: {report['error']}")
    for warning in report.get("warnings", []):
        lines.append(f"warning: {warning}")
    challenge = report.get("challenge")
    if challenge:
        verdict = "REACHED" if challenge["reached"] else "not reached"
        lines.append(f"challenge {verdict}: {challenge['goal']}  ({challenge['text']})")
    for s in report.get("suspected", []):
        cycle = "; ".join(f"{e['actor']} waits for {e['waits_for']}" for e in s["cycle"])
        breakers = ", ".join(s["could_break"]) or "nobody"
        lines.append(
            f"suspected deadlock at {s['at_s']:.2f}s: {cycle} (could break it: {breakers})"
        )
    if report["cycle"]:
        lines.append("deadlock cycle:")
        for edge in report["cycle"]:
            held = f"holds {' and '.join(edge['holds'])} and " if edge["holds"] else ""
            who = f"{edge['actor']} (on {edge['where']})" if edge.get("where") else edge["actor"]
            lines.append(f"  {who} {held}waits for {edge['waits_for']}")
    if report["resources"]:
        lines.append("resources:")
        for name, r in report["resources"].items():
            if r["type"] == "queue":
                lines.append(
                    f"  {name} ({r['kind']} queue, maxsize {r['maxsize'] or '∞'}): "
                    f"puts {r['puts']}, gets {r['gets']}, max depth {r['max_depth']}, "
                    f"left {r['depth']}, blocked puts {r['put_blocks']}, "
                    f"blocked gets {r['get_blocks']}"
                )
            elif r["type"] == "event":
                lines.append(f"  {name} (event): {'set' if r['is_set'] else 'clear'}")
            else:
                lines.append(
                    f"  {name} ({r['type']}): acquired {r['acquisitions']}×, "
                    f"contended {r['contended']}×, max holders {r['max_holders']}"
                    + (f", held by {', '.join(r['holders'])}" if r["holders"] else "")
                )
    for name, s in report["sockets"].items():
        lines.append(
            f"listener {name}: accepted {s['accepted']}, at most {s['max_open']} open at once, "
            f"{s['empty_polls']} empty polls"
        )
    for name, p in report.get("pools", {}).items():
        lost = f", lost {len(p['lost'])} ({', '.join(p['lost'])})" if p["lost"] else ""
        lines.append(
            f"pool {name} ({p['workers']} workers): submitted {p['submitted']}, done {p['done']}, "
            f"failed {p['failed']}{lost}, at most {p['max_busy']} busy"
        )
    for name, sel in report["selects"].items():
        lines.append(f"{name}: {sel['calls']} calls, {sel['blocked_s']:.3f}s blocked")
    if report["variables"]:
        lines.append(
            "variables: "
            + ", ".join(
                f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v!r}"
                for k, v in report["variables"].items()
            )
        )
    for name, message in report["failures"].items():
        lines.append(f"failed: {name}: {message}")
    if report["expectations"]:
        lines.append("expectations:")
        for e in report["expectations"]:
            mark = _MARKS.get(e.get("status", ""), "PASS" if e["passed"] else "FAIL")
            measured = f"  [{e['measured']}]" if e["measured"] else ""
            lines.append(f"  {mark}  {e['text']}{measured}")
    return "\n".join(lines)
