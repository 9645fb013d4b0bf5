"""A Pool of 5 with 30 tasks of 1 s: the wall time against the ideal 6 s.

    python benchmarks/pool_wall.py [--runs 3]

Runs the shipped "Pool of 5" scenario on real processes (instrumentation,
event merging and the app's state included) and prints, for each run, the
main process's time from the first ``apply_async`` to the end of ``join()``
— six waves of five 1-second tasks — and the whole run's time, which also
counts starting the pool's five worker processes (spawn) before the first
submit.
"""

from __future__ import annotations

import argparse
import statistics

from tui_conc.scenario import load_scenario, shipped_scenarios_dir
from tui_conc.session import LiveRun
from tui_conc.state.expectations import check

IDEAL_S = 6.0


def one_run() -> tuple[float, float, bool]:
    path = shipped_scenarios_dir() / "pool_five.yaml"
    run = LiveRun(path, backend="process").start()
    try:
        assert run.wait(60), "the pool run did not end"
    finally:
        run.stop()
    snapshot = run.snapshot(log_tail=0)
    wall = {v.name: v.value for v in snapshot.variables}["pool_time"]
    passed = all(r.passed for r in check(load_scenario(path), snapshot, run.log_texts()))
    return float(wall), snapshot.elapsed_s, passed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    walls = []
    for n in range(args.runs):
        wall, elapsed, passed = one_run()
        walls.append(wall)
        print(
            f"run {n + 1}: submit -> join {wall:.3f} s ({(wall / IDEAL_S - 1) * 100:+.1f} % "
            f"of the ideal {IDEAL_S:g} s); whole run {elapsed:.2f} s; expectations: {passed}"
        )
    worst = max(walls)
    print(f"median {statistics.median(walls):.3f} s, worst {worst:.3f} s")
    print(f"target within 5 % of {IDEAL_S:g} s: {'met' if worst <= IDEAL_S * 1.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
