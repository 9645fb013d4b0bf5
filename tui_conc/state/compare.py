"""Two runs of one scenario, side by side: what changed between their reports.

A learner changes a knob (``hold`` from 0.2 to 0) and runs again; the diff
says what that did: the verdict, the duration, the contention on each lock,
the depth of each queue, the busiest pool, the shared variables.
"""

from __future__ import annotations

from typing import Any

#: Per resource type, the figures worth comparing (in this order).
_FIGURES = {
    "queue": ("max_depth", "puts", "get_blocks", "put_blocks"),
    "event": ("sets",),
}
_LOCK_FIGURES = ("max_holders", "contended", "acquisitions", "waves")


def diff_reports(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Lines naming what differs from run ``a`` to run ``b`` (``x → y``); the knobs
    that differ first, then the verdict, the duration and the figures."""
    lines = []
    knobs = sorted(set(a.get("knobs", {})) | set(b.get("knobs", {})))
    changed = [
        f"{k} {_show(a['knobs'].get(k))} → {_show(b['knobs'].get(k))}"
        for k in knobs
        if a.get("knobs", {}).get(k) != b.get("knobs", {}).get(k)
    ]
    lines.append("knobs: " + (", ".join(changed) if changed else "the same"))
    if a["outcome"] != b["outcome"]:
        lines.append(f"outcome: {a['outcome']} → {b['outcome']}")
    cycle_a, cycle_b = _cycle(a), _cycle(b)
    if cycle_a != cycle_b:
        lines.append(f"deadlock cycle: {cycle_a or 'none'} → {cycle_b or 'none'}")
    lines.append(f"duration: {a['duration_s']:.2f} s → {b['duration_s']:.2f} s")
    for name in sorted(set(a["resources"]) & set(b["resources"])):
        ra, rb = a["resources"][name], b["resources"][name]
        figures = _FIGURES.get(ra.get("type", ""), _LOCK_FIGURES)
        moved = [
            f"{f.replace('_', ' ')} {ra[f]} → {rb[f]}"
            for f in figures
            if f in ra and f in rb and ra[f] != rb[f]
        ]
        if moved:
            lines.append(f"{name}: " + ", ".join(moved))
    for name in sorted(set(a.get("pools", {})) & set(b.get("pools", {}))):
        pa, pb = a["pools"][name], b["pools"][name]
        moved = [
            f"{f.replace('_', ' ')} {pa[f]} → {pb[f]}"
            for f in ("max_busy", "done")
            if pa[f] != pb[f]
        ]
        if moved:
            lines.append(f"{name}: " + ", ".join(moved))
    for name in sorted(set(a["variables"]) & set(b["variables"])):
        if a["variables"][name] != b["variables"][name]:
            va, vb = a["variables"][name], b["variables"][name]
            lines.append(f"{name}: {_show(va)} → {_show(vb)}")
    passed_a = sum(e["passed"] for e in a["expectations"])
    passed_b = sum(e["passed"] for e in b["expectations"])
    if (passed_a, len(a["expectations"])) != (passed_b, len(b["expectations"])):
        lines.append(
            f"expectations met: {passed_a}/{len(a['expectations'])} → "
            f"{passed_b}/{len(b['expectations'])}"
        )
    return lines


def _cycle(report: dict[str, Any]) -> str:
    return ", ".join(e["actor"] for e in report.get("cycle", []))


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 24 else text[:21] + "..."
