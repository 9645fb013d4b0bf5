"""os._exit in a thread ends everything at once."""

import os
import threading
import time


def leave():
    print("leaving now", flush=True)
    os._exit(5)


threading.Thread(target=leave, name="leaver").start()
time.sleep(5)
print("never")
