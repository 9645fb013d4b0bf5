"""multiprocessing (start method: the first argument): children print, a Queue, a Pipe,
a Manager and a Pool."""

import multiprocessing as mp
import sys


def child(q, n):
    print(f"child {n} here")
    q.put(n * n)


def talk(conn):
    conn.send("hello from the child")
    conn.close()


def record(shared, n):
    shared[n] = n + 100


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    q = mp.Queue()
    procs = [mp.Process(target=child, args=(q, n)) for n in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(sorted(q.get() for _ in range(2)))
    parent, other = mp.Pipe()
    p = mp.Process(target=talk, args=(other,))
    p.start()
    print(parent.recv())
    p.join()
    with mp.Manager() as manager:
        shared = manager.dict()
        workers = [mp.Process(target=record, args=(shared, n)) for n in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        print(sorted(shared.items()))
    with mp.Pool(2) as pool:
        print(pool.map(abs, [-1, -2, 3]))
