"""Two greenlets take two locks in opposite orders (gevent, patched)."""

from gevent import monkey

monkey.patch_all()

import threading  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

mutexA = threading.Lock()
mutexB = threading.Lock()


def one():
    with mutexA:
        time.sleep(0.1)
        with mutexB:
            print("one got both")


def two():
    with mutexB:
        time.sleep(0.1)
        with mutexA:
            print("two got both")


gevent.joinall([gevent.spawn(one), gevent.spawn(two)])
print("never printed")
