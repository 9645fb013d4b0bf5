"""A Pool of 2 processes (start method: the first argument): apply_async, map,
starmap, imap and a task that raises; then a ThreadPool."""

import multiprocessing as mp
import sys
import time
from multiprocessing.pool import ThreadPool


def square(x):
    time.sleep(0.05)
    return x * x


def add(a, b):
    return a + b


def fails(x):
    raise ValueError(f"bad {x}")


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    with mp.Pool(2) as pool:
        pending = [pool.apply_async(square, (n,)) for n in range(3)]
        print("apply_async", [r.get() for r in pending])
        print("map", pool.map(square, range(4)))
        print("starmap", pool.starmap(add, [(1, 2), (3, 4)]))
        print("imap", list(pool.imap(square, [5, 6])))
        try:
            pool.apply(fails, (7,))
        except ValueError as exc:
            print("raised", exc)
        pool.close()
        pool.join()
    with ThreadPool(2) as threads:
        print("threads", threads.map(square, range(3)))
