"""Resources named as a person would: by the variable, else by type and line."""

import queue
import threading

mutexA, mutexB = threading.Lock(), threading.Lock()
pool = threading.BoundedSemaphore(2)
forks = [threading.Lock() for _ in range(2)]


class Account:
    def __init__(self):
        self.lock = threading.RLock()


account = Account()
jobs = queue.LifoQueue()
print([str(x) for x in (mutexA.locked(), threading.Event().is_set(), jobs.qsize())])
with account.lock, mutexA, pool:
    jobs.put(1)
print("ok")
