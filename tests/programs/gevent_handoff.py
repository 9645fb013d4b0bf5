"""Greenlets hand work to each other through threading's Semaphore, Event, Condition
and Queue after gevent's patch_all: every wait ends, as untraced (no false stall)."""

from gevent import monkey

monkey.patch_all()

import queue  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

items = threading.Semaphore(0)
ready = threading.Event()
jobs = queue.Queue()
lock = threading.Lock()
done = []


def consumer():
    ready.wait()
    items.acquire()
    with lock:
        done.append(jobs.get())
    print("consumer took", done[-1])


def producer():
    time.sleep(0.2)
    jobs.put("job-1")
    ready.set()
    time.sleep(0.2)
    items.release()
    print("producer released")


later = gevent.spawn_later(0.1, print, "a greenlet started late")
gevent.joinall([gevent.spawn(consumer), gevent.spawn(producer), later])
print("done", done)
