"""``tui-conc trace``: unmodified programs under tests/programs, traced headless; their
verdicts, their output against the same program run untraced, nothing left behind."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_conc.engine.wire import events as ev
from tui_conc.engine.wire.trace import EventChecker, TraceError
from tui_conc.state.fold import StateFolder

PROGRAMS = Path(__file__).resolve().parent / "programs"
CLI = [sys.executable, "-m", "tui_conc"]


def trace(
    name: str,
    *extra: str,
    timeout: float = 60,
    where: Path = PROGRAMS,
    args: tuple[str, ...] = (),
) -> tuple[dict, int]:
    done = subprocess.run(
        [*CLI, "trace", "--json", *extra, str(where / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert done.stdout, done.stderr
    return json.loads(done.stdout), done.returncode


def plain(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PROGRAMS / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def copied(tmp_path: Path, name: str) -> Path:
    """The program copied to a folder of this test's own: its runners are told apart
    from other tests' (the suite runs in parallel)."""
    (tmp_path / f"{name}.py").write_text((PROGRAMS / f"{name}.py").read_text())
    return tmp_path


def runners_left(tmp_path: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(tmp_path) in line]


def marked(mark: str) -> list[int]:
    """Processes whose environment carries ``mark`` (children inherit it, whatever
    their command line)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and mark.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def traced_marked(tmp_path: Path, name: str, *args: str) -> tuple[dict, int, str]:
    """Trace a copy of the program with a mark every process of the run inherits:
    (report, exit status, the mark)."""
    where = copied(tmp_path, name)
    mark = f"tui-conc-test-{tmp_path.name}"
    done = subprocess.run(
        [*CLI, "trace", "--json", str(where / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "TUI_CONC_TEST_MARK": mark},
    )
    return json.loads(done.stdout), done.returncode, mark


def all_gone(mark: str, within_s: float = 5.0) -> bool:
    """No process carrying ``mark`` is left (waiting a little for the last to go)."""
    deadline = time.monotonic() + within_s
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not marked(mark)


def _chars(lines: list[str]) -> list[str]:
    """The text without its line breaks and spaces, sorted: threads' prints interleave
    differently from run to run (a print is two writes), their content does not."""
    return sorted("".join(lines).replace(" ", ""))


_NOTES = ("✗ failed", "os._exit(", "no progress seen")  #: the runner's lines, not the program's


def _stdout(report: dict) -> list[str]:
    """What the program (and its child processes) printed on stdout."""
    out = []
    for o in report["output"]:
        text = re.sub(r"^\[pid \d+\] ", "", o["text"])  # a forked child's line
        if not text.startswith("[stderr] ") and not text.startswith(_NOTES):
            out.append(text)
    return out


def _stderr(report: dict) -> list[str]:
    return [o["text"].removeprefix("[stderr] ") for o in report["output"]
            if o["text"].startswith("[stderr] ")]  # fmt: skip


def test_the_mutex_deadlock_is_named_with_its_locks_and_threads_every_run(
    tmp_path: Path,
) -> None:
    where = copied(tmp_path, "deadlock_mutex")
    for _ in range(5):
        report, code = trace("deadlock_mutex", where=where)
        assert report["outcome"] == "deadlock" and code == 1
        cycle = {e["actor"]: (e["holds"], e["waits_for"]) for e in report["cycle"]}
        assert cycle == {
            "Thread-1": (["mutexB"], "mutexA"),
            "Thread-2": (["mutexA"], "mutexB"),
        } or cycle == {"Thread-1": (["mutexA"], "mutexB"), "Thread-2": (["mutexB"], "mutexA")}
    assert not runners_left(tmp_path)


@pytest.mark.parametrize(
    "name",
    [
        "race_counter_lock",
        "rlock_reentry",
        "event_redis",
        "semaphore_pool",
        "producer_consumer",
        "condition_wait",
        "futures_pool",
        "daemon_and_exit",
        "raises_in_thread",
        "reads_stdin",
        "raises_at_import",
        "names",
        "raw_thread_release",
        "asyncio_tasks",
        "gevent_program",
        "gevent_handoff",
        "multiprocessing_tour spawn",
        "multiprocessing_tour fork",
        "multiprocessing_tour forkserver",
        "forks_grandchild",
        "queue_processes",
        "semaphore_processes",
        "threads_in_child",
        "simple_queue",
        "joinable_pipe spawn",
        "joinable_pipe fork",
        "condition_barrier_processes spawn",
        "condition_barrier_processes fork",
        # each under one start method here: their own tests run them under the others
        "manager_tour fork",
        "pool_tour fork",
        "futures_tour fork",
        "child_makes fork",
        "pool_slow_exit fork",
    ],
)
def test_a_traced_program_behaves_as_it_does_untraced(name: str) -> None:
    """Same output lines, same exit status, same last line of an error; no false verdict."""
    name, *args = name.split()  # a program and its arguments
    report, code = trace(name, args=tuple(args))
    untraced = plain(name, *args)
    assert report["outcome"] == "finished", report
    assert report["cycle"] == [] and report["error"] is None
    assert report["exit_status"] == untraced.returncode
    assert code == (0 if untraced.returncode == 0 else 1)
    assert _chars(_stdout(report)) == _chars(untraced.stdout.splitlines())
    errors = [line for line in untraced.stderr.splitlines() if line.strip()]
    if errors:
        assert _stderr(report)[-1] == errors[-1]


def test_a_gevent_program_s_greenlets_are_actors_and_its_deadlock_is_named() -> None:
    """After the program's own ``patch_all``: greenlets by their functions, gevent's
    locks traced; gevent's LoopExit (nothing can run again) makes the verdict sure."""
    report, code = trace("gevent_handoff")
    assert report["outcome"] == "finished" and code == 0
    assert {"consumer (Greenlet-0)", "producer (Greenlet-1)", "gevent hub"} <= set(report["actors"])
    assert {"items", "ready", "jobs", "lock"} <= set(report["resources"])
    for _ in range(3):
        report, code = trace("gevent_deadlock")
        assert report["outcome"] == "deadlock" and code == 1
        cycle = {e["actor"]: (e["holds"], e["waits_for"]) for e in report["cycle"]}
        assert cycle == {
            "one (Greenlet-0)": (["mutexA"], "mutexB"),
            "two (Greenlet-1)": (["mutexB"], "mutexA"),
        }
        # gevent's own error, as untraced
        assert any(line.startswith("gevent.exceptions.LoopExit") for line in _stderr(report))
    report, code = trace("gevent_stall")
    assert report["outcome"] == "stall" and code == 1
    assert report["actors"]["waiter (Greenlet-0)"] == "waiting"


def test_the_race_loses_updates_traced_as_untraced() -> None:
    """Its result is a race's (it varies from run to run): updates are lost in both."""
    report, code = trace("race_counter")
    assert report["outcome"] == "finished" and code == 0
    traced = int(_stdout(report)[-1].removeprefix("num = "))
    untraced = int(plain("race_counter").stdout.split()[-1])
    assert traced > 0 and untraced > 0  # 20 decrements of 20 would leave 0


def test_resources_are_named_by_their_variables_else_by_type_and_line() -> None:
    report, _ = trace("names")
    kinds = {name: r["type"] for name, r in report["resources"].items()}
    assert kinds == {
        "mutexA": "lock",
        "mutexB": "lock",
        "pool": "bounded_semaphore",
        "forks": "lock",
        "forks#2": "lock",
        "lock": "rlock",
        "jobs": "queue",
        "Event@names.py:18": "event",
    }
    assert report["resources"]["jobs"]["kind"] == "lifo"
    assert report["resources"]["mutexA"]["acquisitions"] == 1


def test_a_lost_wakeup_is_a_stall_and_a_spinning_thread_never_a_verdict(
    tmp_path: Path,
) -> None:
    report, code = trace("lost_wakeup", where=copied(tmp_path, "lost_wakeup"))
    assert report["outcome"] == "stall" and code == 1
    report, code = trace("spins", "--timeout", "2", where=copied(tmp_path, "spins"))
    assert report["outcome"] == "timeout" and code == 1 and report["cycle"] == []
    assert not runners_left(tmp_path)


def test_a_child_process_waiting_for_ever_on_a_queue_is_a_stall(tmp_path: Path) -> None:
    report, code = trace("stall_processes", where=copied(tmp_path, "stall_processes"))
    assert report["outcome"] == "stall" and code == 1
    assert report["actors"] == {"MainThread": "waiting", "waiter": "blocked"}


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_joinable_queue_and_a_pipe_between_processes_are_shown(method: str) -> None:
    report, code = trace("joinable_pipe", args=(method,))
    assert report["outcome"] == "finished" and code == 0
    jobs, pipe = report["resources"]["jobs"], report["resources"]["here/there"]
    assert (jobs["puts"], jobs["gets"]) == (8, 8)  # six jobs and two Nones
    assert pipe["kind"] == "pipe" and (pipe["puts"], pipe["gets"]) == (5, 5)
    assert report["actors"]["echo"] == "done"


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_barrier_and_a_condition_between_processes_are_shown_and_replay(
    tmp_path: Path, method: str
) -> None:
    from tui_conc.engine.wire.trace import read_trace

    recording = tmp_path / "run.trace"
    report, code = trace("condition_barrier_processes", "--record", str(recording),
                         args=(method,))  # fmt: skip
    assert report["outcome"] == "finished" and code == 0
    assert report["resources"]["cond"]["type"] == "condition"
    header, events = read_trace(recording)  # every event a valid one, barrier waits too
    names = {e[2]: e[4]["name"] for e in events if e[0] == ev.RESOURCE_NEW}
    actors = {a["index"]: a["name"] for a in header["actors"]}
    actors.update({e[1]: e[4] for e in events if e[0] == ev.ACTOR_NEW})
    cond = next(i for i, n in names.items() if n == "cond")
    holders = {actors[e[1]] for e in events if e[0] == ev.ACQUIRED and e[2] == cond}
    assert holders == {"MainThread", "waiter"}, holders
    barrier = next(i for i, n in names.items() if n == "barrier")
    waits = [e for e in events if e[0] == ev.WAIT and e[2] == barrier]
    assert len(waits) == 3 and {e[5] for e in waits} == {"barrier"}  # all three arrivals
    assert {e[1] for e in waits} == {a for a in range(3)}


def test_a_child_waiting_for_ever_on_a_pipe_is_a_stall_naming_the_pipe(tmp_path: Path) -> None:
    report, code = trace("pipe_stall", where=copied(tmp_path, "pipe_stall"))
    assert report["outcome"] == "stall" and code == 1
    assert report["actors"] == {"MainThread": "waiting", "listener": "waiting"}
    assert report["resources"]["mine/theirs"]["gets"] == 0
    assert not runners_left(tmp_path)


def test_os_exit_ends_the_program_with_its_status_and_its_output() -> None:
    report, code = trace("os_exit")
    assert report["outcome"] == "finished" and report["exit_status"] == 5 and code == 1
    assert "leaving now" in _stdout(report)


def test_no_program_is_one_line_and_status_2(tmp_path: Path) -> None:
    done = subprocess.run([*CLI, "trace", "--json", str(tmp_path / "gone.py")],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert done.returncode == 2 and "no such file" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_fold_takes_actors_resources_and_places_met_mid_run() -> None:
    header = {"t0": 0, "actors": [{"name": "MainThread"}], "resources": [], "steps": []}
    events = [
        (ev.ACTOR_START, 0, -1, 1, 7),
        (ev.RESOURCE_NEW, 0, 0, 2, {"name": "mutexA", "type": "lock"}),
        (ev.ACTOR_NEW, 1, -1, 3, "worker-1", "worker", False),
        (ev.ACTOR_SPAWNED, 1, -1, 3),
        (ev.ACTOR_START, 1, -1, 4, 8),
        (ev.ACQUIRED, 1, 0),
        (ev.SITE_NEW, -1, 0, 5, 12, "mutexA.acquire()"),
        (ev.WAIT, 0, 0, 6, 0, "acquire", None),
    ]
    checker = EventChecker(header)
    for e in events:
        checker.check(e)
    folder = StateFolder(header)
    folder.fold(events)
    snap = folder.snapshot("running", log_tail=0)
    assert [a.name for a in snap.actors] == ["MainThread", "worker-1"]
    assert [(lock.name, lock.owners) for lock in snap.locks] == [("mutexA", (("worker-1", 1),))]
    main = next(a for a in snap.actors if a.name == "MainThread")
    assert main.step == "L12 mutexA.acquire()"
    with pytest.raises(TraceError, match="out of order"):
        checker.check((ev.ACTOR_NEW, 5, -1, 7, "x", "x", False))


async def test_the_app_traces_a_program_names_its_deadlock_and_quits_leaving_nothing(
    tmp_path: Path,
) -> None:
    from tui_conc.ui.app import make_app
    from tui_conc.ui.widgets.banner import Banner

    from .test_app import _until

    where = copied(tmp_path, "deadlock_mutex")
    app = make_app(program=[str(where / "deadlock_mutex.py")])
    async with app.run_test(size=(120, 36)) as pilot:
        await _until(pilot, lambda: app.source is not None and app.source.status == "deadlock", 20)
        await pilot.pause(0.3)
        banner = str(app.query_one(Banner).render())
        assert "DEADLOCK" in banner and "mutexA" in banner and "mutexB" in banner
        first = app.source
        await pilot.press("r")  # the program again, from its start
        await _until(
            pilot,
            lambda: app.source is not first and app.source.status == "deadlock",
            20,
        )
        await pilot.press("q")
    await _until_gone(tmp_path)


async def _until_gone(tmp_path: Path) -> None:
    import asyncio

    deadline = time.monotonic() + 5
    while runners_left(tmp_path) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert not runners_left(tmp_path)


def test_asyncio_tasks_are_actors_that_say_what_they_await() -> None:
    from tui_conc.tracing.command import traced_run

    run = traced_run([str(PROGRAMS / "asyncio_tasks.py")]).start()
    try:
        deadline = time.monotonic() + 10
        labels: dict[str, str] = {}
        while time.monotonic() < deadline:
            snap = run.snapshot(log_tail=0)
            labels = {a.name: f"{a.label} | {a.step}" for a in snap.actors}
            if "fetcher (fetch)" in labels and "await asyncio.sleep" in labels["fetcher (fetch)"]:
                break
            time.sleep(0.02)
        assert labels["combiner (combine)"] == (
            "waiting on fetcher (fetch) (await) | L13 value = await first"
        )
        assert labels["Task-1 (main)"].startswith("waiting on combiner (combine) (await)")
        assert labels["fetcher (fetch)"].startswith("waiting on a future")
        assert run.wait(10) and run.status == "finished"
    finally:
        run.stop()


def test_a_module_is_traced_with_dash_m(tmp_path: Path) -> None:
    package = tmp_path / "lessons"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "hello.py").write_text(
        "import sys, threading\n"
        "gate = threading.Event()\n"
        "t = threading.Thread(target=gate.wait, name='waiter')\n"
        "t.start()\n"
        "gate.set()\n"
        "t.join()\n"
        "print('hello', sys.argv[1:])\n"
    )
    done = subprocess.run(
        [*CLI, "trace", "--json", "-m", "lessons.hello", "a", "b"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["outcome"] == "finished"
    assert _stdout(report) == ["hello ['a', 'b']"]
    assert report["resources"]["gate"]["type"] == "event"


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_a_deadlock_across_processes_is_named_under_every_start_method(
    tmp_path: Path, method: str
) -> None:
    report, code, mark = traced_marked(tmp_path, "deadlock_processes", method)
    assert report["outcome"] == "deadlock" and code == 1
    cycle = {e["actor"]: (e["holds"], e["waits_for"]) for e in report["cycle"]}
    assert cycle == {"proc-one": (["mutexA"], "mutexB"), "proc-two": (["mutexB"], "mutexA")}
    assert all_gone(mark)  # the runner, both children, a forkserver


def test_a_semaphore_shared_by_processes_counts_their_holds() -> None:
    report, code = trace("semaphore_processes")
    assert report["outcome"] == "finished" and code == 0
    sem = report["resources"]["sem"]
    assert sem["type"] == "semaphore" and sem["acquisitions"] == 4
    assert 1 <= sem["max_holders"] <= 2
    assert sorted(_stdout(report)) == [f"task {n} done" for n in range(4)]
    assert {name: state for name, state in report["actors"].items() if name.startswith("task")} == {
        f"task-{n}": "done" for n in range(4)
    }


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_manager_s_objects_are_resources_of_every_process(method: str) -> None:
    """Its lock, queue and event report from the children; its dict, list and value
    show their content."""
    report, code = trace("manager_tour", args=(method,))
    assert report["outcome"] == "finished" and code == 0
    resources = report["resources"]
    assert resources["lock"]["type"] == "lock" and resources["lock"]["acquisitions"] == 3
    assert resources["jobs"]["type"] == "queue" and resources["jobs"]["puts"] == 3
    assert resources["jobs"]["gets"] == 3 and resources["jobs"]["depth"] == 0
    assert resources["ready"]["type"] == "event"
    variables = report["variables"]
    assert sorted(variables["results"].values()) == [10, 20, 30]
    assert len(variables["log"]) == 3 and variables["total"] == 6
    assert set(report["actors"]) == {"MainThread", "Process-2", "Process-3", "Process-4"}


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_deadlock_over_a_manager_s_locks_is_named_and_leaves_nothing(
    tmp_path: Path, method: str
) -> None:
    """The Manager's server is not an actor (it runs none of the program's code), so
    two processes stuck on its locks are a sure deadlock."""
    report, code, mark = traced_marked(tmp_path, "manager_deadlock", method)
    assert report["outcome"] == "deadlock" and code == 1
    cycle = {e["actor"]: (e["holds"], e["waits_for"]) for e in report["cycle"]}
    assert cycle == {"one": (["mutexA"], "mutexB"), "two": (["mutexB"], "mutexA")}
    assert all_gone(mark)  # the runner, both children, the Manager's server


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_pool_s_tasks_are_submitted_run_and_ended_on_its_workers(method: str) -> None:
    """apply_async, map (by chunks), starmap, imap and a task that raises, on a Pool
    and a ThreadPool named by their ``with … as`` names."""
    report, code = trace("pool_tour", args=(method,))
    assert report["outcome"] == "finished" and code == 0
    pool, threads = report["pools"]["pool"], report["pools"]["threads"]
    assert (pool["workers"], pool["submitted"], pool["done"], pool["failed"]) == (2, 12, 11, 1)
    # (both workers busy at once is likely, not certain, on a loaded machine)
    assert 1 <= pool["max_busy"] <= 2 and pool["lost"] == [] and pool["never_ran"] == 0
    assert (threads["submitted"], threads["done"], threads["failed"]) == (3, 3, 0)
    worker = "SpawnPoolWorker-1" if method == "spawn" else "ForkPoolWorker-1"
    assert report["actors"][worker] == "done"


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_concurrent_futures_pools_show_their_tasks(method: str) -> None:
    """A ThreadPoolExecutor's and a ProcessPoolExecutor's tasks (map by chunks, submit,
    one that raises); shutdown is a wait on the pool."""
    report, code = trace("futures_tour", args=(method,))
    assert report["outcome"] == "finished" and code == 0
    threads, procs = report["pools"]["threads"], report["pools"]["procs"]
    assert (threads["workers"], threads["submitted"], threads["done"]) == (2, 5, 5)
    assert (procs["workers"], procs["submitted"], procs["done"], procs["failed"]) == (2, 3, 2, 1)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])  # fork: in the list above
def test_what_a_child_makes_is_traced_and_its_own_children_are_actors(method: str) -> None:
    """A child's own Lock (its holds counted), Event and Queue, named by its variables
    (the runner gives their indices), and a grandchild that puts into the queue."""
    report, code = trace("child_makes", args=(method,))
    assert report["outcome"] == "finished" and code == 0
    resources = report["resources"]
    assert resources["lock"]["acquisitions"] == 1
    assert resources["done"]["type"] == "event"
    assert (resources["results"]["puts"], resources["results"]["gets"]) == (1, 1)
    assert report["actors"] == {"MainThread": "done", "child": "done", "Process-1:1": "done"}


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_deadlock_between_a_child_s_own_processes_over_its_own_locks_is_named(
    tmp_path: Path, method: str
) -> None:
    where = copied(tmp_path, "child_deadlock")
    report, code = trace("child_deadlock", "--timeout", "30", where=where, args=(method,))
    assert report["outcome"] == "deadlock" and code == 1
    cycle = {e["actor"]: (e["holds"], e["waits_for"]) for e in report["cycle"]}
    assert cycle == {"one": (["first"], "second"), "two": (["second"], "first")}
    assert report["actors"]["child"] == "waiting"  # joining them: seen waiting
    assert not runners_left(tmp_path)
