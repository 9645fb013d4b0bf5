"""A greenlet waits for an Event nobody sets (gevent, patched)."""

from gevent import monkey

monkey.patch_all()

import threading  # noqa: E402

import gevent  # noqa: E402

ready = threading.Event()


def waiter():
    ready.wait()
    print("never printed")


gevent.joinall([gevent.spawn(waiter)])
