"""A daemon thread spinning for ever, and an exit status of 3."""

import sys
import threading
import time


def spin():
    while True:
        time.sleep(0.01)


threading.Thread(target=spin, daemon=True, name="spinner").start()
print("leaving with 3")
sys.exit(3)
