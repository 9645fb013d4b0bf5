"""10,000 greenlets in one run: events into the app's state, and key-press latency.

    python benchmarks/greenlet_stress.py [--greenlets 10000] [--rounds 20] [--burst 10]

Runs the shipped "Stress: 10,000 greenlets" scenario (gevent backend) in the
real app, headless: every greenlet sleeps a random 0-50 ms then puts
``burst`` items, ``rounds`` times; one greenlet drains the queue. While it
runs, a key (1 / 2, switching the Lesson and Run views) is pressed every
200 ms and two delays are measured: until the app has acted on it (the view
switched), and until the first frame painted after that has finished
(the key press shows on screen).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from textual import events
from textual.screen import Screen
from textual.widgets import ContentSwitcher

from tui_conc.scenario import shipped_scenarios_dir
from tui_conc.ui.app import make_app

#: (started, ended) of every frame the screen paints: Screen._compositor_refresh
#: is private to Textual, wrapped here only to time frames.
FRAMES: list[tuple[float, float]] = []


def _time_frames() -> None:
    paint = Screen._compositor_refresh

    def timed(self: Screen, *args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return paint(self, *args, **kwargs)
        finally:
            FRAMES.append((started, time.perf_counter()))

    Screen._compositor_refresh = timed  # type: ignore[method-assign]


async def _painted_after(moment: float, limit: float = 2.0) -> float:
    """When the first frame started after ``moment`` finished."""
    while time.perf_counter() - moment < limit:
        done = [end for start, end in FRAMES if start >= moment]
        if done:
            return done[0]
        await asyncio.sleep(0.001)
    return time.perf_counter()


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


async def measure(greenlets: int, rounds: int, burst: int) -> None:
    _time_frames()
    app = make_app(shipped_scenarios_dir())
    acted: list[float] = []  #: key press -> the app has switched the view
    shown: list[float] = []  #: key press -> the first frame painted after that
    async with app.run_test(size=(120, 40)) as pilot:
        entry = next(e for e in app.entries if e.path.stem == "stress_greenlets")
        knobs = {"greenlets": str(greenlets), "rounds": str(rounds), "burst": str(burst)}
        app.knob_overrides[entry.path] = knobs
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
            switched = time.perf_counter()
            acted.append(switched - started)
            shown.append(await _painted_after(switched) - started)
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
    print(
        f"{greenlets:,} greenlets x {rounds} rounds x (sleep + {burst} puts): "
        f"{count:,} events folded in ~{span:.1f} s"
    )
    print(f"  -> about {rate:,.0f} events/s into the app's state (sampled every 0.2 s)")
    print(f"key press -> acted on: {ms(acted)}; -> on screen: {ms(shown)} ({len(shown)} presses)")
    print(f"expectations passed: {passed}")
    print(
        f"targets: >= 500,000 events/s: {'met' if rate >= 5e5 else 'NOT met'}; "
        f"key press on screen <= 100 ms: {'met' if max(shown) <= 0.1 else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--greenlets", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--burst", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(measure(args.greenlets, args.rounds, args.burst))


if __name__ == "__main__":
    main()
