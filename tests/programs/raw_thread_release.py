"""A lock released by a thread started with _thread: no verdict while it sleeps."""

import _thread
import threading
import time

L = threading.Lock()
L.acquire()


def f():
    time.sleep(0.3)
    L.release()


_thread.start_new_thread(f, ())
L.acquire()
print("main got it back")
