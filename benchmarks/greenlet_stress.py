"""10,000 greenlets in one run: events into the app's state, and key-press latency.

    python benchmarks/greenlet_stress.py [--greenlets 10000] [--rounds 20]

Runs the shipped "Stress: 10,000 greenlets" scenario (gevent backend) in the
real app, headless. While it runs, a key (1 / 2, switching views) is pressed
every 200 ms and the time until the app has acted on it is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from textual import events
from textual.widgets import ContentSwitcher

from tui_conc.scenario import shipped_scenarios_dir
from tui_conc.ui.app import make_app


async def measure(greenlets: int, rounds: int) -> None:
    app = make_app(shipped_scenarios_dir())
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        entry = next(e for e in app.entries if e.path.stem == "stress_greenlets")
        app.knob_overrides[entry.path] = {"greenlets": str(greenlets), "rounds": str(rounds)}
        app.open_entry(entry)
        await pilot.press("r")
        source = app.source
        switcher = app.query_one(ContentSwitcher)
        first = last = None
        count = 0
        key = "1"
        while source.status not in ("finished", "error", "stopped"):
            want = "lesson" if key == "1" else "run"
            started = time.perf_counter()
            app.post_message(events.Key(key, key))
            while switcher.current != want and time.perf_counter() - started < 2:
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - started)
            key = "2" if key == "1" else "1"
            await asyncio.sleep(0.2)
            folder = getattr(source, "folder", None)
            if folder is not None and folder.count != count:
                count = folder.count
                first = first or time.perf_counter()
                last = time.perf_counter()
        await pilot.pause(0.3)
        count = source.folder.count
        passed = app.results is not None and all(r.passed for r in app.results)
    span = (last or 0) - (first or 0)
    rate = count / span if span else 0.0
    print(f"{greenlets:,} greenlets x {rounds} rounds: {count:,} events folded in ~{span:.1f} s")
    print(f"  -> about {rate:,.0f} events/s into the app's state (sampled every 0.2 s)")
    print(
        f"key press -> acted on: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} presses"
    )
    print(f"expectations passed: {passed}")
    print(
        f"targets: >= 500,000 events/s: {'met' if rate >= 5e5 else 'NOT met'}; "
        f"key press <= 100 ms: {'met' if max(latencies) <= 0.1 else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--greenlets", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(measure(args.greenlets, args.rounds))


if __name__ == "__main__":
    main()
