"""Producer-consumer across processes on a multiprocessing.Queue of 2, ended by a None."""

import multiprocessing as mp
import sys


def producer(q):
    for n in range(5):
        q.put(n)
    q.put(None)


def consumer(q, done):
    while (item := q.get()) is not None:
        print(f"ate {item}")
    done.set()


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    q = mp.Queue(maxsize=2)
    done = mp.Event()
    procs = [
        mp.Process(target=producer, args=(q,), name="producer"),
        mp.Process(target=consumer, args=(q, done), name="consumer"),
    ]
    for p in procs:
        p.start()
    done.wait()
    for p in procs:
        p.join()
    print("all eaten")
