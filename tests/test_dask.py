"""The dask backend: actors as tasks on a Dask cluster, Dask's primitives, nothing left.

The lessons themselves run in test_scenarios (every shipped scenario on its own
backend); here: the cycle across workers, a worker lost mid-run, stop and quit,
a cluster of the user's own left as it was, and the backend without Dask.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_conc.scenario import ScenarioError, load_scenario, parse_scenario
from tui_conc.session import LiveRun
from tui_conc.state.expectations import check

from .conftest import SCENARIOS, gone, needs_dask
from .test_processes import in_group, wait_for


def finished(path: Path | str, overrides: dict | None = None, timeout: float = 90) -> LiveRun:
    run = LiveRun(path, overrides, backend="dask").start()
    try:
        assert run.wait(timeout), f"{path} did not end"
    finally:
        run.stop()
    return run


DASK_SWITCHABLE = [
    p
    for p in sorted(SCENARIOS.glob("*.yaml"))
    if "dask" in load_scenario(p).supported and load_scenario(p).backend != "dask"
]


@needs_dask
@pytest.mark.parametrize("path", DASK_SWITCHABLE, ids=lambda p: p.stem)
def test_thread_lessons_that_list_dask_keep_their_lesson_on_a_cluster(path: Path) -> None:
    run = finished(path)
    snapshot = run.snapshot(log_tail=0)
    assert snapshot.backend == "dask"
    tasks = [a for a in snapshot.actors if a.where]
    assert tasks, "no actor ran on a worker"
    results = check(load_scenario(path), snapshot, run.log_texts())
    failed = [f"{r.text} [{r.detail}]" for r in results if r.failed]
    assert not failed, f"{path.name} on dask ({snapshot.status}): {failed}"


def test_the_lessons_that_list_dask_are_the_ones_the_issue_names() -> None:
    names = {p.stem for p in DASK_SWITCHABLE}
    assert {"semaphore_pool", "redis_event"} <= names


@needs_dask
def test_the_cycle_across_two_workers_is_named_with_their_addresses() -> None:
    run = finished(SCENARIOS / "dask_deadlock.yaml", {"hold": 0.5})
    snapshot = run.snapshot(log_tail=20)
    assert snapshot.status == "deadlock"
    assert {(e.actor, e.holds, e.waits_for) for e in snapshot.cycle} == {
        ("worker1", ("mutexA",), "mutexB"),
        ("worker2", ("mutexB",), "mutexA"),
    }
    # the banner names the workers involved
    assert {e.actor: e.where for e in snapshot.cycle} == {a.name: a.where for a in snapshot.actors}
    assert "worker1 (on tcp://" in snapshot.deadlock_text
    places = {a.name: (a.where, a.pid) for a in snapshot.actors}
    assert all(w.startswith("tcp://") and pid for w, pid in places.values()), places
    assert places["worker1"][0] != places["worker2"][0], "one worker each"
    assert places["worker1"][1] != places["worker2"][1]
    assert any("LocalCluster of 2 worker processes" in line.text for line in snapshot.log)


@needs_dask
def test_stopping_a_run_leaves_no_scheduler_nanny_or_worker(tmp_path: Path) -> None:
    run = LiveRun(SCENARIOS / "dask_deadlock.yaml", {"hold": 30}, backend="dask").start()
    try:
        assert wait_for(
            run, lambda s: sum(a.state == "sleeping" for a in s.actors) == 2, timeout=60
        ), "the actors never started"
        group = os.getpgid(run.runner.pid)
        assert len(in_group(group)) >= 3  # the runner, its 2 workers (and helpers)
    finally:
        run.stop()
    deadline = time.monotonic() + 15
    while in_group(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not in_group(group), "processes left behind"


@needs_dask
def test_a_run_that_ends_closes_its_cluster() -> None:
    run = finished(SCENARIOS / "dask_redis_event.yaml", {"workers": 2, "check_time": 0.2})
    assert run.snapshot(log_tail=0).status == "finished"
    pid = run.runner.pid
    deadline = time.monotonic() + 15
    while (not gone(pid) or in_group(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(pid) and not in_group(pid), in_group(pid)


LOSES_A_WORKER = """title: a worker is lost
chapter: Test
backend: dask
actors:
  victim:
    steps:
      - log: "victim starts"
      - sleep: 30
  survivor:
    steps:
      - sleep: 1.5
      - log: "survivor done"
"""


@needs_dask
def test_a_worker_killed_mid_run_shows_its_actor_lost_and_the_run_ends(tmp_path: Path) -> None:
    path = tmp_path / "lost.yaml"
    path.write_text(LOSES_A_WORKER)
    run = LiveRun(path, backend="dask").start()
    try:
        assert wait_for(
            run, lambda s: bool(s.actors) and s.actors[0].state == "sleeping", timeout=60
        )
        victim = run.snapshot(log_tail=0).actors[0]
        os.kill(victim.pid, signal.SIGKILL)
        assert run.wait(60), "the run did not end"
    finally:
        run.stop()
    snapshot = run.snapshot(log_tail=0)
    victim, survivor = snapshot.actors
    assert victim.state == "killed" and "was lost" in victim.detail, victim
    assert survivor.state == "done"
    assert snapshot.status == "finished"


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


@needs_dask
def test_on_a_cluster_of_yours_a_deadlocked_run_leaves_every_worker_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client

    from tui_conc.engine.backends.dask import SCHEDULER_ENV

    port = _free_port()
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler = _start([*dask, "--port", str(port), "--no-dashboard"], tmp_path / "s.log")
    worker_cmd = [sys.executable, "-m", "distributed.cli.dask_worker"]
    address = f"tcp://127.0.0.1:{port}"
    worker = None
    try:
        worker = _start(
            [*worker_cmd, address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
            tmp_path / "w.log",
        )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            before = sorted(client.scheduler_info()["workers"])
        monkeypatch.setenv(SCHEDULER_ENV, address)
        run = finished(SCENARIOS / "dask_deadlock.yaml", {"hold": 0.3})
        assert run.snapshot(log_tail=0).status == "deadlock"
        with Client(address, timeout="30s") as client:
            assert sorted(client.scheduler_info()["workers"]) == before  # none restarted
            deadline = time.monotonic() + 10
            while client.processing() and any(client.processing().values()):
                assert time.monotonic() < deadline, "the deadlocked tasks never ended"
                time.sleep(0.2)
        assert "exited with status" not in (tmp_path / "w.log").read_text()
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_without_dask_the_backend_says_how_to_enable_it(tmp_path: Path) -> None:
    hide = tmp_path / "hide"
    (hide / "distributed").mkdir(parents=True)
    (hide / "distributed" / "__init__.py").write_text("raise ImportError('hidden here')\n")
    env = {**os.environ, "PYTHONPATH": str(hide)}
    out = subprocess.run(
        [sys.executable, "-m", "tui_conc", "run", "dask_deadlock"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "pip install 'tui-conc[dask]'" in text, text
    assert "Traceback" not in text
    listed = subprocess.run(
        [sys.executable, "-m", "tui_conc", "list"], capture_output=True, text=True, env=env
    )
    assert listed.returncode == 0 and "dask_deadlock" in listed.stdout


@pytest.mark.parametrize(
    ("resources", "steps", "problem"),
    [
        ("c: condition", "[{notify: c}]", "a condition ('c') has no Dask counterpart"),
        ("q: {type: queue, kind: lifo}", "[{get: q}]", "a distributed.Queue is FIFO"),
        ("q: queue", "[{task_done: q}]", "no task_done / join"),
    ],
)
def test_what_dask_cannot_share_is_refused_at_load_in_one_line(
    resources: str, steps: str, problem: str
) -> None:
    text = (
        f"title: t\nchapter: c\nbackend: dask\nresources:\n  {resources}\n"
        f"actors:\n  a:\n    steps: {steps}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "t.yaml")
    assert problem in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith("t.yaml:")


def test_a_local_lock_is_for_dask_only() -> None:
    text = (
        "title: t\nchapter: c\nbackend: thread\nbackends: [thread, process]\nresources:\n"
        "  here: {type: lock, local: true}\nactors:\n  a:\n    steps: [{acquire: here}]\n"
    )
    with pytest.raises(ScenarioError, match="local"):
        parse_scenario(text, "t.yaml")


async def test_the_palette_sets_where_dask_runs_go(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import Input, Static

    from tui_conc.engine.backends.dask import SCHEDULER_ENV, WORKERS_ENV
    from tui_conc.ui.app import make_app
    from tui_conc.ui.screens.dask_cluster import DaskClusterScreen

    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        for key in "Dask cluster":
            await pilot.press(key if key != " " else "space")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, DaskClusterScreen)
        screen.query_one("#dask-scheduler", Input).value = "not an address"
        await pilot.press("enter")
        await pilot.pause()
        assert "not tcp://HOST:PORT" in str(screen.query_one("#dask-error", Static).render())
        assert SCHEDULER_ENV not in os.environ  # refused: nothing changed
        screen.query_one("#dask-scheduler", Input).value = "tcp://10.0.0.5:8786"
        screen.query_one("#dask-workers", Input).value = "3"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, DaskClusterScreen)
        assert os.environ[SCHEDULER_ENV] == "tcp://10.0.0.5:8786"
        assert os.environ[WORKERS_ENV] == "3"
        app.action_dask_cluster()
        await pilot.pause()
        app.screen.query_one("#dask-scheduler", Input).value = ""  # back to a LocalCluster
        await pilot.press("enter")
        await pilot.pause()
        assert SCHEDULER_ENV not in os.environ and os.environ[WORKERS_ENV] == "3"


@needs_dask
def test_pause_parks_the_tasks_on_the_workers_and_resume_lets_them_finish() -> None:
    path = SCENARIOS / "dask_semaphore_pool.yaml"
    run = LiveRun(path, {"hold": 0.6}, backend="dask").start()
    try:
        assert wait_for(run, lambda s: s.status == "running" and bool(s.actors), timeout=60)
        run.pause()
        # each task parks before its next step: within a hold and the flag's 0.1 s
        assert wait_for(run, lambda s: any(a.parked for a in s.actors), timeout=10)
        time.sleep(1.5)  # a step under way (a hold, a wait for a lease) may still end
        parked = run.snapshot(log_tail=0)
        time.sleep(1.5)  # then nothing moves
        still = run.snapshot(log_tail=0)
        assert [lk.acquisitions for lk in still.locks] == [lk.acquisitions for lk in parked.locks]
        run.resume()
        assert run.wait(60)
    finally:
        run.stop()
    snapshot = run.snapshot(log_tail=0)
    assert snapshot.status == "finished"
    assert all(r.passed for r in check(load_scenario(path), snapshot, run.log_texts()))


@needs_dask
def test_a_recorded_dask_run_replays_and_exports_a_process_per_worker(tmp_path: Path) -> None:
    import json

    from tui_conc.export.chrome import export_chrome
    from tui_conc.session import ReplayRun

    recording = tmp_path / "d.trace"
    run = LiveRun(SCENARIOS / "dask_deadlock.yaml", {"hold": 0.3}, record=recording,
                  backend="dask").start()  # fmt: skip
    try:
        assert run.wait(90)
    finally:
        run.stop()
    again = ReplayRun(recording)
    assert again.status == "deadlock" and not again.warnings
    replayed = again.snapshot(log_tail=0)
    assert {a.name: a.where for a in replayed.actors} == {
        a.name: a.where for a in run.snapshot(log_tail=0).actors
    }
    out = tmp_path / "d.json"
    export_chrome(recording, out)
    events = json.loads(out.read_text())["traceEvents"]
    names = {e["args"]["name"] for e in events if e["name"] == "process_name"}
    workers = [n for n in names if n.startswith("Dask worker tcp://")]
    assert len(workers) == 2, names  # each task under the worker process it ran in


@needs_dask
async def test_b_takes_a_lesson_to_dask_and_quit_leaves_no_worker() -> None:
    from tui_conc.ui.app import make_app
    from tui_conc.ui.widgets.actors_panel import ActorsPanel
    from tui_conc.ui.widgets.status_bar import StatusBar

    from .test_app import _open, _plain, _until
    from .test_ui import _row_text

    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        app.open_entry(_open(app, "redis_event"))
        app.knob_overrides[app.entry.path] = {"check_time": "30"}
        while app.backend_for(app.entry) != "dask":
            await pilot.press("b")
        await pilot.press("r")
        await _until(
            pilot,
            lambda: sum(a.state == "waiting" for a in app.source.snapshot().actors) == 2,
            timeout=60,
        )
        panel = app.query_one(ActorsPanel)

        def rows() -> str:
            return "".join(_row_text(panel, k) for k in panel.row_keys)

        await _until(pilot, lambda: "127.0.0.1:" in rows())  # each task's worker
        assert "on dask" in _plain(app.query_one(StatusBar))
        group = app.source.runner.pid
        assert len(in_group(group)) >= 3  # the runner and its cluster's workers
        await pilot.press("q")
    deadline = time.monotonic() + 10
    while in_group(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not in_group(group), "a worker outlived quitting"
