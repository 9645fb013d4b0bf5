"""A cap on a run's memory: the runner and its child processes, read from /proc.

A scenario can grow without bound (an unbounded queue fed in a loop, a value
doubled every step). The watch samples the resident memory of the runner and
of every process it started, every 0.1 s, from its own OS thread; past the cap
it reports the run as an error that says so, and ends it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from tui_conc.engine import native

#: The default cap, in MB (a lesson uses tens).
DEFAULT_MB = 1024
EVERY_S = 0.1
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_of(pid: int) -> int:
    """Resident bytes of process ``pid`` (0 when it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def children_of(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (a Linux /proc scan; [] elsewhere)."""
    out = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def run_rss(pid: int) -> int:
    """Resident bytes of a runner and the processes it started (and theirs)."""
    total, seen, todo = 0, set(), [pid]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += rss_of(p)
        todo.extend(children_of(p))
    return total


class MemoryWatch:
    """Call ``exceeded(message)`` once if the run's memory passes ``limit_mb``."""

    def __init__(self, limit_mb: float, exceeded: Callable[[str], None]) -> None:
        self.limit = int(limit_mb * (1 << 20))
        self.exceeded = exceeded
        self.pid = os.getpid()
        self.peak = 0

    def start(self) -> None:
        if os.path.exists(f"/proc/{self.pid}/statm"):
            native.start_thread(self._run)

    def _run(self) -> None:
        own_only = 0
        while True:
            native.sleep(EVERY_S)
            # the whole tree costs a /proc scan: every 10th round, or when the runner
            # alone is already past half the cap
            own = rss_of(self.pid)
            own_only = (own_only + 1) % 10
            used = own if own_only and own < self.limit // 2 else run_rss(self.pid)
            self.peak = max(self.peak, used)
            if used > self.limit:
                self.exceeded(
                    f"the run used {used / (1 << 20):,.0f} MB of memory, over its cap of "
                    f"{self.limit / (1 << 20):,.0f} MB (--memory): stopped"
                )
                return
