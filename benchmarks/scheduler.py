"""The controlled scheduler: what a chosen step costs, how many schedules a second
exploration runs, and how long DFS takes to find the lessons' bugs.

    python benchmarks/scheduler.py [--steps 20000] [--schedules 2000] [--repeat 5]
    python benchmarks/scheduler.py --gevent    # the same on gevent (a patched process)

* step cost: two threads each run ``repeat: N`` of a read and a write of a
  shared variable. The same scenario runs free (the OS schedules the real
  threads) and controlled (every step parked and chosen, a random walk), in
  this process, side by side; the difference divided by the steps taken is
  what the control adds per step: two hand-overs between real threads (a
  ``threading.Lock`` released by the scheduler, one by the actor). Beside it, the
  floor: two bare threads handing a turn to each other through two locks, the
  least a hand-over between real threads costs on this machine.
* schedules per second: whole runs of the race lesson with 2 workers (its
  challenge's knobs), each a fresh set of threads, folded and judged, as
  ``explore`` does them (a random walk; virtual time).
* time to find: ``explore --strategy dfs`` on the race (the lost update) and on
  mutexA/mutexB with ``hold: 0`` (the deadlock), median of ``--repeat``.
"""

from __future__ import annotations

import sys

if "--gevent" in sys.argv:  # before anything imports threading
    from gevent import monkey

    monkey.patch_all()

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_conc.engine.backends.thread import ThreadRun
from tui_conc.engine.scheduler.strategies import RandomWalk
from tui_conc.exploration.command import challenge_knobs
from tui_conc.exploration.runs import controlled_run
from tui_conc.exploration.search import explore
from tui_conc.scenario import load_scenario, resolve_knobs, shipped_scenarios_dir

STEPPER = """
title: steps
chapter: bench
knobs:
  n: {default: 1000}
resources:
  x: {type: variable, value: 0}
actors:
  worker:
    count: 2
    steps:
      - repeat: n
        do:
          - read: x
            as: v
          - write: x
            value: v + 1
"""
#: On gevent a greenlet is chosen only where it yields: a sleep(0) in every turn.
GREEN_STEPPER = (
    STEPPER
    + """          - sleep: 0
"""
)


def handover_floor(n: int) -> float:
    """Seconds per hand-over of a turn between two bare threads (two locks, ping-pong)."""
    mine, theirs = threading.Lock(), threading.Lock()
    mine.acquire()
    theirs.acquire()

    def other() -> None:
        for _ in range(n):
            theirs.acquire()
            mine.release()

    thread = threading.Thread(target=other)
    thread.start()
    t0 = time.perf_counter()
    for _ in range(n):
        theirs.release()
        mine.acquire()
    elapsed = time.perf_counter() - t0
    thread.join()
    return elapsed / (2 * n)


def step_cost(steps: int, backend: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "steps.yaml"
        path.write_text(GREEN_STEPPER if backend == "gevent" else STEPPER)
        scenario = load_scenario(path)
        knobs = resolve_knobs(scenario, {"n": steps // 4})  # 2 workers × 2 steps a turn
        free, controlled, decisions = [], [], 0
        for _ in range(3):
            events: list = []
            t0 = time.perf_counter()
            run = ThreadRun(scenario, knobs, events.append, backend=backend)
            run.start()
            run.wait_until_done()
            free.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            result = controlled_run(
                scenario, str(path), knobs, RandomWalk(1), max_steps=10**7, backend=backend
            )
            controlled.append(time.perf_counter() - t0)
            decisions = len(result.decisions)
    f, c = min(free), min(controlled)
    floor = min(handover_floor(steps // 2) for _ in range(3))
    where = "2 greenlets (gevent)" if backend == "gevent" else "2 real threads"
    print(f"step cost: {decisions:,} choices on {where}")
    sched = "gevent's hub schedules" if backend == "gevent" else "the OS schedules"
    pad = " " * (len("gevent's hub schedules") - len(sched))
    print(f"  free run ({sched}):{pad} {f * 1e3:8.1f} ms  ({f / decisions * 1e6:5.2f} µs a step)")
    print(
        f"  controlled (each chosen):{' ' * 10}{c * 1e3:8.1f} ms  "
        f"({c / decisions * 1e6:5.2f} µs a step)"
    )
    print(f"  the control adds {(c - f) / decisions * 1e6:.1f} µs a step (best of 3 each)")
    kind = "greenlets" if backend == "gevent" else "threads"
    print(
        f"  floor: a bare hand-over between two {kind} (two locks) costs "
        f"{floor * 1e6:.1f} µs on this machine now"
    )


def schedules_per_second(n: int, backend: str) -> None:
    path = shipped_scenarios_dir() / "race_counter.yaml"
    scenario = load_scenario(path)
    knobs = challenge_knobs(scenario, [])
    t0 = time.perf_counter()
    out = explore(
        scenario, str(path), knobs, strategy="random", runs=n, goal="False", backend=backend
    )
    elapsed = time.perf_counter() - t0
    print(
        f"schedules: {out.runs:,} whole runs of the race lesson (workers=2, {backend}) in "
        f"{elapsed:.2f} s: "
        f"{out.runs / elapsed:,.0f} a second"
    )


def time_to_find(repeat: int) -> None:
    for stem in ("race_counter", "deadlock_mutex"):
        path = shipped_scenarios_dir() / f"{stem}.yaml"
        scenario = load_scenario(path)
        knobs = challenge_knobs(scenario, [])
        times, runs, reason = [], 0, ""
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = explore(scenario, str(path), knobs, strategy="dfs")
            times.append(time.perf_counter() - t0)
            assert out.found is not None, stem
            runs, reason = out.found.run, out.found.reason
        shown = " ".join(f"{k}={v}" for k, v in knobs.items())
        print(
            f"dfs on {stem} ({shown}): found after {runs} schedules in "
            f"{statistics.median(times) * 1e3:.1f} ms (median of {repeat}; max "
            f"{max(times) * 1e3:.1f} ms): {reason}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--schedules", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--gevent", action="store_true", help="greenlets (a patched process)")
    args = parser.parse_args()
    backend = "gevent" if args.gevent else "thread"
    step_cost(args.steps, backend)
    schedules_per_second(args.schedules, backend)
    if not args.gevent:
        time_to_find(args.repeat)


if __name__ == "__main__":
    main()
