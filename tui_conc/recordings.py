"""Where the app keeps its runs' recordings: a cache folder with a cap.

Every run the app starts is recorded there (a trace file), so a finished,
stopped or deadlocked run can be scrubbed, saved or replayed. The folder is
the platform's user cache (``~/.cache/tui-conc/runs`` on Linux), or
``$TUI_CONC_CACHE``. It keeps the newest :data:`KEEP_RUNS` recordings within
:data:`CACHE_MB` altogether; one recording stops at :data:`RUN_MB`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Iterable
from pathlib import Path

CACHE_ENV = "TUI_CONC_CACHE"
#: The newest recordings kept (the current run's and the last few).
KEEP_RUNS = 8
#: All recordings together, at most (MB).
CACHE_MB = 1024
#: One recording stops here (MB): its run goes on, its history ends there.
RUN_MB = 256
_counter = itertools.count()


def cache_dir() -> Path:
    """The folder for recordings (not created here)."""
    folder = os.environ.get(CACHE_ENV)
    if folder:
        return Path(folder)
    from platformdirs import user_cache_path

    return user_cache_path("tui-conc") / "runs"


def new_recording(stem: str, keep: Iterable[Path] = ()) -> Path:
    """A path for a new run's recording of scenario ``stem``; older recordings beyond
    the caps go first (never those in ``keep``). Raises OSError if the folder
    cannot be made."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    prune(folder, keep, room_mb=RUN_MB)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return folder / f"{stamp}-{os.getpid()}-{next(_counter)}-{stem}.trace"


def prune(folder: Path, keep: Iterable[Path] = (), room_mb: float = 0) -> list[Path]:
    """Delete the oldest recordings in ``folder`` until at most KEEP_RUNS - 1 are left
    and ``room_mb`` more fit under CACHE_MB; returns what it deleted."""
    kept = {p.resolve() for p in keep}
    traces = []
    for path in folder.glob("*.trace"):
        with contextlib.suppress(OSError):
            traces.append((path.stat().st_mtime, path.stat().st_size, path))
    traces.sort(reverse=True)  # newest first
    budget = (CACHE_MB - room_mb) * 1024 * 1024
    used, count, gone = 0, 0, []
    for _, size, path in traces:
        count += 1
        used += size
        if path.resolve() in kept:
            continue
        if count >= KEEP_RUNS or used > budget:
            with contextlib.suppress(OSError):
                path.unlink()
                gone.append(path)
    return gone
