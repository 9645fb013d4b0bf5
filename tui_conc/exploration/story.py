"""A controlled run told as a story: one line per chosen step, what it did."""

from __future__ import annotations

from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.exploration.runs import ControlledResult


def story(result: ControlledResult) -> list[str]:
    """``worker-0  L25 read num: reads num = 100`` for each step the schedule chose."""
    header, events = result.header, result.events
    actors = [a["name"] for a in header.get("actors", [])]
    resources = [r["name"] for r in header.get("resources", [])]
    steps = header.get("steps", [])
    width = max((len(n) for n in actors), default=0)
    lines = []
    bounds = [d.first_event for d in result.decisions[1:]] + [len(events)]
    for d, end in zip(result.decisions, bounds, strict=True):
        did = [
            text
            for e in events[d.first_event : end]
            if e[1] == d.chosen and (text := _said(e, actors, resources))
        ]
        where = ""
        if 0 <= d.step < len(steps):
            line, text = steps[d.step]
            where = f"L{line} {text}"
        said = "; ".join(dict.fromkeys(did)) or "goes on"
        lines.append(
            f"{actors[d.chosen]:<{width}}  {where}: {said}"
            if where
            else f"{actors[d.chosen]:<{width}}  {said}"
        )
    if result.decisions:  # nobody could go on: each blocked actor walks into its wait
        last = result.decisions[-1]
        tail: dict[int, list[str]] = {}
        for e in events[last.first_event :]:
            if e[1] >= 0 and e[1] != last.chosen and (text := _said(e, actors, resources)):
                tail.setdefault(e[1], []).append(text)
        for a, did in tail.items():
            lines.append(f"{actors[a]:<{width}}  (nothing else can go): {'; '.join(did)}")
    return lines


def _said(e: tuple[Any, ...], actors: list[str], resources: list[str]) -> str:
    kind, res = e[0], e[2]
    name = resources[res] if 0 <= res < len(resources) else ""
    if kind == ev.READ:
        return f"reads {name} = {e[4]!r}"
    if kind == ev.WRITE:
        return f"writes {name} = {e[4]!r}"
    if kind == ev.ACQUIRED:
        return f"takes {name}"
    if kind == ev.RELEASED:
        return f"releases {name}"
    if kind == ev.WAIT:
        if e[5] == "join":
            return f"waits for {actors[res]} to end"
        if e[5] == "cond":
            return f"waits on {name} (lets go of its lock)"
        return f"waits for {name}"
    if kind == ev.WAKE:
        return "wakes up" if e[4] else "times out"
    if kind == ev.SET:
        return f"sets {name}"
    if kind == ev.CLEAR:
        return f"clears {name}"
    if kind == ev.NOTIFY:
        return f"notifies {name}" + (" (all)" if e[4] < 0 else "")
    if kind == ev.PUT:
        return f"puts into {name}"
    if kind in (ev.GOT, ev.GOT_ITEM):
        return f"gets from {name}"
    if kind == ev.FULL:
        return f"gives up: {name} is full"
    if kind == ev.EMPTY:
        return f"gives up: {name} is empty"
    if kind == ev.LOG:
        return f'logs "{e[4]}"'
    if kind == ev.SLEEP:
        return f"sleeps {e[5]:g} s (virtual: no wait)"
    if kind == ev.ACTOR_DONE:
        return "ends"
    if kind == ev.ACTOR_FAILED:
        return f"fails: {e[4]}"
    if kind == ev.TASK_DONE:
        return f"task_done on {name}"
    return ""
