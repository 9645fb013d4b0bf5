"""The format says what it accepts: options per type, families, barriers, initial values
over knobs, what a child process may not do — refused at their line, or run as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_conc.scenario import ScenarioError, parse_scenario
from tui_conc.session import LiveRun
from tui_conc.state.expectations import check

HEAD = "title: t\nchapter: c\nbackend: {backend}\nknobs:\n  n: 3\nresources:\n"


def load(resources: str, steps: str, backend: str = "thread", extra: str = "") -> None:
    text = (
        HEAD.format(backend=backend)
        + resources
        + "\nactors:\n  w:\n    count: n\n    steps:\n"
        + steps
        + extra
    )
    parse_scenario(text, "f.yaml")


@pytest.mark.parametrize(
    ("resource", "line", "words"),
    [
        (
            "  m: {type: lock, value: 3}",
            7,
            "'value' does not apply to a lock (it takes count, lease, local)",
        ),
        ("  m: {type: lock, maxsize: 3}", 7, "'maxsize' does not apply to a lock"),
        ("  s: {type: semaphore, maxsize: 3}", 7, "'maxsize' does not apply to a semaphore"),
        ("  e: {type: event, kind: lifo}", 7, "'kind' does not apply to an event"),
        ("  q: {type: queue, parties: 2}", 7, "'parties' does not apply to a queue"),
        ("  x: {type: selector, value: 1}", 7, "it takes no options"),
        ("  m: {type: lok}", 7, "unknown resource type 'lok' — did you mean 'lock'"),
        ("  v: {type: variable, value: nope}", 7, "unknown name 'nope'"),
        ("  f: {type: lock, count: nope}", 7, "unknown name 'nope'"),
    ],
)
def test_options_that_do_not_apply_are_refused_at_their_line(resource, line, words) -> None:
    with pytest.raises(ScenarioError) as info:
        load(resource, "      - log: hi")
    assert info.value.line == line, str(info.value)
    assert words in info.value.message


@pytest.mark.parametrize(
    ("resources", "step", "words"),
    [
        ("  fork: {type: lock, count: n}", "      - acquire: fork", "is a family of locks"),
        ("  m: lock", "      - acquire: 'm[i]'", "'m' is one lock, not a family"),
        ("  fork: {type: lock, count: n}", "      - acquire: 'fork[j]'", "unknown name 'j'"),
        ("  fork: {type: lock, count: n}", "      - put: 'fork[i]'", "is a lock, not a queue"),
    ],
)
def test_a_family_is_named_by_member(resources, step, words) -> None:
    with pytest.raises(ScenarioError, match=words):
        load(resources, step)


CHILD = """title: t
chapter: c
backend: process
actors:
  main:
    runs_in: main
    steps: [{start: kid}, {join: kid}]
  kid:
    autostart: false
    steps:
      - log: hi
      - STEP
  other:
    autostart: false
    steps: [{log: hi}]
"""


@pytest.mark.parametrize(
    ("step", "words"),
    [
        ("join: other", "join: 'other'"),
        ("start: other", "start: 'other'"),
        ("log: '{alive_count()}'", "alive_count()"),
        ("if: alive('main')\n        then: [{log: x}]", "alive()"),
    ],
)
def test_a_child_process_cannot_start_join_or_list_actors(step, words) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(CHILD.replace("STEP", step), "f.yaml")
    assert info.value.line == 12, str(info.value)
    assert words in info.value.message and "runs_in: main" in info.value.message


RUNS = """title: t
chapter: c
backend: thread
backends: [thread, process, gevent]
knobs:
  n: {default: 4}
  start: {default: 10}
resources:
  slot: {type: semaphore, count: 2, value: 1}
  total: {type: variable, value: start * 2}
  seen: {type: list, value: "[start, start + 1]"}
  go: {type: event, value: true}
  gate: {type: barrier, parties: n}
  guard: lock
actors:
  w:
    count: n
    steps:
      - wait: go
      - wait: gate
        as: k
      - with: "slot[i % 2]"
        do:
          - with: guard  # the two slots let two actors in at once: guard the sum
            do:
              - read: total
                as: t
              - write: total
                value: t + 1
      - log: "{actor} arrived {k}"
expect:
  - total == start * 2 + n
  - all(max_holders(s) == 1 for s in slot)
  - acquisitions(slot[0]) == n // 2
  - sorted([int(x) for x in range(n)]) == [0, 1, 2, 3]
  - log_count('arrived') == n
"""


@pytest.mark.parametrize("backend", ["thread", "process", "gevent"])
def test_families_barriers_initial_values_and_a_set_event_run(tmp_path: Path, backend) -> None:
    path = tmp_path / "runs.yaml"
    path.write_text(RUNS)
    scenario = parse_scenario(RUNS)
    run = LiveRun(path, backend=backend).start()
    try:
        assert run.wait(30)
    finally:
        run.stop()
    snapshot = run.snapshot(log_tail=0)
    assert snapshot.status == "finished", snapshot.error
    results = check(scenario, snapshot, run.log_texts())
    assert [r.outcome for r in results] == ["passed"] * 5, [(r.that, r.detail) for r in results]
    assert [lock.name for lock in snapshot.locks] == ["slot[0]", "slot[1]", "guard"]
    (barrier,) = snapshot.barriers
    assert (barrier.parties, barrier.rounds, barrier.broken) == (4, 1, False)
    assert {v.name: v.value for v in snapshot.variables}["seen"] == [10, 11]


def test_a_member_out_of_range_fails_the_actor_with_its_line(tmp_path: Path) -> None:
    text = (
        "title: t\nchapter: c\nresources:\n  f: {type: lock, count: 2}\n"
        "actors:\n  a:\n    steps:\n      - acquire: 'f[5]'\n"
    )
    path = tmp_path / "oob.yaml"
    path.write_text(text)
    run = LiveRun(path).start()
    try:
        assert run.wait(20)
    finally:
        run.stop()
    (actor,) = run.snapshot().actors
    assert actor.state == "failed"
    assert "line 8" in actor.detail and "f[5]: the family has 2 members" in actor.detail
