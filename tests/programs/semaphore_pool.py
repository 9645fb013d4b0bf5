"""A pool of 3: a Semaphore lets at most three threads in at once."""

import threading
import time

sem = threading.Semaphore(3)


def task(n):
    with sem:
        print(f"task {n} in")
        time.sleep(0.05)


for n in range(8):
    threading.Thread(target=task, args=(n,), name=f"task-{n}").start()
