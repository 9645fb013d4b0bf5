"""A Manager's objects between processes: a lock, a queue, an event, a dict, a list
and a value, used from the parent and from children."""

import multiprocessing as mp
import sys


def worker(n, lock, jobs, results, log, ready, total):
    ready.wait()
    job = jobs.get()
    with lock:
        total.value = total.value + job
        log.append(f"worker {n} did {job}")
    results[n] = job * 10


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    with mp.Manager() as manager:
        lock = manager.Lock()
        jobs = manager.Queue()
        results = manager.dict()
        log = manager.list()
        ready = manager.Event()
        total = manager.Value("i", 0)
        procs = [
            mp.Process(target=worker, args=(n, lock, jobs, results, log, ready, total))
            for n in range(3)
        ]
        for p in procs:
            p.start()
        for job in (1, 2, 3):
            jobs.put(job)
        ready.set()
        for p in procs:
            p.join()
        print(sorted(results.items()), sorted(log), total.value)
