"""Events from actors to the app's state, with the app live and redrawing.

    python benchmarks/event_throughput.py [--iterations 1500000]

Runs the shipped stress scenario (two threads hammering their own lock and
queue: four events per loop turn) in the real app, headless, and reports:
- events folded into the app's state per second (first to last fold);
- the longest gap between two redraws of the panels while it ran;
- the app process's resident memory at the start, its peak, and at the end
  (the fold keeps bounded history, so it must level off, not keep growing).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from pathlib import Path

from tui_conc.scenario import shipped_scenarios_dir
from tui_conc.ui.app import make_app


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(iterations: int) -> None:
    app = make_app(shipped_scenarios_dir())
    async with app.run_test(size=(120, 40)) as pilot:
        entry = next(e for e in app.entries if e.path.stem == "stress_events")
        app.knob_overrides[entry.path] = {"iterations": str(iterations)}
        app.open_entry(entry)
        await pilot.pause()
        rss_start = rss_mb()
        await pilot.press("r")
        source = app.source
        first = last = None
        count = 0
        peak = rss_start
        samples: list[tuple[float, int]] = []
        while source.status not in ("finished", "error", "stopped"):
            await asyncio.sleep(0.05)
            folder = getattr(source, "folder", None)
            now = time.perf_counter()
            if folder is not None and folder.count != count:
                count = folder.count
                first = first or now
                last = now
                samples.append((now, count))
            peak = max(peak, rss_mb())
        await pilot.pause(0.2)
        count = source.folder.count
        frames = [t for t in app.frame_times if first and first <= t <= (last or first)]
        gaps = [b - a for a, b in itertools.pairwise(frames)]
        rss_end = rss_mb()
    span = (last or 0) - (first or 0)
    print(f"events folded: {count:,} in {span:.2f} s -> {count / span:,.0f} events/s")
    steady = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(samples)]
    if steady:
        steady.sort()
        print(f"  per 50 ms sample: median {steady[len(steady) // 2]:,.0f} events/s")
    gaps.sort()
    within = sum(g <= 0.05 for g in gaps) / len(gaps)
    print(
        f"panel redraws during the run: {len(frames)}; gap between redraws: "
        f"median {gaps[len(gaps) // 2] * 1000:.0f} ms, "
        f"p95 {gaps[int(len(gaps) * 0.95)] * 1000:.0f} ms, "
        f"longest {gaps[-1] * 1000:.0f} ms; {within:.0%} of gaps <= 50 ms"
    )
    print(f"app RSS: start {rss_start:.0f} MB, peak {peak:.0f} MB, end {rss_end:.0f} MB")
    print(
        f"targets: >= 1,000,000 events/s: {'met' if count / span >= 1e6 else 'NOT met'}; "
        f"redraw gap <= 50 ms: {'met' if max(gaps) <= 0.05 else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=1_500_000)
    args = parser.parse_args()
    asyncio.run(measure(args.iterations))


if __name__ == "__main__":
    main()
