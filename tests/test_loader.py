"""Loading scenarios: every kind of bad input gets one clear file:line error."""

from __future__ import annotations

import textwrap

import pytest

from tui_conc.scenario import (
    ScenarioError,
    load_catalog,
    load_scenario,
    parse_assignments,
    parse_scenario,
    resolve_knobs,
)
from tui_conc.scenario import model as m

from .conftest import SCENARIOS

GOOD = textwrap.dedent(
    """\
    title: t
    chapter: c
    knobs:
      workers: 3
      hold: {default: 0.5, min: 0}
    resources:
      lock: lock
      q: {type: queue, maxsize: 2}
      num: {type: variable, value: 1}
    actors:
      worker:
        count: workers
        steps:
          - with: lock
            do:
              - read: num
                as: temp
              - sleep: hold
              - write: num
                value: temp - 1
          - put: q
            item: i
          - get: q
            as: x
            timeout: 1
            on_empty: [{log: "empty"}]
          - repeat: 2
            do: [break]
    expect:
      - num < 1
      - that: puts(q) == 3
        text: three puts
    """
)


def error(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "bad.yaml")
    return info.value


def test_a_good_file_loads_into_typed_models() -> None:
    sc = parse_scenario(GOOD, "good.yaml")
    step = sc.actors["worker"].steps[0]
    assert isinstance(step, m.With) and step.with_ == "lock" and step.line == 14
    assert isinstance(step.do[2], m.Write) and step.do[2].value == "temp - 1"
    assert sc.knobs["workers"].default == 3
    assert sc.expect[1].text == "three puts"


@pytest.mark.parametrize(
    ("replace", "by", "line", "words"),
    [
        ("- with: lock", "- wiht: lock", 14, "unknown step 'wiht'"),
        ("- with: lock", "- with: lokc", 14, "unknown resource 'lokc'"),
        ("- put: q", "- put: lock", 21, "'lock' is a lock, not a queue"),
        ("timeout: 1", "timeout: [1]", 25, "expected"),
        ("timeout: 1", "timeuot: 1", 25, "unknown option 'timeuot'"),
        ("value: temp - 1", "value: temp -", 20, "bad expression"),
        ("value: temp - 1", "value: tmp - 1", 20, "unknown name 'tmp'"),
        ("count: workers", "count: wrkers", 12, "unknown name 'wrkers'"),
        ("do: [break]", "do: [{log: '{nope}'}]", 28, "unknown name 'nope'"),
        ("  - num < 1", "  - num <", 30, "bad expression"),
        ("  - num < 1", "  - unknown_fn(num)", 30, "unknown function 'unknown_fn'"),
        ("  lock: lock", "  lock: mutex", 7, "unknown resource type 'mutex'"),
        ("title: t", "title: [t]", 1, "expected str"),
        ("chapter: c\n", "", 1, "missing 'chapter'"),
        ("hold: {default: 0.5, min: 0}", "hold: {default: -1, min: 0}", 5, "below its minimum"),
        ("- repeat: 2\n        do: [break]", "- break", 27, "break outside"),
        # sizes, with the default knobs: each refused at its line, before any run
        ("count: workers", "count: workers * 10**6", 12, "count must be between 0 and 10,000"),
        ("count: workers", "count: workers / 2", 12, "count must be a whole number, got 1.5"),
        ("count: workers", "count: \"'three'\"", 12, "count must be a whole number"),
        ("count: workers", "count: workers // 0", 12, "count: integer division or modulo by zero"),
        ("maxsize: 2", "maxsize: -1", 8, "maxsize must be between 0 and"),
        ("maxsize: 2", "maxsize: hold", 8, "maxsize must be a whole number, got 0.5"),
        ("maxsize: 2}", "maxsize: 2}\n  s: {type: semaphore, value: -1}", 9, "value must be"),
        ("maxsize: 2}", "maxsize: 2}\n  b: {type: barrier, parties: 0}", 9, "between 1 and"),
        ("maxsize: 2}", "maxsize: 2}\n  f: {type: lock, count: 5000}", 9, "between 0 and 1,000"),
    ],
)
def test_errors_name_the_line_and_the_problem(replace, by, line, words) -> None:
    assert replace in GOOD, replace
    exc = error(GOOD.replace(replace, by, 1))
    assert exc.file == "bad.yaml"
    assert exc.line == line, str(exc)
    assert words in exc.message, str(exc)
    assert str(exc).startswith(f"bad.yaml:{line}: ")
    assert "\n" not in str(exc)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("title: [unclosed\n", 1, "bad YAML"),  # never past the last line
        ("title: a\ntitle: b\n", 2, "duplicate key 'title'"),
        ("- just\n- a list\n", 1, "must be a mapping"),
        ("", 1, "must be a mapping"),
        ("title: t\nchapter: c\nactors: {}\n", 3, "at least one actor"),
        ("title: t\nchapter: c\nactors:\n  a:\n    steps: sleep\n", 5, "expected list, got str"),
        ("title: t\nchapter: c\nactors:\n  a:\n    steps: [3]\n", 5, "a step must be a mapping"),
        (
            "title: t\nchapter: c\nactors:\n  a:\n    steps: [{start: a}]\n",
            5,
            "starts by itself",
        ),
        ("title: t\nchapter: c\nactors:\n  bad-name:\n    steps: []\n", 4, "bad name"),
    ],
)
def test_structural_errors(text, line, words) -> None:
    exc = error(text)
    assert exc.line == line, str(exc)
    assert words in exc.message, str(exc)


def test_unreadable_file(tmp_path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")


def test_knob_overrides_are_typed_and_checked() -> None:
    sc = parse_scenario(GOOD)
    assert resolve_knobs(sc, {"workers": "20", "hold": "1"}) == {"workers": 20, "hold": 1.0}
    with pytest.raises(ScenarioError, match="unknown knob 'wrkers'"):
        resolve_knobs(sc, {"wrkers": "2"})
    with pytest.raises(ScenarioError, match="wants int"):
        resolve_knobs(sc, {"workers": "many"})
    with pytest.raises(ScenarioError, match="below its minimum"):
        resolve_knobs(sc, {"hold": "-2"})
    with pytest.raises(ScenarioError, match=r"^--set:1: actor 'worker': count must be between"):
        resolve_knobs(sc, {"workers": "20000"})  # the sizes a knob makes are checked too
    assert parse_assignments(["a=1", "b = x"]) == {"a": "1", "b": "x"}
    with pytest.raises(ScenarioError, match="NAME=VALUE"):
        parse_assignments(["oops"])


def test_every_shipped_scenario_is_valid() -> None:
    entries = load_catalog(SCENARIOS)
    assert len(entries) >= 11
    assert [str(e.error) for e in entries if not e.valid] == []


def test_a_broken_file_does_not_hide_the_others(tmp_path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text("title: [oops\n")
    entries = {e.path.name: e for e in load_catalog(tmp_path)}
    assert entries["good.yaml"].valid
    assert not entries["bad.yaml"].valid
    assert str(entries["bad.yaml"].error).startswith(f"{tmp_path / 'bad.yaml'}:1: bad YAML")


def test_switch_needs_the_greenlet_backend_and_an_actor() -> None:
    base = "title: t\nchapter: c\nbackend: {b}\nactors:\n  a:\n    steps: [{{switch: {t}}}]\n"
    with pytest.raises(ScenarioError, match="switch needs backend: greenlet"):
        parse_scenario(base.format(b="thread", t="a"))
    with pytest.raises(ScenarioError, match="unknown actor 'zz'"):
        parse_scenario(base.format(b="greenlet", t="zz"))
    assert parse_scenario(base.format(b="greenlet", t="a")).backend == "greenlet"


PROCESS_BASE = """\
title: t
chapter: c
backend: {backend}
resources:
  {resources}
tasks:
  work:
    steps: [{{log: "{{n}}"}}]
actors:
  main:
    runs_in: {runs_in}
    steps:
      - {step}
"""


@pytest.mark.parametrize(
    ("backend", "resources", "runs_in", "step", "line", "words"),
    [
        ("thread", "pool: {type: pool}", "main", "{close: pool}", 5, "needs the process backend"),
        (
            "process",
            "pool: {type: pool}",
            "process",
            "{submit: pool, task: work}",
            11,
            "a pool belongs to the process that made it",
        ),
        (
            "process",
            "pool: {type: pool}",
            "main",
            "{submit: pool, task: nope}",
            13,
            "unknown task 'nope'",
        ),
        (
            "process",
            "conn: {type: pipe, ends: [a]}",
            "main",
            "{recv: a}",
            5,
            "ends must name its two ends",
        ),
        (
            "process",
            "conn: {type: pipe, ends: [main, b]}",
            "main",
            "{recv: b}",
            5,
            "the name 'main' is taken",
        ),
        (
            "process",
            "pool: {type: pool, workers: 100}",
            "main",
            "{submit: pool, task: work, args: {n: 1}}",
            5,
            "pool 'pool': workers must be between 1 and 64, got 100",
        ),
        (
            "process",
            "d: {type: dict}",
            "main",
            "{append: d, item: 1}",
            13,
            "'d' is a dict, not a list",
        ),
        (
            "process",
            "d: {type: dict}",
            "main",
            "{update: d, key: k, value: 1}",
            13,
            "unknown name 'k'",
        ),
    ],
)
def test_process_resources_and_steps_are_checked(backend, resources, runs_in, step, line, words):
    text = PROCESS_BASE.format(backend=backend, resources=resources, runs_in=runs_in, step=step)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "p.yaml")
    assert info.value.line == line, str(info.value)
    assert words in info.value.message


def test_a_task_sees_the_args_its_submits_pass_and_pids() -> None:
    text = PROCESS_BASE.format(
        backend="process",
        resources="pool: {type: pool, workers: 2}",
        runs_in="main",
        step="{submit: pool, task: work, args: {n: pid}}",
    )
    scenario = parse_scenario(text)
    assert scenario.in_process("main", "process") is False
    assert list(scenario.tasks) == ["work"]


def test_a_process_scenario_refuses_what_processes_cannot_share() -> None:
    text = (
        "title: t\nchapter: c\nbackends: [thread, process]\n"
        "resources:\n  {res}\nactors:\n  a:\n    steps: [log: hi]\n"
    )
    with pytest.raises(ScenarioError, match=r"listener .* cannot be shared between processes"):
        parse_scenario(text.format(res="srv: {type: listener}"))
    with pytest.raises(ScenarioError, match="FIFO only"):
        parse_scenario(text.format(res="q: {type: queue, kind: lifo}"))
