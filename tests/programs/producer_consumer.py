"""Producer-consumer on a bounded queue.Queue, ended by a None."""

import queue
import threading

q = queue.Queue(maxsize=2)


def producer():
    for n in range(6):
        q.put(n)
        print(f"made {n}")
    q.put(None)


def consumer():
    while True:
        item = q.get()
        q.task_done()
        if item is None:
            break
        print(f"ate {item}")


threading.Thread(target=producer, name="producer").start()
c = threading.Thread(target=consumer, name="consumer")
c.start()
c.join()
q.join()
print("done")
