"""A JoinableQueue of jobs for two worker processes, joined by the parent; then a
Pipe between the parent and a child, each way (start method: the first argument)."""

import multiprocessing as mp
import sys


def worker(jobs, results):
    while True:
        n = jobs.get()
        if n is None:
            jobs.task_done()
            return
        results.put(n * 10)
        jobs.task_done()


def echo(conn):
    while (msg := conn.recv()) != "bye":
        conn.send(msg.upper())
    conn.close()


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    jobs = mp.JoinableQueue()
    results = mp.Queue()
    workers = [mp.Process(target=worker, args=(jobs, results), name=f"w{k}") for k in range(2)]
    for w in workers:
        w.start()
    for n in range(6):
        jobs.put(n)
    for _ in workers:
        jobs.put(None)
    jobs.join()
    print(sorted(results.get() for _ in range(6)))
    for w in workers:
        w.join()
    here, there = mp.Pipe()
    child = mp.Process(target=echo, args=(there,), name="echo")
    child.start()
    for word in ("ping", "pong"):
        here.send(word)
        print(here.recv())
    here.send("bye")
    child.join()
    print("done")
