"""Step numbers and texts: how a step is named in events and on screen."""

from __future__ import annotations

from tui_conc.scenario import model as m


def number_steps(scenario: m.Scenario) -> tuple[list[tuple[int, str]], dict[int, int]]:
    """Every step of the scenario (actors, then tasks) as (line, text), and id(step) → number.

    Deterministic, so a child process numbers its copy of the scenario the same way.
    """
    steps: list[tuple[int, str]] = []
    ids: dict[int, int] = {}

    def walk(items: list[m.Step]) -> None:
        for s in items:
            ids[id(s)] = len(steps)
            steps.append((s.line, describe(s)))
            for key in m.NESTED.get(m.STEP_KIND[type(s)], ()):
                walk(getattr(s, {"else": "else_"}.get(key, key)) or [])

    for group in scenario.actors.values():
        walk(group.steps)
    for task in scenario.tasks.values():
        walk(task.steps)
    return steps, ids


def describe(s: m.Step) -> str:
    """A short text for a step, as the actors panel shows it."""
    kind = m.STEP_KIND[type(s)]
    target = getattr(s, {"with": "with_", "while": "while_", "if": "if_"}.get(kind, kind), None)
    if isinstance(s, m.Sleep) and isinstance(s.sleep, m.RandomRange):
        target = f"{s.sleep.min}..{s.sleep.max}"
    if isinstance(s, m.Log | m.Let | m.Break):
        return kind
    return f"{kind} {target}" if target is not None else kind
