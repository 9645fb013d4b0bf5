"""Two processes take a Manager's two locks in opposite orders (start method: the
first argument)."""

import multiprocessing as mp
import sys
import time


def one(a, b):
    with a:
        time.sleep(2.0)  # long enough for the other to start, on a busy machine too
        with b:
            print("one got both")


def two(a, b):
    with b:
        time.sleep(2.0)  # long enough for the other to start, on a busy machine too
        with a:
            print("two got both")


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    with mp.Manager() as manager:
        mutexA = manager.Lock()
        mutexB = manager.Lock()
        procs = [mp.Process(target=f, args=(mutexA, mutexB), name=f.__name__) for f in (one, two)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
