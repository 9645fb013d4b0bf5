"""Run a command in a pseudo-terminal and time how long until text shows on it."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time


def time_to_text(cmd: list[str], needles: list[bytes], size=(80, 24), timeout=20.0) -> float:
    """Seconds from spawning ``cmd`` until every needle has appeared in its output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(size[0]), "LINES": str(size[1])}
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    seen = b""
    try:
        while True:
            left = timeout - (time.perf_counter() - started)
            if left <= 0:
                raise TimeoutError(f"{cmd} never showed {needles}")
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                raise RuntimeError(f"{cmd} ended before showing {needles}") from None
            seen += chunk
            if all(n in seen for n in needles):
                return time.perf_counter() - started
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)
