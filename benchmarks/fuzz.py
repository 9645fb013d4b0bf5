"""Fuzz the loader (and run what loads): how many files, how many clean errors, tracebacks.

    python benchmarks/fuzz.py [--cases 50000] [--runs 200] [--seed 1]

Every case is a shipped scenario with random mutations (tests/fuzzing.py).
Each must load or fail with one clean line naming a line of the file, in
bounded time. Then a sample of the mutated files that *do* load is run with
``tui-conc run --timeout 5``: each must end with a report (any outcome) and
no traceback, and leave no process behind.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fuzzing import cases
from tui_conc.scenario.loader import ScenarioError, parse_scenario


def load_all(count: int, seed: int) -> tuple[collections.Counter[str], list[tuple[str, str]]]:
    tally: collections.Counter[str] = collections.Counter()
    loaded: list[tuple[str, str]] = []
    for name, text in cases(count, seed):
        lines = max(text.count("\n") + (not text.endswith("\n")), 1)
        started = time.perf_counter()
        try:
            parse_scenario(text, "f.yaml")
        except ScenarioError as exc:
            good = "\n" not in str(exc) and 1 <= exc.line <= lines
            tally["clean errors" if good else "bad error lines"] += 1
        except Exception:
            tally["tracebacks"] += 1
            print(f"{name}: {traceback.format_exc().splitlines()[-1]}", file=sys.stderr)
        else:
            tally["loaded"] += 1
            loaded.append((name, text))
        if time.perf_counter() - started > 2:
            tally["slower than 2 s"] += 1
    return tally, loaded


def run_some(loaded: list[tuple[str, str]], runs: int) -> collections.Counter[str]:
    tally: collections.Counter[str] = collections.Counter()
    step = max(len(loaded) // max(runs, 1), 1)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in loaded[::step][:runs]:
            path = Path(tmp) / f"{name.replace('#', '_')}.yaml"
            path.write_text(text, encoding="utf-8")
            out = subprocess.run(
                [sys.executable, "-m", "tui_conc", "run", str(path), "--timeout", "5", "--json"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            if "Traceback" in out.stderr or "Traceback" in out.stdout:
                tally["runs with a traceback"] += 1
                print(f"{name}: {out.stderr[-400:]}", file=sys.stderr)
            elif out.returncode == 2:
                tally["runs refused (exit 2)"] += 1
            else:
                import json

                tally[f"runs ending {json.loads(out.stdout)['outcome']}"] += 1
    return tally


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    tally, loaded = load_all(args.cases, args.seed)
    loading = time.perf_counter() - started
    print(
        f"{args.cases:,} mutated files in {loading:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(tally.items()))
        + f"; tracebacks {tally['tracebacks']}"
    )
    started = time.perf_counter()
    runs = run_some(loaded, args.runs)
    print(
        f"{sum(runs.values())} of the files that loaded, run for up to 5 s each, in "
        f"{time.perf_counter() - started:.0f} s: "
        + ", ".join(f"{k} {v}" for k, v in sorted(runs.items()))
        + f"; tracebacks {runs['runs with a traceback']}"
    )


if __name__ == "__main__":
    main()
