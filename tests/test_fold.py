"""The state fold and its analyses, on hand-written event streams."""

from __future__ import annotations

from tui_conc.engine.wire import events as ev
from tui_conc.session import ReplayRun
from tui_conc.state import analysis
from tui_conc.state.fold import StateFolder

from .conftest import TRACES

S = 1_000_000_000  # one second in ns


def header(actors: int, resources: list[dict]) -> dict:
    return {
        "t0": 0,
        "title": "t",
        "actors": [{"name": f"w-{i}", "group": "w", "index": i} for i in range(actors)],
        "resources": resources,
        "steps": [[7, "acquire a"], [9, "acquire b"]],
    }


def started(n: int) -> list[tuple]:
    return [(ev.ACTOR_START, i, -1, 1, 100 + i) for i in range(n)]


def test_lock_owner_waiters_and_release() -> None:
    f = StateFolder(header(2, [{"name": "a", "type": "lock"}]))
    f.fold(started(2))
    f.fold([(ev.ACQUIRED, 0, 0), (ev.WAIT, 1, 0, 2 * S, 0, "acquire", None)])
    snap = f.snapshot("running")
    (lock,) = snap.locks
    assert lock.owners == (("w-0", 1),)
    assert lock.waiters == ("w-1",)
    assert snap.actors[1].label == "blocked on a"
    assert snap.actors[1].step == "L7 acquire a"
    assert snap.actors[0].native_id == 100
    f.fold([(ev.RELEASED, 0, 0), (ev.WAKE, 1, 0, 3 * S, True), (ev.ACQUIRED, 1, 0)])
    snap = f.snapshot("running", now=4 * S)
    assert snap.locks[0].owners == (("w-1", 1),)
    assert snap.locks[0].waiters == ()
    assert snap.locks[0].contended == 1
    assert snap.actors[1].state == "running"
    assert snap.actors[1].since_s == 1.0


def test_rlock_counts_recursion_and_semaphore_tracks_value() -> None:
    f = StateFolder(
        header(3, [{"name": "r", "type": "rlock"}, {"name": "s", "type": "semaphore", "value": 2}])
    )
    f.fold(started(3))
    f.fold([(ev.ACQUIRED, 0, 0), (ev.ACQUIRED, 0, 0)])
    f.fold([(ev.ACQUIRED, 0, 1), (ev.ACQUIRED, 1, 1), (ev.WAIT, 2, 1, S, 1, "acquire", None)])
    snap = f.snapshot("running")
    rlock, sem = snap.locks
    assert rlock.owners == (("w-0", 2),)
    assert (sem.value, sem.initial, sem.max_holders) == (0, 2, 2)
    assert sem.waiters == ("w-2",)
    f.fold([(ev.RELEASED, 1, 1)])
    assert f.snapshot("running").locks[1].value == 1


def test_queue_depth_history_and_blocked_sides() -> None:
    f = StateFolder(header(2, [{"name": "q", "type": "queue", "kind": "fifo", "maxsize": 2}]))
    f.fold(started(2))
    f.fold([(ev.PUT, 0, 0), (ev.PUT, 0, 0), (ev.WAIT, 0, 0, S, 0, "put", None)])
    q = f.snapshot("running").queues[0]
    assert (q.depth, q.max_depth, q.puts, q.put_blocks) == (2, 2, 2, 1)
    assert q.blocked_put == ("w-0",)
    f.fold(
        [(ev.GOT, 1, 0), (ev.WAKE, 0, 0, 2 * S, True), (ev.PUT, 0, 0), (ev.CLOCK, -1, -1, 3 * S)]
    )
    f.fold([(ev.GOT, 1, 0), (ev.GOT, 1, 0)])
    q = f.snapshot("running").queues[0]
    assert (q.depth, q.gets, q.blocked_put) == (0, 3, ())
    # each 100 ms bucket keeps its deepest; the last sample is the depth now
    assert q.history[0] == 2 and q.history[-2] == 2 and q.history[-1] == 0


def test_log_variables_events_and_end() -> None:
    f = StateFolder(header(1, [{"name": "e", "type": "event"}, {"name": "n", "type": "variable"}]))
    f.fold(started(1))
    f.fold([(ev.WRITE, 0, 1, S, 42), (ev.SET, 0, 0, S), (ev.LOG, 0, -1, 2 * S, "hello")])
    f.fold([(ev.ACTOR_DONE, 0, -1, 3 * S), (ev.END, -1, -1, 3 * S, "finished")])
    snap = f.snapshot("finished")
    assert snap.variables[0].value == 42
    assert snap.events[0].is_set
    assert [(line.t_s, line.actor, line.text) for line in snap.log] == [(2.0, "w-0", "hello")]
    assert snap.actors[0].state == "done"
    assert snap.elapsed_s == 3.0
    assert f.end_reason == "finished"


def two_lock_deadlock() -> StateFolder:
    f = StateFolder(header(3, [{"name": "a", "type": "lock"}, {"name": "b", "type": "lock"}]))
    f.fold(started(3))
    f.fold([(ev.ACQUIRED, 0, 0), (ev.ACQUIRED, 1, 1)])
    f.fold([(ev.WAIT, 0, 1, S, 1, "acquire", None), (ev.WAIT, 1, 0, S, 0, "acquire", None)])
    f.fold([(ev.WAIT, 2, 0, S, 0, "acquire", None)])
    return f


def test_cycle_is_found_and_reported_like_jstack() -> None:
    f = two_lock_deadlock()
    assert analysis.stuck_actors(f)[0] == {0, 1, 2}
    cycle = analysis.find_cycle(f)
    assert [e.sentence() for e in cycle] == [
        "w-0 holds a and waits for b",
        "w-1 holds b and waits for a",
    ]


def test_no_cycle_when_the_holder_can_still_run() -> None:
    f = two_lock_deadlock()
    f.fold([(ev.WAKE, 1, 0, 2 * S, False)])  # w-1's wait timed out: it can release b
    assert analysis.find_cycle(f) == ()


def test_timed_waits_are_not_deadlocks() -> None:
    f = StateFolder(header(2, [{"name": "a", "type": "lock"}, {"name": "b", "type": "lock"}]))
    f.fold(started(2))
    f.fold([(ev.ACQUIRED, 0, 0), (ev.ACQUIRED, 1, 1)])
    f.fold([(ev.WAIT, 0, 1, S, 1, "acquire", 2.0), (ev.WAIT, 1, 0, S, 0, "acquire", None)])
    assert analysis.find_cycle(f) == ()


def test_semaphore_wait_is_a_deadlock_only_if_every_holder_is_stuck() -> None:
    f = StateFolder(
        header(3, [{"name": "s", "type": "semaphore", "value": 2}, {"name": "a", "type": "lock"}])
    )
    f.fold(started(3))
    f.fold([(ev.ACQUIRED, 0, 0), (ev.ACQUIRED, 1, 0), (ev.ACQUIRED, 2, 1)])
    f.fold([(ev.WAIT, 2, 0, S, 0, "acquire", None), (ev.WAIT, 0, 1, S, 0, "acquire", None)])
    assert analysis.find_cycle(f) == ()  # w-1 holds a permit and is running
    f.fold([(ev.WAIT, 1, 1, S, 0, "acquire", None)])
    assert {e.actor for e in analysis.find_cycle(f)} == {"w-0", "w-2"}


def test_global_stall_means_everyone_live_waits_for_good() -> None:
    f = StateFolder(header(2, [{"name": "q", "type": "queue"}, {"name": "e", "type": "event"}]))
    f.fold(started(2))
    f.fold([(ev.WAIT, 0, 0, S, 0, "get", None)])
    assert not analysis.is_stalled(f)  # w-1 is still running
    f.fold([(ev.WAIT, 1, 1, S, 0, "event", 5.0)])
    assert not analysis.is_stalled(f)  # w-1's wait has a timeout
    f.fold([(ev.WAKE, 1, 1, 2 * S, False), (ev.WAIT, 1, 1, 2 * S, 0, "event", None)])
    assert analysis.is_stalled(f)
    assert analysis.find_cycle(f) == ()


def test_replaying_a_trace_is_deterministic() -> None:
    a = ReplayRun(TRACES / "deadlock_mutex.trace").snapshot()
    b = ReplayRun(TRACES / "deadlock_mutex.trace").snapshot()
    assert a == b
    assert a.status == "deadlock"
    assert len(a.cycle) == 2
    mid = ReplayRun(TRACES / "producer_consumer.trace", upto=60)
    assert mid.status == "running"
    assert mid.snapshot() == ReplayRun(TRACES / "producer_consumer.trace", upto=60).snapshot()


def test_a_live_snapshot_can_describe_only_the_first_actors() -> None:
    f = StateFolder(header(5, [{"name": "a", "type": "lock"}]))
    f.fold(started(3))
    f.fold([(ev.ACTOR_DONE, 0, -1, 2 * S)])
    snap = f.snapshot("running", actor_limit=2)
    assert [a.name for a in snap.actors] == ["w-0", "w-1"]
    assert snap.actor_total == 5
    assert dict(snap.actor_states) == {"done": 1, "running": 2, "new": 2}
    assert len(f.snapshot("running").actors) == 5


def test_a_limited_snapshot_keeps_the_first_actor_of_every_group() -> None:
    h = header(6, [])
    h["actors"].append({"name": "drain", "group": "drain", "index": 0})
    f = StateFolder(h)
    snap = f.snapshot("running", actor_limit=3)
    assert [a.name for a in snap.actors] == ["w-0", "w-1", "drain"]
    assert snap.actor_total == 7


def test_the_fold_knows_who_is_waiting() -> None:
    f = two_lock_deadlock()
    assert f.waiting == {0, 1, 2}
    f.fold([(ev.WAKE, 2, 0, 2 * S, False)])
    assert f.waiting == {0, 1}


def test_pool_lanes_waiting_tasks_and_terminate() -> None:
    h = header(3, [{"name": "pool", "type": "pool", "workers": 2}])
    h["actors"][1]["group"] = h["actors"][2]["group"] = "pool"
    f = StateFolder(h)
    f.fold(started(3))
    f.fold([(ev.SUBMIT, 0, 0, 2, k, f"work(n={k})") for k in range(1, 5)])
    f.fold([(ev.TASK_BEGIN, 1, 0, 3, 1), (ev.TASK_BEGIN, 2, 0, 3, 2)])
    view = f.snapshot("running").pools[0]
    assert [lane.task for lane in view.lanes] == ["work(n=1)", "work(n=2)"]
    assert (view.busy, view.max_busy, view.waiting) == (2, 2, ("work(n=3)", "work(n=4)"))
    f.fold([(ev.TASK_END, 1, 0, 4, 1, True, ""), (ev.TASK_BEGIN, 1, 0, 4, 3)])
    f.fold([(ev.TASK_END, 2, 0, 5, 2, False, "ZeroDivisionError: division by zero")])
    f.fold([(ev.POOL_TERMINATE, 0, 0, 6)])
    view = f.snapshot("running").pools[0]
    assert (view.done, view.failed, view.killed) == (1, 1, 1)
    assert view.never_ran == ("work(n=4)",) and view.terminated
    assert "ZeroDivisionError" in view.last_failure


def test_dicts_lists_and_values_taken_fold_from_their_events() -> None:
    f = StateFolder(
        header(
            1,
            [
                {"name": "d", "type": "dict", "value": {}},
                {"name": "l", "type": "list", "value": [0]},
                {"name": "q", "type": "queue", "kind": "fifo"},
            ],
        )
    )
    f.fold(started(1))
    f.fold([(ev.STORED, 0, 0, 2, 1, 1), (ev.STORED, 0, 0, 3, 2, 4), (ev.APPENDED, 0, 1, 4, 7)])
    f.fold([(ev.PUT, 0, 2, 5), (ev.GOT_ITEM, 0, 2, 6, [42, None])])
    s = f.snapshot("running")
    assert {v.name: v.value for v in s.variables} == {"d": {1: 1, 2: 4}, "l": [0, 7]}
    assert s.queues[0].values == ([42, None],) and s.queues[0].depth == 0


def test_a_process_actor_reports_pids_cpu_and_wall() -> None:
    f = StateFolder(header(1, []))
    f.fold([(ev.ACTOR_SPAWNED, 0, -1, 1)])
    assert f.actors[0].spawned
    f.fold([(ev.ACTOR_START, 0, -1, 1 * S, 501, 501, 500), (ev.ACTOR_DONE, 0, -1, 3 * S, 1.5)])
    a = f.snapshot("finished").actors[0]
    assert (a.pid, a.ppid, a.cpu_s, a.wall_s) == (501, 500, 1.5, 2.0)


def test_event_kinds_are_unique() -> None:
    kinds = {
        name: value
        for name, value in vars(ev).items()
        if name.isupper() and isinstance(value, int) and not name.endswith(("_NS", "_S"))
    }
    seen: dict[int, str] = {}
    for name, value in kinds.items():
        assert value not in seen, f"{name} and {seen[value]} are both {value}"
        seen[value] = name


def test_an_expired_lease_frees_the_permit_while_its_holder_still_thinks_it_holds() -> None:
    """Dask: the scheduler takes a lease back from a holder that stopped refreshing it;
    another actor takes the lock; both "hold" it (the lesson's two holders); the
    stale holder's later release gives back nothing."""
    f = StateFolder(
        {
            "t0": 0,
            "actors": [{"name": "a"}, {"name": "b"}],
            "resources": [
                {"name": "slot", "type": "lock"},
                {"name": "pool", "type": "semaphore", "value": 1},
            ],
        }
    )
    f.fold([(ev.ACTOR_START, 0, -1, 1, 10), (ev.ACTOR_START, 1, -1, 1, 11)])
    for res in (0, 1):
        f.fold(
            [
                (ev.LEASE, 0, res, 2, f"L{res}"),
                (ev.ACQUIRED, 0, res, 2),
                (ev.WAIT, 1, res, 3, 0, "acquire", None),
                (ev.LEASE_EXPIRED, -1, res, 4, f"L{res}", 1.2),
                (ev.WAKE, 1, res, 5, True),
                (ev.ACQUIRED, 1, res, 5),
            ]
        )
    snap = f.snapshot("running")
    for lock in snap.locks:
        assert {name for name, _ in lock.owners} == {"a", "b"}, lock
        assert lock.stale == ("a",) and lock.expiries == 1 and lock.max_holders == 2
    assert snap.locks[1].value == 0  # a's permit went back, and b took it
    assert any("took back a's lease" in line.text for line in snap.log)
    f.fold([(ev.RELEASED, 0, 0, 6), (ev.RELEASED, 0, 1, 6)])  # a lets go: nothing to give
    snap = f.snapshot("running")
    assert [lock.owners for lock in snap.locks] == [(("b", 1),), (("b", 1),)]
    assert snap.locks[1].value == 0 and not snap.locks[0].stale


def test_a_late_batch_does_not_take_an_actor_out_of_the_wait_it_is_in() -> None:
    """Seen on a busy CI: a traced program's first events (a sleep) came behind its
    later ones (its join) as its stream turned into a merged one; the sleep's end
    then showed the main thread running, so it was no waker and the deadlock its
    children were in stayed "likely" until the timeout. One thread's events are in
    time order: a state change older than the actor's present state is history."""
    f = StateFolder(
        {
            "t0": 0,
            "actors": [{"name": "main"}, {"name": "child"}],
            "resources": [{"name": "gate", "type": "lock"}],
        }
    )
    f.fold([(ev.ACTOR_START, 0, -1, 1, 10), (ev.ACTOR_START, 1, -1, 2, 11)])
    f.fold([(ev.WAIT, 0, 1, 100, 0, "join", None)])  # main joins child
    f.fold([(ev.SLEEP, 0, -1, 40, 0, 0.001), (ev.RUN, 0, -1, 60)])  # late
    main = f.snapshot("running").actors[0]
    assert (main.state, main.how, main.target) == ("waiting", "join", "child")
    f.fold([(ev.WAKE, 0, 1, 90, True)])  # a late wake of an older wait: no news either
    assert f.snapshot("running").actors[0].state == "waiting"
    f.fold([(ev.WAKE, 0, 1, 120, True), (ev.RUN, 0, -1, 121)])  # in order: it moves on
    assert f.snapshot("running").actors[0].state == "running"
