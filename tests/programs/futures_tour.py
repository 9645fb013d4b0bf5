"""concurrent.futures: a thread pool and a process pool (start method: the first
argument) submit, map, and a task that raises."""

import multiprocessing as mp
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def cube(x):
    return x**3


def fails(x):
    raise ValueError(f"bad {x}")


if __name__ == "__main__":
    method = sys.argv[1] if len(sys.argv) > 1 else "spawn"
    with ThreadPoolExecutor(max_workers=2) as threads:
        print("threads", list(threads.map(cube, range(4))))
        print("submit", threads.submit(cube, 5).result())
    with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context(method)) as procs:
        print("processes", list(procs.map(cube, range(4), chunksize=2)))
        try:
            procs.submit(fails, 1).result()
        except ValueError as exc:
            print("raised", exc)
