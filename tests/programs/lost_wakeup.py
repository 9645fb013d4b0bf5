"""A lost wake-up: the notify comes before the wait, so the waiter waits for ever."""

import threading
import time

cond = threading.Condition()


def waiter():
    time.sleep(0.2)
    with cond:
        cond.wait()
    print("never printed")


def notifier():
    with cond:
        cond.notify()
    print("notified (nobody was waiting)")


threading.Thread(target=waiter, name="waiter").start()
threading.Thread(target=notifier, name="notifier").start()
