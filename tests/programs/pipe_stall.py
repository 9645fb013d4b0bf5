"""A child waits on a Pipe for a message its parent never sends; the parent joins it."""

import multiprocessing as mp
import sys


def listen(conn):
    print("got", conn.recv())


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    mine, theirs = mp.Pipe()
    child = mp.Process(target=listen, args=(theirs,), name="listener")
    child.start()
    child.join()
