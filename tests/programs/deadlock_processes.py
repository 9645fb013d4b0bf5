"""mutexA / mutexB across two processes (start method: the first argument)."""

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
    mutexA, mutexB = mp.Lock(), mp.Lock()
    procs = [
        mp.Process(target=one, args=(mutexA, mutexB), name="proc-one"),
        mp.Process(target=two, args=(mutexA, mutexB), name="proc-two"),
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
