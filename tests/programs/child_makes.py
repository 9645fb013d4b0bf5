"""A child process makes its own Lock, Queue and threads, and a grandchild."""

import multiprocessing as mp
import sys
import threading


def grandchild(q):
    q.put("from the grandchild")


def child():
    lock = threading.Lock()
    results = mp.Queue()
    done = threading.Event()

    def work(n):
        with lock:
            print("thread", n, "has the lock")
        done.set()

    t = threading.Thread(target=work, args=(1,))
    t.start()
    t.join()
    done.wait()
    g = mp.Process(target=grandchild, args=(results,))
    g.start()
    print(results.get())
    g.join()


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    p = mp.Process(target=child, name="child")
    p.start()
    p.join()
    print("done")
