"""A thread that spins for ever: never a verdict; the timeout stops it."""

import threading


def spin():
    x = 0
    while True:
        x += 1


threading.Thread(target=spin, name="spinner").start()
