"""A Condition: the consumer waits in a while loop until an item is there."""

import threading
import time

cond = threading.Condition()
items = []


def consumer():
    with cond:
        while not items:
            cond.wait()
        print("got", items.pop())


def producer():
    time.sleep(0.1)
    with cond:
        items.append(42)
        cond.notify()


threading.Thread(target=consumer, name="consumer").start()
threading.Thread(target=producer, name="producer").start()
