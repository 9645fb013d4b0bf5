"""A gevent program: it monkey-patches itself, then three greenlets share a lock."""

from gevent import monkey

monkey.patch_all()

import threading  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

lock = threading.Lock()


def work(n):
    with lock:
        time.sleep(0.05)
        print("worker", n)


gevent.joinall([gevent.spawn(work, n) for n in range(3)])
print("done")
