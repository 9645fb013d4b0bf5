"""A child that forks a grandchild with os.fork; both print and end."""

import os
import sys

pid = os.fork()
if pid == 0:
    grandchild = os.fork()
    if grandchild == 0:
        print("grandchild here", flush=True)
        os._exit(0)
    os.waitpid(grandchild, 0)
    print("child here", flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("parent here")
sys.exit(0)
