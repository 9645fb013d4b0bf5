"""Wait until "Redis" is ready: an Event set by a checker thread."""

import threading
import time

ready = threading.Event()


def connect(n):
    print(f"client {n} waits for redis")
    ready.wait()
    print(f"client {n} connected")


def check():
    time.sleep(0.2)
    print("redis is ready")
    ready.set()


clients = [threading.Thread(target=connect, args=(n,), name=f"client-{n}") for n in range(3)]
for c in clients:
    c.start()
threading.Thread(target=check, name="checker").start()
