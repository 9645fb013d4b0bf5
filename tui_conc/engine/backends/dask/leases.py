"""Leases the scheduler takes back, seen where the scheduler says so.

Dask's scheduler checks every lock and semaphore lease on a timer and drops
one its holder has not refreshed within the lease time, logging it at debug
level (``distributed.semaphore``: "Lease … for … timed out after …s"). The
holder is not told: it goes on as if it held the lock, and another worker
may take it meanwhile — the overbooking Dask's docs warn about. A local
cluster's scheduler runs in the runner, so a logging handler here sees each
expiry as it happens and reports it as a ``LEASE_EXPIRED`` event. (On an
existing cluster the scheduler's log is on its host: no expiry is reported.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev

#: The scheduler's message for an expired lease (distributed/semaphore.py).
_EXPIRED = "Lease %s for %s timed out after %ss."


class LeaseWatch(logging.Handler):
    """Reports the expiry of any lease on the run's semaphores (by scheduler name)."""

    def __init__(self, emit: Callable[[tuple[Any, ...]], None], names: dict[str, int]) -> None:
        super().__init__(logging.DEBUG)
        self.emit_event = emit
        self.names = names  #: the scheduler's name of each lock and semaphore → index
        self.logger = logging.getLogger("distributed.semaphore")
        self._level = self.logger.level

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg != _EXPIRED or len(record.args or ()) != 3:
            return
        lease, name, seconds = record.args  # type: ignore[misc]
        index = self.names.get(str(name))
        if index is not None:
            self.emit_event(
                (ev.LEASE_EXPIRED, -1, index, monotonic_ns(), str(lease), float(seconds))
            )

    def install(self) -> None:
        self.logger.addHandler(self)
        self.logger.addFilter(_only_expiries)
        if self.logger.getEffectiveLevel() > logging.DEBUG:
            self.logger.setLevel(logging.DEBUG)  # the expiry is logged at debug level

    def remove(self) -> None:
        self.logger.removeHandler(self)
        self.logger.removeFilter(_only_expiries)
        self.logger.setLevel(self._level)


def _only_expiries(record: logging.LogRecord) -> bool:
    """Of the debug records the lower level lets through, only the expiries."""
    return record.levelno > logging.DEBUG or record.msg == _EXPIRED
