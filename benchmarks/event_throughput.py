"""Events from actors to the app's state, with the app live and redrawing.

    python benchmarks/event_throughput.py [--iterations 1500000]
    python benchmarks/event_throughput.py --recording-cost [--pairs 3]

Runs the shipped stress scenario (two threads hammering their own lock and
queue: four events per loop turn) in the real app, headless, and reports:
- events folded into the app's state per second (first to last fold);
- the longest gap between two redraws of the panels while it ran;
- the app process's resident memory at the start, its peak, and at the end
  (the fold keeps bounded history, so it must level off, not keep growing).

The app records every run (for the Timeline, scrubbing, save and replay).
``--recording-cost`` runs the same scenario in pairs, recorded and not,
alternating, and prints what recording costs in events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
from pathlib import Path

from tui_conc.scenario import shipped_scenarios_dir
from tui_conc.ui.app import make_app


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def unrecorded(entry, overrides, backend):  # type: ignore[no-untyped-def]
    """The app's run, but not recorded (for the comparison)."""
    from tui_conc.session import LiveRun

    return LiveRun(entry.path, overrides, backend=backend).start()


async def measure(iterations: int, record: bool = True, quiet: bool = False) -> float:
    app = make_app(shipped_scenarios_dir()) if record else make_app(source_factory=unrecorded)
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
    if quiet:
        return count / span
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
    return count / span


async def recording_cost(iterations: int, pairs: int) -> None:
    """A/B medians (this VM drifts by more than the cost), and the cost itself: the
    reader thread's time spent writing frames and taking checkpoints, timed inside."""
    from tui_conc.session import LiveRun
    from tui_conc.state.history import History

    spent = {"recording": 0.0}

    def timed(fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent["recording"] += time.perf_counter() - started

        return wrapper

    LiveRun._write_record = timed(LiveRun._write_record)  # type: ignore[method-assign]
    History.folded = timed(History.folded)  # type: ignore[method-assign]
    History.add_frame = timed(History.add_frame)  # type: ignore[method-assign]
    on, off, shares = [], [], []
    for _ in range(pairs):
        off.append(await measure(iterations, record=False, quiet=True))
        spent["recording"] = 0.0
        on.append(await measure(iterations, record=True, quiet=True))
        shares.append(spent["recording"] / (iterations * 8 / on[-1]))  # 8 events a turn
    med_on, med_off = statistics.median(on), statistics.median(off)
    print(f"not recorded: {', '.join(f'{r:,.0f}' for r in off)} events/s (median {med_off:,.0f})")
    print(f"recorded:     {', '.join(f'{r:,.0f}' for r in on)} events/s (median {med_on:,.0f})")
    print(f"  A/B difference of the medians: {1 - med_on / med_off:+.1%} (noise on this VM: ±15 %)")
    share = statistics.median(shares)
    verdict = "met" if share <= 0.05 else "NOT met"
    print(
        f"recording's own time (frames written, history kept, checkpoints) per second of "
        f"the run: {', '.join(f'{x:.1%}' for x in shares)}; median {share:.1%} "
        f"(target <= 5 %: {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=1_500_000)
    parser.add_argument("--recording-cost", action="store_true")
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    if args.recording_cost:
        asyncio.run(recording_cost(args.iterations, args.pairs))
    else:
        asyncio.run(measure(args.iterations))


if __name__ == "__main__":
    main()
