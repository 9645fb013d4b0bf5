"""How often is each deadlock named, with the right cycle, on each backend?

    python benchmarks/deadlock_rate.py [--runs 20]

Runs every deadlock lesson and every ``tests/soundness/deadlock_*`` case on each
backend it lists, ``--runs`` times, and counts the runs that ended as a
deadlock whose cycle holds the actors the scenario's own expectations ask
for (all of them must pass). Also the ``finish_*`` cases: how often a
program plain Python finishes was condemned (must be 0).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_conc.scenario import load_scenario  # noqa: E402
from tui_conc.session import LiveRun  # noqa: E402
from tui_conc.state.expectations import check  # noqa: E402

DEADLOCKS = [
    ROOT / "scenarios" / "deadlock_mutex.yaml",
    ROOT / "scenarios" / "dining_philosophers.yaml",
    *sorted((ROOT / "tests" / "soundness").glob("deadlock_*.yaml")),
]
FINISHING = sorted((ROOT / "tests" / "soundness").glob("finish_*.yaml"))


def one(path: Path, backend: str) -> tuple[str, bool]:
    scenario = load_scenario(path)
    run = LiveRun(path, backend=backend).start()
    try:
        run.wait(60)
    finally:
        run.stop()
    snapshot = run.snapshot(log_tail=0)
    results = check(scenario, snapshot, run.log_texts())
    return snapshot.status, all(r.passed for r in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    started = time.monotonic()
    for kind, paths in (("deadlock", DEADLOCKS), ("finish", FINISHING)):
        for path in paths:
            for backend in load_scenario(path).supported:
                outcomes = [one(path, backend) for _ in range(args.runs)]
                if kind == "deadlock":
                    good = sum(status == "deadlock" and ok for status, ok in outcomes)
                    print(f"{path.stem} on {backend}: named {good}/{args.runs}")
                else:
                    wrong = sum(status != "finished" for status, _ in outcomes)
                    print(f"{path.stem} on {backend}: condemned {wrong}/{args.runs}")
    print(f"in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
