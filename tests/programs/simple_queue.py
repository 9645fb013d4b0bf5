"""A SimpleQueue between two threads; a get with a timeout that expires."""

import queue
import threading

jobs = queue.SimpleQueue()


def worker():
    while (job := jobs.get()) is not None:
        print("did", job)
    try:
        jobs.get(timeout=0.05)
    except queue.Empty:
        print("nothing more")


t = threading.Thread(target=worker, name="worker")
t.start()
for n in range(3):
    jobs.put(n)
jobs.put(None)
t.join()
