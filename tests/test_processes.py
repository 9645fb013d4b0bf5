"""The process backend: real multiprocessing children, merged events, nothing left behind."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tui_conc.engine.memory import children_of
from tui_conc.engine.wire import channel, codec
from tui_conc.engine.wire import events as ev
from tui_conc.engine.wire.channel import Relay
from tui_conc.engine.wire.codec import SourceBatch
from tui_conc.engine.wire.merge import SLACK_NS, STALE_NS, StreamMerger
from tui_conc.scenario import load_scenario
from tui_conc.session import LiveRun, ReplayRun
from tui_conc.state import model as sm
from tui_conc.state.expectations import check

from .conftest import SCENARIOS

PROCESS_SWITCHABLE = [
    p
    for p in sorted(SCENARIOS.glob("*.yaml"))
    if "process" in load_scenario(p).supported and load_scenario(p).backend != "process"
]


def in_group(pgid: int) -> list[int]:
    """Every live process in process group ``pgid`` (zombies count: they are left behind)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            out.append(int(entry))
    return out


def wait_for(run: LiveRun, cond: Callable[[sm.Snapshot], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond(run.snapshot(log_tail=0)):
            return True
        time.sleep(0.02)
    return False


def finished(path: Path, backend: str = "process", overrides: dict | None = None) -> LiveRun:
    run = LiveRun(path, overrides, backend=backend).start()
    try:
        assert run.wait(60), f"{path.name} did not end"
    finally:
        run.stop()
    return run


@pytest.mark.parametrize("path", PROCESS_SWITCHABLE, ids=lambda p: p.stem)
def test_thread_scenarios_keep_their_lesson_on_processes(path: Path) -> None:
    run = finished(path)
    snapshot = run.snapshot(log_tail=0)
    assert snapshot.backend == "process"
    children = [a for a in snapshot.actors if a.pid is not None]
    assert children, "no actor ran in a child process"
    assert len({a.pid for a in children}) == len(children), "every process has its own pid"
    assert all(a.pid != os.getpid() and a.ppid == run.runner.pid for a in children)
    results = check(load_scenario(path), snapshot, run.log_texts())
    failed = [f"{r.text} [{r.detail}]" for r in results if r.failed]
    assert not failed, f"{path.name} on processes ({snapshot.status}): {failed}"


def test_process_switchable_scenarios_are_the_ones_the_issue_names() -> None:
    names = {p.stem for p in PROCESS_SWITCHABLE}
    assert {"producer_consumer", "semaphore_pool", "deadlock_mutex"} <= names


def test_the_deadlock_between_processes_names_its_cycle() -> None:
    run = finished(SCENARIOS / "deadlock_mutex.yaml")
    snapshot = run.snapshot(log_tail=0)
    assert snapshot.status == sm.DEADLOCK
    assert {e.waits_for for e in snapshot.cycle} == {"mutexA", "mutexB"}


# ---------------------------------------------------------------- reliability

PIPE_FOREVER = """
title: blocked on a pipe
chapter: Test
backend: process
resources:
  conn: {type: pipe, ends: [a, b]}
actors:
  main:
    runs_in: main
    steps:
      - start: child
      - join: child
  child:
    autostart: false
    steps:
      - recv: b
"""

STATES: list[tuple[str, Callable[[sm.Snapshot], bool]]] = [
    ("deadlock_mutex.yaml", lambda s: s.status == sm.DEADLOCK),
    ("pipe", lambda s: any(a.how == "pipe" for a in s.actors)),
    ("pool_five.yaml", lambda s: any(p.busy for p in s.pools)),
]


@pytest.mark.timeout(360)  # 70 s on a quiet machine; a busy CI has taken more than 120
def test_fifty_start_stop_cycles_leave_no_process_behind(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.yaml"
    pipe.write_text(PIPE_FOREVER)
    before = set(children_of(os.getpid()))  # not the group: other pytest workers share it
    reached = 0
    for cycle in range(50):
        name, state = STATES[cycle % len(STATES)]
        path = pipe if name == "pipe" else SCENARIOS / name
        run = LiveRun(path, backend="process").start()
        group = run.runner.pid
        assert group is not None
        # every third cycle waits for the state it is about; the others stop at once
        if cycle % 3 == 0 or cycle < len(STATES):
            reached += wait_for(run, state, timeout=20.0)  # a busy CI starts slowly
        else:
            time.sleep(0.05 * (cycle % 4))
        run.stop()
        deadline = time.monotonic() + 5
        while in_group(group) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert in_group(group) == [], f"cycle {cycle} ({name}) left {in_group(group)}"
    assert reached >= 17, "the runs did not reach their states"
    assert set(children_of(os.getpid())) - before == set(), "a runner was not reaped"


CRASHES = """
title: crashes
chapter: Test
backend: process
resources:
  pool: {type: pool, workers: 2}
tasks:
  boom:
    steps:
      - let: {x: 1 / n}
actors:
  main:
    runs_in: main
    steps:
      - start: victim
      - start: bad
      - submit: pool
        task: boom
        args: {n: 0}
      - submit: pool
        task: boom
        args: {n: 1}
      - close: pool
      - join: pool
      - join: bad
      - join: victim
      - log: "main goes on"
  victim:
    autostart: false
    steps:
      - log: "victim {pid}"
      - sleep: 30
  bad:
    autostart: false
    steps:
      - let: {y: 1 / 0}
"""


def test_crashed_and_killed_children_show_as_failed_and_killed(tmp_path: Path) -> None:
    path = tmp_path / "crashes.yaml"
    path.write_text(CRASHES)
    run = LiveRun(path, backend="process").start()
    try:
        assert wait_for(
            run, lambda s: any(a.name == "victim" and a.state == "sleeping" for a in s.actors)
        )
        victim = next(a for a in run.snapshot(log_tail=0).actors if a.name == "victim")
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGKILL)
        assert run.wait(20)
    finally:
        run.stop()
    snapshot = run.snapshot(log_tail=0)
    actors = {a.name: a for a in snapshot.actors}
    assert actors["victim"].state == sm.KILLED
    assert "SIGKILL" in actors["victim"].detail and "signal 9" in actors["victim"].detail
    assert actors["bad"].state == sm.FAILED
    assert "ZeroDivisionError" in actors["bad"].detail and "exit 70" in actors["bad"].detail
    pool = snapshot.pools[0]
    assert (pool.done, pool.failed) == (1, 1)
    assert "ZeroDivisionError" in pool.last_failure
    assert "main goes on" in run.log_texts()
    assert snapshot.status == sm.FINISHED


KILLED_UNDER = """
title: killed from outside
chapter: Test
backend: process
resources:
  q: {{type: queue}}
  m: lock
  held: event
  pool: {{type: pool, workers: 2}}
tasks:
  work:
    steps: [{{sleep: 30}}]
actors:
  main:
    runs_in: main
    steps:
      - start: child
      - wait: held  # not a sleep: a spawn on a busy machine takes longer than any guess
      - {main_step}
  child:
    autostart: false
    steps:
      - with: m
        do:
          - log: "child {{pid}} holds m"
          - set: held
          - sleep: 30
          - put: q
            item: 1
"""


def _kill_when(run: LiveRun, cond: Callable[[sm.Snapshot], bool], name: str) -> None:
    assert wait_for(run, cond)
    actor = next(a for a in run.snapshot(log_tail=0).actors if a.name == name)
    assert actor.pid is not None
    os.kill(actor.pid, signal.SIGKILL)


@pytest.mark.parametrize(
    "main_step", ["{get: q}", "{acquire: m}", "{join: child}"], ids=["get", "acquire", "join"]
)
def test_a_child_killed_from_outside_is_killed_and_the_rest_is_judged(
    tmp_path: Path, main_step: str
) -> None:
    """Killed while the parent waits for its item, its lock, or its end: the child shows
    as killed, and the run is what plain Python would make of it (a join returns)."""
    path = tmp_path / "killed.yaml"
    path.write_text(KILLED_UNDER.format(main_step=main_step))
    run = LiveRun(path, backend="process").start()
    try:
        # main waits on its step (not on the event that said the child holds m)
        _kill_when(
            run, lambda s: bool(s.actors) and s.actors[0].how not in (None, "event"), "child"
        )
        assert run.wait(20)
    finally:
        run.stop()
    snapshot = run.snapshot(log_tail=0)
    states = {a.name: a.state for a in snapshot.actors}
    assert states["child"] == sm.KILLED, (snapshot.status, states)
    expected = sm.FINISHED if main_step == "{join: child}" else sm.STALL
    assert snapshot.status == expected, (snapshot.status, states)


POOL_KILL = """
title: a pool worker killed
chapter: Test
backend: process
resources:
  pool: {type: pool, workers: 2}
tasks:
  work:
    steps: [{sleep: 1.0}]
actors:
  main:
    runs_in: main
    steps:
      - repeat: 3
        as: n
        do:
          - {submit: pool, task: work, args: {n: n}}
      - {close: pool}
      - {join: pool}
"""


def test_a_pool_worker_killed_mid_task_loses_its_task_and_the_join_stalls(tmp_path: Path) -> None:
    """Plain Python waits in Pool.join for ever once a task is lost: a stall, named."""
    path = tmp_path / "pool_kill.yaml"
    path.write_text(POOL_KILL)
    run = LiveRun(path, backend="process").start()
    try:
        _kill_when(
            run, lambda s: any(lane.task for p in s.pools for lane in p.lanes[:1]), "pool-w0"
        )
        assert run.wait(20)
    finally:
        run.stop()
    snapshot = run.snapshot(log_tail=0)
    pool = snapshot.pools[0]
    assert len(pool.lost) == 1 and pool.lost[0].startswith("work(")
    assert pool.done == 2
    assert snapshot.status == sm.STALL


LONG = """
title: a long process run
chapter: Test
backend: process
resources:
  d: dict
  pool: {type: pool, workers: 2}
tasks:
  work:
    steps: [{sleep: 30}]
actors:
  main:
    runs_in: main
    steps:
      - {submit: pool, task: work}
      - {update: d, key: "'a'", value: 1}
      - start: child
      - sleep: 30
  child:
    autostart: false
    steps: [{sleep: 30}]
"""


def test_every_process_of_a_run_dies_with_its_runner_however_it_is_killed(tmp_path: Path) -> None:
    """SIGKILL to the runner alone (not its group): its children, pool workers, the
    Manager's server and the resource tracker must not outlive it."""
    path = tmp_path / "long.yaml"
    path.write_text(LONG)
    run = LiveRun(path, backend="process").start()
    try:
        assert wait_for(run, lambda s: any(a.name == "child" and a.pid for a in s.actors))
        group = run.runner.pid
        assert len(in_group(group)) >= 5  # runner, Manager, tracker, 2 workers, child
        os.kill(group, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while in_group(group) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert in_group(group) == [], [
            open(f"/proc/{p}/cmdline").read().replace("\0", " ")[:80] for p in in_group(group)
        ]
    finally:
        run.stop()


# ---------------------------------------------------------------- merging


def test_the_merger_orders_every_source_by_time_up_to_the_slowest_watermark() -> None:
    merger = StreamMerger()
    ms = 1_000_000
    t = 10**12
    # the runner's own threads appended these out of time order
    local = [(ev.RELEASED, 0, 0, t + 30 * ms), (ev.ACQUIRED, 0, 0, t + 10 * ms)]
    assert merger.add(SourceBatch(7, t, [])) == []  # a child's hello
    assert merger.add(SourceBatch(0, t + 60 * ms, local)) == []  # the child may precede them
    out = merger.add(SourceBatch(7, t + 20 * ms + SLACK_NS, [(ev.ACQUIRED, 1, 1, t + 15 * ms)]))
    # a CLOCK dates each fast-path event that came a while after the last reading
    assert [(e[0], e[1]) for e in out] == [
        (ev.CLOCK, -1),
        (ev.ACQUIRED, 0),
        (ev.CLOCK, -1),
        (ev.ACQUIRED, 1),
    ]
    assert out[2][3] == t + 15 * ms
    out = merger.add(SourceBatch(7, t + 40 * ms + SLACK_NS, [(ev.RELEASED, 1, 1, t + 25 * ms)]))
    assert [(e[0], e[1]) for e in out if e[0] != ev.CLOCK] == [(ev.RELEASED, 1), (ev.RELEASED, 0)]
    merger.add(SourceBatch(7, t + 50 * ms, [(ev.PUT, 2, 2, t + 45 * ms)]))
    assert merger.pending == 1  # held: source 0 may still send something older
    assert [e[:3] for e in merger.release(final=True) if e[0] != ev.CLOCK] == [(ev.PUT, 2, 2)]


def test_a_held_clock_reading_keeps_the_watermark_below_it_until_let_go() -> None:
    """A put is dated when it takes its slot but emitted after the put has finished:
    meanwhile no batch may promise that nothing older will come."""
    t = channel.hold()
    time.sleep(0.01)
    assert channel.watermark() <= t
    other = threading.Thread(target=lambda: channel.watermark() <= t or pytest.fail("passed"))
    other.start()
    other.join()
    channel.let_go()
    assert channel.watermark() > t + 5_000_000


def test_a_process_queue_dates_a_blocked_put_and_its_wake_at_the_slot_in_order() -> None:
    import multiprocessing

    from tui_conc.engine.primitives.shared import ProcessQueue

    events: list[tuple] = []
    q = ProcessQueue(0, events.append, multiprocessing.get_context("spawn").JoinableQueue(1))
    assert q.put(1, 0, "a", True, None)
    taker = threading.Timer(0.05, lambda: q.get(2, 0, True, None))
    taker.start()
    assert q.put(1, 0, "b", True, None)  # blocks until the get gives its slot back
    taker.join()
    assert q.get(2, 0, True, None) == (True, "b")
    kinds = [(e[0], e[1]) for e in events]
    assert kinds[:5] == [(ev.PUT, 1), (ev.WAIT, 1), (ev.GOT_ITEM, 2), (ev.WAKE, 1), (ev.PUT, 1)]
    assert events[3][3] == events[4][3], "woken as it took its slot"
    stamps = [e[3] for e in events]
    assert stamps == sorted(stamps), "each thread's events go out in time order"
    assert not channel._held, "every held reading was let go"


def test_a_closed_or_silent_source_does_not_hold_the_stream_back() -> None:
    merger = StreamMerger()
    t = 10**12
    merger.add(SourceBatch(7, t, []))  # a child said hello, then went silent (SIGSTOP, say)
    assert merger.add(SourceBatch(0, t + 10**8, [(ev.LOG, 0, -1, t + 10**7, "held")])) == []
    out = merger.add(SourceBatch(0, t + STALE_NS + 10**8, []))  # a second on: stale
    assert [e[4] for e in out if e[0] == ev.LOG] == ["held"]
    merger.add(SourceBatch(8, t + STALE_NS + 2 * 10**8, []))
    later = [(ev.LOG, 0, -1, t + STALE_NS + 25 * 10**7, "next")]  # after 8's last word
    assert merger.add(SourceBatch(0, t + STALE_NS + 3 * 10**8, later)) == []
    out = merger.add(SourceBatch(8, codec.CLOSED, []))  # the child has gone
    assert [e[4] for e in out if e[0] == ev.LOG] == ["next"]


def test_a_recorded_process_run_replays_merged_in_the_same_order(tmp_path: Path) -> None:
    trace = tmp_path / "run.trace"
    run = LiveRun(SCENARIOS / "process_queue.yaml", record=trace, backend="process").start()
    assert run.wait(60)
    run.stop()  # as the command line does: the reader ends and closes the trace
    live = run.snapshot(log_tail=0)
    replay = ReplayRun(trace)
    again = replay.snapshot(log_tail=0)
    assert again.status == live.status == sm.FINISHED
    assert [(a.name, a.state) for a in again.actors] == [(a.name, a.state) for a in live.actors]
    assert replay.log_texts() == run.log_texts()


MAP = """
title: map
chapter: Test
backend: process
resources:
  pool: {type: pool, workers: 3}
  results: {type: variable, value: []}
tasks:
  square:
    steps:
      - let: {result: item * item}
actors:
  main:
    runs_in: main
    steps:
      - map: pool
        task: square
        items: range(6)
        as: got
      - write: results
        value: got
      - close: pool
      - join: pool
expect:
  - that: results == [0, 1, 4, 9, 16, 25] and tasks_done(pool) == 6
"""


def test_pool_map_returns_every_result_in_order(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(MAP)
    run = finished(path)
    snapshot = run.snapshot(log_tail=0)
    assert {v.name: v.value for v in snapshot.variables}["results"] == [0, 1, 4, 9, 16, 25]
    assert all(r.passed for r in check(load_scenario(path), snapshot, run.log_texts()))
    main = next(a for a in snapshot.actors if a.name == "main")
    assert main.state == sm.DONE


BOTH = """
title: dicts, lists and pipes on both backends
chapter: Test
backend: thread
backends: [thread, process]
resources:
  d: {type: dict}
  l: {type: list, value: [0]}
  conn: {type: pipe, ends: [here, there]}
actors:
  main:
    runs_in: main
    steps:
      - start: child
      - recv: here
        as: got
      - log: "got {got}"
      - join: child
  child:
    count: 3
    autostart: false
    steps:
      - update: d
        key: i
        value: i * 10
      - append: l
        item: i
      - if: i == 0
        then:
          - send: there
            data: "[1, 'two']"
expect:
  - that: "len(d) == 3 and d[2] == 20 and sorted(l) == [0, 0, 1, 2]"
  - that: "values_got(conn) == [[1, 'two']] and log_count('got [1') == 1"
"""


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_dicts_lists_and_pipes_teach_the_same_on_threads_and_processes(
    tmp_path: Path, backend: str
) -> None:
    path = tmp_path / "both.yaml"
    path.write_text(BOTH)
    run = finished(path, backend=backend)
    snapshot = run.snapshot(log_tail=0)
    results = check(load_scenario(path), snapshot, run.log_texts())
    assert all(r.passed for r in results), [(r.text, r.detail) for r in results]
    assert (snapshot.actors[1].pid is not None) == (backend == "process")


def test_the_relay_forwards_batches_as_sent_and_drops_a_stranger() -> None:
    from multiprocessing.connection import Client

    frames: list[bytes] = []
    relay = Relay(frames.append)
    relay.start()
    child, stranger = Client(relay.address), Client(relay.address)
    body = codec.encode_source_body(77, 123, [(ev.PUT, 1, 2, 124)])
    child.send_bytes(body)
    stranger.send_bytes(b"not a batch")
    child.close()
    deadline = time.monotonic() + 3
    while len(frames) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    relay.listener.close()
    assert frames[0] == codec.frame_of_body(body)  # forwarded byte for byte
    assert codec.decode_body(frames[1]) == SourceBatch(77, codec.CLOSED, [])
    assert len(frames) == 2  # nothing from the stranger, and the relay goes on


def test_a_child_counts_its_cpu_from_its_start_not_the_interpreters() -> None:
    snapshot = finished(SCENARIOS / "process_manager.yaml").snapshot(log_tail=0)
    children = [a for a in snapshot.actors if a.pid is not None and a.name != "main"]
    assert children and all(a.cpu_s is not None for a in children)
    # each writes one key and appends one item: milliseconds, where spawning a
    # fresh interpreter and importing tui-conc alone costs ~0.1 s of CPU
    assert max(a.cpu_s for a in children) < 0.05, [(a.name, a.cpu_s) for a in children]


def test_the_first_children_start_their_steps_together_however_late_one_comes_up(
    tmp_path: Path,
) -> None:
    """The start gate: a sibling that comes up 1.5 s late (a busy machine) does not
    leave the first 1.5 s into its steps — a lesson's holds count from one start."""
    from tui_conc.engine.backends.process import ProcessRun
    from tui_conc.scenario import resolve_knobs

    path = tmp_path / "two.yaml"
    path.write_text(
        "title: two\nchapter: Tests\nbackend: process\nactors:\n"
        "  a:\n    steps:\n      - log: a\n  b:\n    steps:\n      - log: b\n"
    )
    scenario = load_scenario(path)

    class LateSecond(ProcessRun):
        def _start(self, actor, args):  # type: ignore[no-untyped-def]
            super()._start(actor, args)
            if actor.index == 0:
                time.sleep(1.5)

    frames: list[bytes] = []
    relay = Relay(frames.append)
    relay.start()
    knobs = resolve_knobs(scenario, {})
    run = LateSecond(scenario, knobs, lambda e: None, "process", address=relay.address)
    try:
        run.start()
        run.wait_until_done()
    finally:
        run.cut_off_daemons()
        relay.drain_sources()
        relay.listener.close()
    starts = [e[3] for f in frames for e in codec.decode_body(f).events if e[0] == ev.ACTOR_START]
    assert len(starts) == 2, [codec.decode_body(f) for f in frames]
    assert abs(starts[0] - starts[1]) < 0.5e9, (starts[1] - starts[0]) / 1e9
