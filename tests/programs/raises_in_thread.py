"""A thread that raises: Python prints its traceback and the program goes on."""

import threading


def boom():
    raise ValueError("boom")


t = threading.Thread(target=boom, name="bomber")
t.start()
t.join()
print("after the thread")
