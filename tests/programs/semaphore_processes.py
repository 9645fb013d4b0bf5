"""A Semaphore(2) shared by four processes: at most two inside at once."""

import multiprocessing as mp
import time


def task(sem, n):
    with sem:
        time.sleep(0.1)
        print(f"task {n} done")


if __name__ == "__main__":
    sem = mp.Semaphore(2)
    procs = [mp.Process(target=task, args=(sem, n), name=f"task-{n}") for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
