"""Instrumentation cost: an uncontended instrumented lock vs a bare threading.Lock.

    python benchmarks/lock_overhead.py [--n 1000000] [--rounds 7]

Both loops run side by side in one process, alternating, and the best round
of each is compared (the least disturbed by the rest of the machine). The
instrumented side is what a scenario's `acquire` / `release` steps call: a
per-actor handle whose fast path appends one prebuilt event tuple to the
run's buffer; the buffer is drained every 50,000 operations, as the runner's
flusher would.
"""

from __future__ import annotations

import argparse
import threading
import time

from tui_conc.engine.primitives.locks import LockLike


def bare_round(n: int) -> float:
    lock = threading.Lock()
    acquire, release = lock.acquire, lock.release
    started = time.perf_counter()
    for _ in range(n):
        acquire()
        release()
    return (time.perf_counter() - started) / n


def instrumented_round(n: int) -> float:
    sink: list[tuple] = []
    handle = LockLike(0, sink.append, "lock").bind(1)
    acquire, release = handle.acquire, handle.release
    chunk = 50_000
    started = time.perf_counter()
    for _ in range(n // chunk):
        for _ in range(chunk):
            acquire(0)
            release()
        sink.clear()
    return (time.perf_counter() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    bare, inst = [], []
    for _ in range(args.rounds):
        bare.append(bare_round(args.n))
        inst.append(instrumented_round(args.n))
    b, i = min(bare), min(inst)
    print(f"bare threading.Lock acquire+release:    {b * 1e9:6.1f} ns")
    print(f"instrumented lock acquire+release:      {i * 1e9:6.1f} ns  (2 events)")
    print(f"ratio: {i / b:.2f}x  (target <= 4x: {'met' if i / b <= 4 else 'NOT met'})")


if __name__ == "__main__":
    main()
