"""A Pool whose workers take a while to exit after close (start method: the first
argument): the parent joining them is not stuck, only waiting."""

import multiprocessing as mp
import sys
import time
from multiprocessing.util import Finalize


def linger(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # busy: nothing the tracer sees as a wait
        pass


def init():
    Finalize(None, linger, args=(1.5,), exitpriority=0)  # runs as the worker exits


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "fork")
    pool = mp.Pool(2, initializer=init)
    print(pool.map(abs, [-1, -2, -3]))
    pool.close()
    pool.join()
    print("done")
