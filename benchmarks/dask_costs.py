"""What the dask backend costs, measured side by side in one run.

    python benchmarks/dask_costs.py [--rounds 5] [--ops 200] [--workers 2]

Needs the extra: ``pip install -e '.[dask]'``. Each round:

* starts the LocalCluster a dask run starts (the same settings: ``Cluster.open``)
  and times it, from the call to a client that sees every worker;
* on one worker, in one task: ``--ops`` acquire + release pairs of a
  ``distributed.Lock`` and 1,000,000 of a ``threading.Lock``, each timed with
  ``perf_counter`` — the same process, the same moment, so the ratio holds
  on a busy machine even when the figures drift;
* the same ``distributed.Lock`` pairs from the runner (the client, whose
  scheduler is in-process for a LocalCluster);
* closes the cluster and times that too.

It prints each round and the median of each figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def per_pair_us(lock: object, n: int) -> float:
    """µs per acquire + release of ``lock`` over ``n`` pairs, after one to warm it up
    (a Dask lock registers with the scheduler on its first use)."""
    lock.acquire()  # type: ignore[attr-defined]
    lock.release()  # type: ignore[attr-defined]
    began = time.perf_counter()
    for _ in range(n):
        lock.acquire()  # type: ignore[attr-defined]
        lock.release()  # type: ignore[attr-defined]
    return (time.perf_counter() - began) / n * 1e6


def lock_costs(ops: int, name: str) -> tuple[float, float]:
    """On a worker: µs per acquire + release of a distributed.Lock and a threading.Lock."""
    import threading

    from distributed import Lock

    return per_pair_us(Lock(name), ops), per_pair_us(threading.Lock(), 1_000_000)


def one_round(k: int, ops: int, workers: int) -> dict[str, float]:
    from distributed import Lock

    from tui_conc.engine.backends.dask.cluster import Cluster

    cluster = Cluster.open(None, workers)
    try:
        worker = cluster.workers()[0]
        future = cluster.client.submit(lock_costs, ops, f"bench-{k}", workers=[worker], pure=False)
        dask_us, thread_us = future.result(timeout=120)
        client_us = per_pair_us(Lock(f"bench-client-{k}"), ops)
    finally:
        began = time.perf_counter()
        cluster.close()
        close_s = time.perf_counter() - began
    return {
        "start_s": cluster.start_s,
        "close_s": close_s,
        "dask_us": dask_us,
        "thread_us": thread_us,
        "ratio": dask_us / thread_us,
        "client_us": client_us,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    try:
        import distributed  # noqa: F401
    except ImportError:
        sys.exit("needs Dask: pip install -e '.[dask]'")
    rows = []
    print(
        f"{'round':>5}  {'cluster up':>10}  {'closed in':>9}  {'Dask lock (worker)':>18}"
        f"  {'threading.Lock':>14}  {'ratio':>8}  {'Dask lock (client)':>18}"
    )
    for k in range(args.rounds):
        r = one_round(k, args.ops, args.workers)
        rows.append(r)
        print(
            f"{k + 1:>5}  {r['start_s']:>8.2f} s  {r['close_s']:>7.2f} s"
            f"  {r['dask_us'] / 1000:>15.2f} ms  {r['thread_us'] * 1000:>11.0f} ns"
            f"  {r['ratio']:>7.0f}x  {r['client_us'] / 1000:>15.2f} ms"
        )
    med = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    print(
        f"median: a LocalCluster of {args.workers} workers up in {med['start_s']:.2f} s"
        f" (closed in {med['close_s']:.2f} s); acquire + release of a distributed.Lock"
        f" {med['dask_us'] / 1000:.2f} ms on a worker ({med['client_us'] / 1000:.2f} ms from"
        f" the client) vs {med['thread_us'] * 1000:.0f} ns for a threading.Lock in the same"
        f" task: {med['ratio']:,.0f}x"
    )


if __name__ == "__main__":
    main()
