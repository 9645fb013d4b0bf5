"""An RLock taken twice by the same thread: no deadlock."""

import threading

mutex = threading.RLock()


def work(n):
    with mutex, mutex:
        print(f"worker {n} holds the rlock twice")


threads = [threading.Thread(target=work, args=(n,), name=f"worker-{n}") for n in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
