"""A child process with two threads: one waits on a queue the other fills later."""

import multiprocessing as mp
import threading
import time


def child(q):
    def later():
        time.sleep(0.5)
        q.put("late item")

    threading.Thread(target=later).start()
    print("child got", q.get())


if __name__ == "__main__":
    mp.set_start_method("spawn")
    q = mp.Queue()
    p = mp.Process(target=child, args=(q,), name="child")
    p.start()
    p.join()
    print("parent done")
