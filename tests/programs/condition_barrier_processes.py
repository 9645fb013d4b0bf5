"""Processes meet at a multiprocessing Barrier, then one waits on a Condition until
the parent has set the shared flag (start method: the first argument)."""

import multiprocessing as mp
import sys
import time


def racer(barrier, n):
    barrier.wait()
    print(f"racer {n} through")


def waiter(cond, flag):
    with cond:
        while not flag.value:
            cond.wait()
        # held long enough to be shown whoever came first: a short hold nobody waited
        # for is only counted (a busy machine started this child after the flag was set)
        time.sleep(0.3)
    print("waiter saw the flag")


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    barrier = mp.Barrier(3)
    racers = [mp.Process(target=racer, args=(barrier, n), name=f"racer-{n}") for n in range(2)]
    for r in racers:
        r.start()
    barrier.wait()
    for r in racers:
        r.join()
    cond = mp.Condition()
    flag = mp.Value("i", 0)
    w = mp.Process(target=waiter, args=(cond, flag), name="waiter")
    w.start()
    with cond:
        flag.value = 1
        cond.notify_all()
    w.join()
    print("all done")
