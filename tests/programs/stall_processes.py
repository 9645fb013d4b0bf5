"""A child waits for an item that never comes; the parent waits for the child: a stall."""

import multiprocessing as mp


def child(q):
    print("waiting for an item")
    q.get()


if __name__ == "__main__":
    mp.set_start_method("spawn")
    q = mp.Queue()
    p = mp.Process(target=child, args=(q,), name="waiter")
    p.start()
    p.join()
