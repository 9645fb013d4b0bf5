"""The race fixed: the read and the write under one Lock."""

import threading
import time

num = 10
lock = threading.Lock()


def work():
    global num
    with lock:
        temp = num
        time.sleep(0.01)
        num = temp - 1


threads = [threading.Thread(target=work) for _ in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("num =", num)
