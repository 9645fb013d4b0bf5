"""Stop: from the stop key on a deadlocked run to every thread and process of it gone.

    python benchmarks/stop_latency.py [--runs 20]

Drives the real app headless: runs the mutexA/mutexB deadlock, waits until
the app reports it, presses x, and times until the runner process (and with
it every thread of the run) no longer exists — checked with kill(pid, 0) and
by the absence of any child of this process — polling while the key is being
handled. Also timed: until Textual's Pilot reports the app idle again, its
screen repainted with the stopped run (an upper bound; the Pilot's own wait
is part of it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from tui_conc.scenario import shipped_scenarios_dir
from tui_conc.ui.app import make_app


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def children() -> list[str]:
    me = str(os.getpid())
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read().split()
            except OSError:
                continue
            if stat[3] == me:
                out.append(entry)
    return out


async def one(app, pilot) -> tuple[float, float]:
    await pilot.press("r")
    while app.source is None or app.source.status != "deadlock":
        await asyncio.sleep(0.01)
    pid = app.source.runner.pid
    assert alive(pid)
    started = time.perf_counter()
    press = asyncio.ensure_future(pilot.press("x"))
    while alive(pid) or children():
        await asyncio.sleep(0.0005)
    gone = time.perf_counter() - started
    await press
    return gone, time.perf_counter() - started


async def measure(runs: int) -> None:
    app = make_app(shipped_scenarios_dir())
    times, idle = [], []
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_entry(next(e for e in app.entries if e.path.stem == "deadlock_mutex"))
        for _ in range(runs):
            gone, settled = await one(app, pilot)
            times.append(gone)
            idle.append(settled)
    times.sort()
    print(f"stop on a deadlocked run -> runner and its threads gone, over {runs} runs:")
    print(
        f"  median {statistics.median(times) * 1000:.1f} ms, "
        f"max {times[-1] * 1000:.1f} ms  (target <= 200 ms: "
        f"{'met' if times[-1] <= 0.2 else 'NOT met'})"
    )
    print(
        f"  -> the app idle again, the stopped run on screen: median "
        f"{statistics.median(idle) * 1000:.1f} ms, max {max(idle) * 1000:.1f} ms"
    )
    print(f"  children of the app left behind: {len(children())}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(measure(parser.parse_args().runs))


if __name__ == "__main__":
    main()
