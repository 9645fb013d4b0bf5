"""The instrumented primitives and the runner process, on real threads."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from tui_conc.engine.primitives.locks import LockLike
from tui_conc.engine.primitives.queues import CooperativeQueue, Queue
from tui_conc.engine.wire import events as ev
from tui_conc.engine.wire.channel import stamped
from tui_conc.session import LiveRun

from .conftest import SCENARIOS, gone


def test_uncontended_lock_emits_one_untimed_event_each_way() -> None:
    out: list[tuple] = []
    handle = LockLike(3, out.append, "lock").bind(5)
    assert handle.acquire(0)
    handle.release()
    assert out == [(ev.ACQUIRED, 5, 3), (ev.RELEASED, 5, 3)]


#: A contended acquire by actor 1 while actor 0 holds the lock, as the events say it.
CONTENDED = [(ev.ACQUIRED, 0), (ev.WAIT, 1), (ev.RELEASED, 0), (ev.WAKE, 1), (ev.ACQUIRED, 1)]


def _waited(out: list[tuple], kind: int = ev.WAIT) -> None:
    """Until an event of ``kind`` is in ``out`` (the other thread says it waits)."""
    deadline = time.monotonic() + 5
    while not any(e[0] == kind for e in out):
        assert time.monotonic() < deadline, f"no event {kind} in {out}"
        time.sleep(0.001)


def _contend(out: list[tuple], holder: Any, take: Any) -> list[tuple]:
    """``take()`` on a thread while ``holder`` holds the lock until it waits: (kind, actor)s."""
    holder.acquire(0)
    t = threading.Thread(target=take)
    t.start()
    _waited(out)
    holder.release()
    t.join(2)
    return [(e[0], e[1]) for e in out]


def test_contended_acquire_reports_wait_then_wake() -> None:
    out: list[tuple] = []
    lock = LockLike(0, out.append, "lock")
    second = lock.bind(1)
    assert _contend(out, lock.bind(0), lambda: second.acquire(7)) == CONTENDED
    assert out[1][4:] == (7, "acquire", None)


def test_compiled_acquire_and_release_steps_report_as_the_handle_does() -> None:
    out: list[tuple] = []
    lock = LockLike(0, out.append, "lock")
    second = lock.bind(1)
    acquire, release = second.acquire_step(7), second.release_step()
    acquire(None)
    release(None)
    assert out == [(ev.ACQUIRED, 1, 0), (ev.RELEASED, 1, 0)]
    out.clear()
    # contended: the step waits and says so, as the method does
    assert _contend(out, lock.bind(0), lambda: acquire(None)) == CONTENDED
    assert out[1][4:] == (7, "acquire", None)


def test_compiled_steps_between_processes_stamp_each_event() -> None:
    import multiprocessing

    out: list[tuple] = []
    raw = multiprocessing.get_context("spawn").Semaphore(2)
    handle = LockLike(4, stamped(out.append), "semaphore", 2, raw=raw).bind(3)
    before = time.monotonic_ns()
    handle.acquire_step(0)(None)
    handle.release_step()(None)
    assert [e[:3] for e in out] == [(ev.ACQUIRED, 3, 4), (ev.RELEASED, 3, 4)]
    assert before <= out[0][3] <= out[1][3] <= time.monotonic_ns()
    assert raw.get_value() == 2


def test_cooperative_queue_steps_take_the_short_path_and_report_it() -> None:
    out: list[tuple] = []
    q = CooperativeQueue(2, out.append, "fifo", 0, [])
    frame = SimpleNamespace(locals={})
    q.put_step(1, 0, lambda f: 42)(frame)
    q.get_step(5, 0, "item")(frame)
    assert frame.locals == {"item": 42}
    assert out == [(ev.PUT, 1, 2), (ev.GOT, 5, 2)]
    # an empty queue: the get step waits (WAIT, WAKE) until a put arrives
    got = threading.Thread(target=q.get_step(5, 9, "item"), args=(frame,))
    got.start()
    _waited(out)
    q.put(1, 0, 7, True, None)
    got.join(2)
    assert frame.locals == {"item": 7}
    assert [e[0] for e in out[2:]] == [ev.WAIT, ev.PUT, ev.WAKE, ev.GOT]


def test_non_blocking_and_timed_acquires_give_up() -> None:
    out: list[tuple] = []
    lock = LockLike(0, out.append, "lock")
    lock.bind(0).acquire(0)
    assert not lock.bind(1).acquire(0, blocking=False)
    assert not lock.bind(1).acquire(0, timeout=0.01)
    assert out[-1][0] == ev.WAKE and out[-1][4] is False


def test_bounded_semaphore_refuses_an_extra_release_before_reporting() -> None:
    out: list[tuple] = []
    handle = LockLike(0, out.append, "bounded_semaphore", 1).bind(0)
    with pytest.raises(ValueError):
        handle.release()
    assert out == []


def test_queue_events_keep_depth_consistent_under_threads() -> None:
    out: list[tuple] = []
    q = Queue(0, out.append, "fifo", 2, [])

    def producer() -> None:
        for n in range(200):
            q.put(0, 0, n, True, None)

    def consumer() -> None:
        for _ in range(200):
            q.get(1, 0, True, None)

    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    depth = 0
    for e in out:
        depth += {ev.PUT: 1, ev.GOT: -1}.get(e[0], 0)
        assert 0 <= depth <= 2
    assert depth == 0


def test_full_and_empty_are_reported() -> None:
    out: list[tuple] = []
    q = Queue(0, out.append, "lifo", 1, [])
    assert q.put(0, 0, "a", False, None)
    assert not q.put(0, 0, "b", False, None)
    assert q.get(0, 0, False, None) == (True, "a")
    assert q.get(0, 0, True, 0.01) == (False, None)
    assert [e[0] for e in out] == [ev.PUT, ev.FULL, ev.GOT, ev.WAIT, ev.WAKE, ev.EMPTY]


def test_stopping_a_deadlocked_run_kills_its_process_at_once() -> None:
    run = LiveRun(SCENARIOS / "deadlock_mutex.yaml").start()
    assert run.wait(10)
    assert run.status == "deadlock"
    pid = run.runner.pid
    assert pid is not None and not gone(pid)
    started = time.perf_counter()
    run.stop()
    assert time.perf_counter() - started < 0.5
    assert gone(pid)
    assert run.status == "deadlock"  # stopping keeps the verdict


def test_pause_holds_actors_and_resume_lets_them_go(tmp_path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text(
        "title: loop\nchapter: t\nresources: {n: {type: variable, value: 0}}\n"
        "actors:\n  w:\n    steps:\n      - repeat: 400\n        as: k\n        do:\n"
        "          - write: n\n            value: k\n          - sleep: 0.005\n"
    )
    run = LiveRun(path).start()
    deadline = time.monotonic() + 10
    while run.status != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    run.pause()
    while run.status != "paused" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.status == "paused"
    frozen = run.snapshot().variables[0].value
    time.sleep(0.2)  # an absence: nothing may change while paused
    assert run.snapshot().variables[0].value == frozen
    run.resume()
    while run.snapshot().variables[0].value == frozen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.snapshot().variables[0].value > frozen
    run.stop()


def test_an_actor_failure_is_reported_and_the_run_goes_on(tmp_path) -> None:
    path = tmp_path / "fail.yaml"
    path.write_text(
        "title: f\nchapter: t\nresources: {lock: lock}\nactors:\n"
        "  bad:\n    steps:\n      - release: lock\n"
        "  good:\n    steps:\n      - log: fine\n"
    )
    run = LiveRun(path).start()
    assert run.wait(10)
    snap = run.snapshot()
    states = {a.name: (a.state, a.detail) for a in snap.actors}
    assert states["good"] == ("done", "")
    assert states["bad"][0] == "failed"
    assert "line 7" in states["bad"][1] and "RuntimeError" in states["bad"][1]
    assert snap.status == "finished"


def test_a_global_stall_is_reported(tmp_path) -> None:
    path = tmp_path / "stall.yaml"
    path.write_text(
        "title: s\nchapter: t\nresources: {q: queue, e: event}\nactors:\n"
        "  taker:\n    steps:\n      - get: q\n"
        "  waiter:\n    steps:\n      - wait: e\n"
    )
    run = LiveRun(path).start()
    assert run.wait(10)
    assert run.status == "stall"
    assert run.snapshot().stalled
    run.stop()


@pytest.mark.parametrize("backend", ["gevent", "eventlet"])
def test_green_backends_stop_at_once_and_leave_nothing(backend: str) -> None:
    run = LiveRun(SCENARIOS / "eventlet_spawn.yaml", {"bar_time": 30.0}, backend=backend).start()
    deadline = time.monotonic() + 15
    while run.status != "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    snapshot = run.snapshot()
    assert snapshot.backend == backend
    pid = run.runner.pid
    started = time.perf_counter()
    run.stop()
    assert time.perf_counter() - started < 0.5
    assert gone(pid)


def test_gevents_loop_exit_is_the_verdict_not_an_error(tmp_path) -> None:
    """When every greenlet waits for ever gevent raises LoopExit in the runner: that is
    a stall (or a deadlock) said by gevent itself, not a failure of the run."""
    import subprocess
    import sys

    from tui_conc.engine.wire.trace import read_trace
    from tui_conc.session import ReplayRun

    path = tmp_path / "stuck.yaml"
    path.write_text(
        "title: t\nchapter: c\nbackend: gevent\nresources:\n  e: event\n"
        "actors:\n  a:\n    steps: [{wait: e}]\n"
    )
    trace = tmp_path / "stuck.trace"
    with open(trace, "wb") as out:
        subprocess.run(
            [sys.executable, "-m", "tui_conc.engine.backends.gevent_runner", str(path)],
            stdout=out,
            timeout=60,
            check=False,
        )
    _, events = read_trace(trace)
    kinds = [e[0] for e in events]
    assert ev.BLOCKED_FOREVER in kinds and ev.ERROR not in kinds
    replay = ReplayRun(trace)
    assert replay.status == "stall" and replay.snapshot().error is None
