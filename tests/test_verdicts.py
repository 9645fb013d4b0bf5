"""Sound verdicts, class by class, on the fold: hand-written event streams over the
header a real run of the scenario would send (its effects included)."""

from __future__ import annotations

from typing import Any

import pytest

from tui_conc.engine.backends.thread import ThreadRun
from tui_conc.engine.wire import events as ev
from tui_conc.scenario import parse_scenario, resolve_knobs
from tui_conc.state import analysis
from tui_conc.state.fold import StateFolder

S = 1_000_000_000


class Run:
    """A fold over a scenario's real header, fed by actor and resource names."""

    def __init__(self, text: str) -> None:
        scenario = parse_scenario(text)
        trun = ThreadRun(scenario, resolve_knobs(scenario), lambda e: None)
        self.folder = StateFolder({"t0": 0, "backend": "thread", **trun.header()})
        self.a = {a.name: a.index for a in self.folder.actors}
        self.r = {r.name: r.index for r in self.folder.resources}
        self.t = 0
        self.fold(*[(ev.ACTOR_START, i, -1, 0, 100 + i) for i in self.a.values()])

    def fold(self, *events: tuple[Any, ...]) -> Run:
        self.folder.fold(list(events))
        return self

    def at(self, seconds: float) -> Run:
        self.t = int(seconds * S)
        return self.fold((ev.CLOCK, -1, -1, self.t))

    def acquired(self, actor: str, res: str) -> Run:
        return self.fold((ev.ACQUIRED, self.a[actor], self.r[res]))

    def released(self, actor: str, res: str) -> Run:
        return self.fold((ev.RELEASED, self.a[actor], self.r[res]))

    def waits(self, actor: str, target: str, how: str = "acquire", timeout: float | None = None):
        index = self.a[target] if how == "join" else self.r[target]
        return self.fold((ev.WAIT, self.a[actor], index, self.t, 0, how, timeout))

    def sleeps(self, actor: str, seconds: float = 1.0) -> Run:
        return self.fold((ev.SLEEP, self.a[actor], -1, self.t, 0, seconds))

    def ends(self, actor: str) -> Run:
        return self.fold((ev.ACTOR_DONE, self.a[actor], -1, self.t))

    def verdict(self, later: float = 1.0) -> analysis.Verdict:
        return analysis.judge(self.folder, self.t + int(later * S))


def scenario(resources: str, actors: str) -> str:
    return f"title: t\nchapter: c\nresources:\n{resources}\nactors:\n{actors}\n"


SIGNAL = scenario(
    "  items: {type: semaphore, value: 0}",
    "  producer:\n    steps: [{sleep: 1}, {release: items}]\n"
    "  consumer:\n    steps: [{acquire: items}, {acquire: items}]",
)


def test_a_semaphore_used_as_a_signal_is_not_a_deadlock_while_its_releaser_may_run() -> None:
    run = Run(SIGNAL).acquired("consumer", "items").waits("consumer", "items").sleeps("producer")
    verdict = run.verdict()
    assert not verdict.cycle and not verdict.stalled and not verdict.suspect
    # the producer gone, nobody can release it: a stall, not a deadlock of one
    verdict = run.ends("producer").verdict()
    assert verdict.stalled and not verdict.cycle


BUFFER = scenario(
    "  empty: {type: semaphore, value: 2}\n  full: {type: semaphore, value: 0}\n  mutex: lock",
    "  producer:\n    steps:\n      - repeat: 5\n        do: [{acquire: empty}, "
    "{with: mutex, do: [{log: put}]}, {release: full}]\n"
    "  consumer:\n    steps:\n      - repeat: 5\n        do: [{acquire: full}, "
    "{with: mutex, do: [{log: get}]}, {release: empty}, {sleep: 0.1}]",
)


def test_the_bounded_buffer_with_two_semaphores_is_neither_deadlock_nor_suspect() -> None:
    run = Run(BUFFER)
    run.acquired("producer", "empty").acquired("producer", "empty").waits("producer", "empty")
    run.sleeps("consumer")
    verdict = run.verdict(later=5)
    assert not verdict.cycle and not verdict.stalled
    assert not verdict.suspect  # permits taken without `with` are not ownership


PING_PONG = scenario(
    "  ping: {type: semaphore, value: 1}\n  pong: {type: semaphore, value: 0}",
    "  a:\n    steps: [{acquire: ping}, {sleep: 0.1}, {release: pong}]\n"
    "  b:\n    steps: [{acquire: pong}, {release: ping}]",
)


def test_a_semaphore_handoff_waits_for_whoever_may_release() -> None:
    run = Run(PING_PONG).acquired("a", "ping").sleeps("a").waits("b", "pong")
    assert not run.verdict().stalled
    run.ends("a")  # a ended without its release: b waits for ever
    assert run.verdict().stalled


OTHER_RELEASES = scenario(
    "  gate: lock",
    "  a:\n    steps: [{acquire: gate}, {acquire: gate}]\n"
    "  b:\n    steps: [{sleep: 0.5}, {release: gate}]",
)


def test_a_lock_another_thread_may_release_is_only_suspected() -> None:
    run = Run(OTHER_RELEASES).acquired("a", "gate").waits("a", "gate").sleeps("b")
    assert run.verdict(later=0.1).suspect == ()  # not held long enough to look suspicious
    verdict = run.verdict(later=1)
    assert not verdict.cycle and not verdict.stalled
    assert [e.sentence() for e in verdict.suspect] == ["a holds gate and waits for gate"]
    assert verdict.could_break == ("b",)
    # the release comes: the suspicion was right to stay a suspicion
    run.released("b", "gate").fold((ev.WAKE, 0, 0, run.t, True)).acquired("a", "gate")
    assert run.verdict().suspect == ()


def test_a_suspected_cycle_becomes_a_deadlock_once_nobody_else_can_break_it() -> None:
    text = scenario(
        "  A: lock\n  B: lock",
        "  x:\n    steps: [{with: A, do: [{with: B, do: [{log: x}]}]}]\n"
        "  y:\n    steps: [{with: B, do: [{with: A, do: [{log: y}]}]}]\n"
        "  janitor:\n    steps: [{sleep: 1}, {release: A}]",
    )
    run = Run(text).acquired("x", "A").acquired("y", "B").waits("x", "B").waits("y", "A")
    run.sleeps("janitor")
    verdict = run.verdict()
    assert not verdict.cycle and verdict.could_break == ("janitor",)
    assert {e.actor for e in verdict.suspect} == {"x", "y"}
    verdict = run.ends("janitor").verdict()
    assert [e.sentence() for e in verdict.cycle] == [
        "x holds A and waits for B",
        "y holds B and waits for A",
    ]


def test_timed_waits_are_never_stuck() -> None:
    run = Run(OTHER_RELEASES).acquired("a", "gate").waits("a", "gate", timeout=5.0).ends("b")
    verdict = run.verdict(later=10)
    assert verdict == analysis.Verdict()


RLOCKS = scenario(
    "  r: rlock\n  m: lock",
    "  w0:\n    steps: [{with: r, do: [{with: r, do: [{with: m, do: [{log: a}]}]}]}]\n"
    "  w1:\n    steps: [{with: m, do: [{with: r, do: [{log: b}]}]}]",
)


def test_an_rlock_held_twice_and_released_once_is_still_owned() -> None:
    run = Run(RLOCKS).acquired("w0", "r").acquired("w0", "r").released("w0", "r")
    assert run.folder.snapshot("running").locks[0].owners == (("w0", 1),)
    run.acquired("w0", "r").acquired("w1", "m").waits("w0", "m").waits("w1", "r")
    assert {e.actor for e in run.verdict().cycle} == {"w0", "w1"}
    run.released("w0", "r")  # one hold of two: w1 still waits on its owner
    assert {e.actor for e in run.verdict().cycle} == {"w0", "w1"}


def test_a_condition_waiter_already_notified_is_about_to_wake() -> None:
    text = scenario(
        "  c: condition",
        "  waiter:\n    steps: [{with: c, do: [{wait: c}]}]\n"
        "  notifier:\n    steps: [{with: c, do: [{notify: c}]}]",
    )
    run = Run(text).fold((ev.WAIT, 0, 0, 0, 0, "cond", None))
    run.fold((ev.NOTIFY, 1, 0, 0, 1)).ends("notifier")
    assert not run.verdict().stalled  # notified: it only has to take the lock back
    lost = Run(text).ends("notifier").fold((ev.WAIT, 0, 0, 0, 0, "cond", None))
    assert lost.verdict().stalled  # the lost wake-up: the notify came first


def test_threads_that_join_each_other_deadlock() -> None:
    text = scenario("  x: lock", "  a:\n    steps: [{join: b}]\n  b:\n    steps: [{join: a}]")
    run = Run(text).waits("a", "b", "join").waits("b", "a", "join")
    assert [e.sentence() for e in run.verdict().cycle] == [
        "a waits for b to end",
        "b waits for a to end",
    ]


def test_a_queue_get_waits_for_anyone_who_may_still_put() -> None:
    text = scenario(
        "  q: queue",
        "  getter:\n    steps: [{get: q}]\n  putter:\n    steps: [{sleep: 1}, {put: q, item: 1}]\n"
        "  bystander:\n    steps: [{get: q}]",
    )
    run = Run(text).waits("getter", "q", "get").waits("bystander", "q", "get").sleeps("putter")
    assert not run.verdict().stalled
    run.fold((ev.PUT, 1, 0))  # an item is there: a getter is about to take it
    run.ends("putter")
    assert not run.verdict().stalled
    run.fold((ev.GOT, 0, 0), (ev.ACTOR_DONE, 0, -1, run.t))
    assert run.verdict().stalled  # the bystander waits for a put that cannot come


def test_ios_and_actors_still_starting_are_never_stuck() -> None:
    text = scenario(
        "  srv: listener\n  q: queue",
        "  server:\n    steps: [{accept: srv}]\n  getter:\n    steps: [{get: q}]\n"
        "  late:\n    autostart: false\n    steps: [{put: q, item: 1}]\n"
        "  starter:\n    steps: [{sleep: 1}, {start: late}]",
    )
    run = Run(text)
    run.fold((ev.WAIT, 0, 99, 0, 0, "accept", None)).waits("getter", "q", "get").ends("starter")
    assert not run.verdict().stalled  # a client might connect from outside
    run.fold((ev.ACTOR_DONE, 0, -1, run.t))
    run.fold((ev.ACTOR_SPAWNED, 2, -1, run.t))  # `late` was started: it will put
    assert not run.verdict().stalled


def test_an_actor_nobody_can_start_any_more_cannot_wake_anyone() -> None:
    text = scenario(
        "  q: queue",
        "  getter:\n    steps: [{get: q}]\n"
        "  late:\n    autostart: false\n    steps: [{put: q, item: 1}]\n"
        "  starter:\n    steps: [{sleep: 1}, {start: late}]",
    )
    run = Run(text).fold((ev.ACTOR_START, 1, -1, 0, 0))
    run.folder.actors[1].state = "new"  # never started
    run.waits("getter", "q", "get")
    assert not run.verdict().stalled  # the starter may still start it
    run.ends("starter")
    assert run.verdict().stalled


def test_gevents_word_that_nothing_can_run_is_final() -> None:
    run = Run(OTHER_RELEASES).acquired("a", "gate").waits("a", "gate").sleeps("b")
    run.fold((ev.BLOCKED_FOREVER, -1, -1, run.t, "This operation would block forever"))
    verdict = run.verdict(later=0)
    assert verdict.cycle or verdict.stalled


POOL = (
    "title: t\nchapter: c\nbackend: process\nresources:\n  pool: {type: pool, workers: 2}\n"
    "tasks:\n  work:\n    steps: [{sleep: 1}]\n"
    "actors:\n  main:\n    runs_in: main\n    steps:\n"
    "      - {submit: pool, task: work}\n      - {close: pool}\n      - {join: pool}\n"
)


def pool_folder() -> StateFolder:
    header = {
        "t0": 0,
        "backend": "process",
        "actors": [
            {"name": "main", "group": "main"},
            {"name": "pool-w0", "group": "pool"},
            {"name": "pool-w1", "group": "pool"},
        ],
        "resources": [{"name": "pool", "type": "pool", "workers": 2}],
        "effects": {"main": [["submit", 0]], "pool": []},
        "starters": {"main": []},
        "autostart": {"main": True},
    }
    f = StateFolder(header)
    f.fold([(ev.ACTOR_START, i, -1, 0, i) for i in range(3)])
    f.fold([(ev.SUBMIT, 0, 0, 0, 1, "work()"), (ev.TASK_BEGIN, 1, 0, 0, 1)])
    f.fold([(ev.POOL_CLOSE, 0, 0, 0), (ev.WAIT, 0, 0, 0, 2, "pool", None)])
    return f


def test_a_join_on_a_pool_whose_tasks_run_is_not_a_stall() -> None:
    f = pool_folder()
    assert not analysis.judge(f, 5 * S).stalled


def test_a_pool_that_lost_a_task_never_joins() -> None:
    f = pool_folder()
    f.fold([(ev.ACTOR_KILLED, 1, -1, S, "killed by SIGKILL (signal 9)")])
    snap = f.snapshot("running")
    assert snap.pools[0].lost == ("work()",)
    f.fold([(ev.ACTOR_START, 1, -1, S, 9)])  # its replacement, idle
    assert analysis.judge(f, 5 * S).stalled


@pytest.mark.parametrize("how", ["get", "put", "event", "cond", "qjoin", "pipe"])
def test_a_wait_with_a_timeout_is_never_stuck(how: str) -> None:
    header = {
        "t0": 0,
        "actors": [{"name": "a", "group": "a"}],
        "resources": [{"name": "r", "type": "queue", "maxsize": 1}],
        "effects": {"a": []},
    }
    f = StateFolder(header)
    f.fold([(ev.ACTOR_START, 0, -1, 0, 1), (ev.WAIT, 0, 0, 0, 0, how, 1.0)])
    assert not analysis.judge(f, 10 * S).stalled
    f.fold([(ev.WAKE, 0, 0, S, False), (ev.WAIT, 0, 0, S, 0, how, None)])
    # an empty queue has room for a put, and no unfinished task for a join to wait on
    assert analysis.judge(f, 10 * S).stalled == (how not in ("put", "qjoin"))


def test_a_run_whose_actors_have_not_started_yet_is_not_a_stall() -> None:
    """Pool workers start before the run: idle, with nobody to submit yet, they are not
    a stall while the main actors are still to be started."""
    header = {
        "t0": 0,
        "backend": "process",
        "actors": [{"name": "main", "group": "main"}, {"name": "pool-w0", "group": "pool"}],
        "resources": [{"name": "pool", "type": "pool", "workers": 1}],
        "effects": {"main": [], "pool": []},
        "starters": {"main": []},
        "autostart": {"main": True},
    }
    f = StateFolder(header)
    f.fold([(ev.ACTOR_START, 1, -1, 0, 9)])
    assert not analysis.judge(f, 5 * S).stalled


def _alone(resource: dict, how: str, before: list) -> StateFolder:
    """One actor waiting (no timeout) on ``resource`` after ``before``; nobody can wake it."""
    header = {
        "t0": 0,
        "actors": [{"name": "a", "group": "a"}, {"name": "b", "group": "b"}],
        "resources": [{"name": "r", **resource}],
        "effects": {"a": [], "b": []},
        "autostart": {"a": True, "b": True},
        "starters": {"a": [], "b": []},
    }
    f = StateFolder(header)
    f.fold([(ev.ACTOR_START, 0, -1, 0, 1), (ev.ACTOR_START, 1, -1, 0, 2), *before])
    f.fold([(ev.ACTOR_DONE, 1, -1, 0), (ev.WAIT, 0, 0, 0, 0, how, None)])
    return f


@pytest.mark.parametrize(
    ("resource", "how", "there", "absent"),
    [
        ({"type": "lock"}, "acquire", [], [(ev.ACQUIRED, 1, 0)]),
        ({"type": "rlock"}, "acquire", [(ev.ACQUIRED, 0, 0)], [(ev.ACQUIRED, 1, 0)]),
        ({"type": "semaphore", "value": 1}, "acquire", [], [(ev.ACQUIRED, 1, 0)]),
        (
            {"type": "semaphore", "value": 3},
            "acquire",
            [(ev.ACQUIRED, 1, 0)] * 2,
            [(ev.ACQUIRED, 1, 0)] * 3,
        ),
        ({"type": "queue", "maxsize": 0}, "get", [(ev.PUT, 1, 0)], []),
        ({"type": "queue", "maxsize": 1}, "put", [], [(ev.PUT, 1, 0)]),
        (
            {"type": "queue", "maxsize": 0},
            "qjoin",
            [(ev.PUT, 1, 0), (ev.TASK_DONE, 1, 0)],
            [(ev.PUT, 1, 0)],
        ),
        ({"type": "event"}, "event", [(ev.SET, 1, 0, 0)], [(ev.SET, 1, 0, 0), (ev.CLEAR, 1, 0, 0)]),
        ({"type": "barrier", "parties": 1}, "barrier", [], None),
        ({"type": "pipe"}, "pipe", [(ev.PUT, 1, 0)], []),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_waiter_whose_resource_is_there_is_about_to_wake(resource, how, there, absent) -> None:
    """The fold may see a wait a moment before the wake it already has coming: what it
    waits for is there (a free lock, a permit, an item, room…), so it is not stuck,
    even with nobody left to give it anything. Once it is not there, it is."""
    assert not analysis.judge(_alone(resource, how, there), 5 * S).stalled
    if absent is not None:
        assert analysis.judge(_alone(resource, how, absent), 5 * S).stalled


def test_a_condition_waiter_is_woken_by_a_notify_in_arrival_order() -> None:
    header = {
        "t0": 0,
        "actors": [{"name": n, "group": n} for n in ("a", "b", "c")],
        "resources": [{"name": "c", "type": "condition"}],
        "effects": {"a": [], "b": [], "c": []},
    }
    f = StateFolder(header)
    f.fold([(ev.ACTOR_START, i, -1, 0, i) for i in range(3)])
    f.fold([(ev.WAIT, 0, 0, 0, 0, "cond", None), (ev.WAIT, 1, 0, 0, 0, "cond", None)])
    f.fold([(ev.NOTIFY, 2, 0, 0, 1), (ev.ACTOR_DONE, 2, -1, 0)])
    assert f.notified == {0}  # the longest waiter
    assert analysis.stuck_actors(f)[0] == {1}
    f.fold([(ev.NOTIFY, 2, 0, 0, -1)])  # notify_all
    assert f.notified == {0, 1}
