"""The lost update: 20 threads decrement num with a sleep between read and write."""

import threading
import time

num = 20


def work():
    global num
    temp = num
    time.sleep(0.05)
    num = temp - 1


threads = [threading.Thread(target=work) for _ in range(20)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("num =", num)
