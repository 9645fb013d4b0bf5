"""Events from 8 processes to the app's state, with the app live.

    python benchmarks/process_events.py [--processes 8] [--steps 250000]

Runs the shipped "Stress: 8 processes" scenario (process backend: each child
runs a loop of zero-length computations, two events each) in the real app,
headless. Every event goes child -> local socket -> the runner's merger
(time-ordered with the other streams) -> the app's reader -> its state.
Reports events folded per second, first to last fold.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from tui_conc.scenario import shipped_scenarios_dir
from tui_conc.ui.app import make_app


async def measure(processes: int, steps: int) -> float:
    app = make_app(shipped_scenarios_dir())
    async with app.run_test(size=(120, 40)) as pilot:
        entry = next(e for e in app.entries if e.path.stem == "stress_processes")
        app.knob_overrides[entry.path] = {"processes": str(processes), "steps": str(steps)}
        app.open_entry(entry)
        await pilot.pause()
        await pilot.press("r")
        source = app.source
        first = last = None
        count = 0
        while source.status not in ("finished", "error", "stopped"):
            await asyncio.sleep(0.02)
            folder = getattr(source, "folder", None)
            if folder is not None and folder.count != count:
                count = folder.count
                now = time.perf_counter()
                first = first or now
                last = now
        await pilot.pause(0.2)
        count = source.folder.count
        passed = app.results is not None and all(r.passed for r in app.results)
    span = (last or 0) - (first or 0)
    rate = count / span if span else 0.0
    print(f"{processes} processes x {steps:,} steps: {count:,} events folded in {span:.2f} s")
    print(f"  -> {rate:,.0f} events/s into the app's state; expectations passed: {passed}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--steps", type=int, default=250_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rates = [asyncio.run(measure(args.processes, args.steps)) for _ in range(args.runs)]
    best, median = max(rates), sorted(rates)[len(rates) // 2]
    print(f"median {median:,.0f} events/s, best {best:,.0f} over {len(rates)} runs")
    print(f"target >= 1,000,000 events/s: {'met' if median >= 1e6 else 'NOT met'}")


if __name__ == "__main__":
    main()
