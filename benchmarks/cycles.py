"""Run → stop, many times, in the real app: does anything grow or stay behind?

    python benchmarks/cycles.py [--cycles 500]

Drives the app headless (Textual's Pilot) through run → stop cycles over four
kinds of run: threads (the mutexA/mutexB deadlock), processes (the same on
the process backend), gevent (the bounded producer–consumer) and a Pool of 5.
Each cycle presses r, waits until the run is under way (or has its verdict),
presses x. Every 50 cycles it prints the app process's resident memory, its
threads (Python's and native), its open file descriptors and the processes
left under it. A flat memory line and zeros at the end are the goal.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_conc.engine.memory import children_of, rss_of
from tui_conc.ui.app import make_app

KINDS = [
    ("deadlock_mutex", "thread"),
    ("deadlock_mutex", "process"),
    ("producer_consumer_bounded", "gevent"),
    ("pool_five", "process"),
]


def sample() -> dict[str, float]:
    me = os.getpid()
    return {
        "rss_mb": rss_of(me) / (1 << 20),
        "threads": threading.active_count(),
        "native_threads": len(os.listdir(f"/proc/{me}/task")),
        "fds": len(os.listdir(f"/proc/{me}/fd")),
        "processes": len(children_of(me)),
    }


async def cycles(count: int) -> list[tuple[int, dict[str, float]]]:
    app = make_app()
    rows = []
    async with app.run_test(size=(120, 40)) as pilot:
        entries = {e.path.stem: e for e in app.entries}
        for n in range(count + 1):
            if n % 50 == 0:
                await pilot.pause(0.5)  # let the last stop settle before counting
                gc.collect()
                rows.append((n, sample()))
                print(n, rows[-1][1], flush=True)
            if n == count:
                break
            stem, backend = KINDS[n % len(KINDS)]
            entry = entries[stem]
            app.backends[entry.path] = backend
            app.choose_entry(entry)
            await pilot.pause()
            await pilot.press("r")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                source = app.source
                under_way = source is not None and source.status != "starting"
                if under_way and (source.version > 3 or source.status != "running"):
                    break
                await asyncio.sleep(0.02)
            await pilot.press("x")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=500)
    args = parser.parse_args()
    started = time.monotonic()
    rows = asyncio.run(cycles(args.cycles))
    first, last = rows[1][1] if len(rows) > 1 else rows[0][1], rows[-1][1]
    growth = last["rss_mb"] - first["rss_mb"]
    print(
        f"{args.cycles} run/stop cycles in {time.monotonic() - started:.0f} s "
        f"({', '.join(f'{s} on {b}' for s, b in KINDS)}): memory {first['rss_mb']:.1f} MB "
        f"after 50 cycles, {last['rss_mb']:.1f} MB at the end ({growth:+.1f} MB); at the end "
        f"{last['threads']:.0f} Python threads, {last['native_threads']:.0f} native, "
        f"{last['fds']:.0f} fds, {last['processes']:.0f} processes left"
    )


if __name__ == "__main__":
    main()
