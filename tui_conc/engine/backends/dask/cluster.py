"""The run's Dask cluster: a ``LocalCluster`` started for the run, or an existing one.

A local cluster is configured for teaching: a worker lost mid-run fails its
actor at once (``allowed-failures: 0``) instead of re-running it elsewhere,
and leases are checked every 100 ms so a lesson's short lease times show.
An existing cluster (``--scheduler``) keeps its own settings.
"""

from __future__ import annotations

import logging
import multiprocessing
import socket
import time
from dataclasses import dataclass
from typing import Any

#: The scheduler's settings for a local cluster (see the module's docstring).
LOCAL_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.scheduler.locks.lease-validation-interval": "100ms",
    "distributed.admin.tick.limit": "1h",  # a lesson that blocks a worker on purpose
    "distributed.worker.daemon": False,
}
#: Workers of a local cluster, unless the run asks for another number.
DEFAULT_WORKERS = 2
MAX_WORKERS = 16


class DaskMissing(RuntimeError):
    """``distributed`` is not installed."""


def require() -> None:
    """Raise :class:`DaskMissing` with how to install it, when it is not importable."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise DaskMissing(
            "the dask backend needs Dask's distributed package: pip install 'tui-conc[dask]'"
        ) from None


@dataclass
class Cluster:
    """A client on the run's cluster; ``local`` is the ``LocalCluster`` we started."""

    client: Any
    local: Any = None
    start_s: float = 0.0  #: seconds it took to start (or to connect)

    @classmethod
    def open(cls, scheduler: str | None, workers: int = DEFAULT_WORKERS) -> Cluster:
        """Start a local cluster of ``workers`` processes, or connect to ``scheduler``."""
        require()
        import dask
        from distributed import Client, LocalCluster

        began = time.perf_counter()
        if scheduler:
            client = Client(scheduler, timeout="10s", set_as_default=True)
            return cls(client, None, time.perf_counter() - began)
        dask.config.set(LOCAL_CONFIG)
        local = LocalCluster(
            n_workers=max(1, min(workers, MAX_WORKERS)),
            threads_per_worker=1,  # an actor secedes: it never holds a worker's thread
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # no dashboard; its bare HTTP server on a free port (8787 may be taken)
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        )
        client = Client(local, set_as_default=True)
        return cls(client, local, time.perf_counter() - began)

    def workers(self) -> list[str]:
        """The workers' addresses, sorted."""
        return sorted(self.client.scheduler_info()["workers"])

    def describe(self) -> str:
        """One line for the run's log."""
        n = len(self.workers())
        if self.local is not None:
            return f"Dask: a LocalCluster of {n} worker processes, up in {self.start_s:.1f} s"
        address = self.client.scheduler.address
        return f"Dask: the cluster at {address}, {n} workers (connected in {self.start_s:.1f} s)"

    def reach_back(self) -> str:
        """The host workers can reach this process at: the interface it uses to talk to
        the scheduler (loopback for a local cluster)."""
        if self.local is not None:
            return "127.0.0.1"
        host = self.client.scheduler.address.split("://")[-1].rsplit(":", 1)[0]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((host, 9))  # no packet is sent: it only picks the route
            return str(probe.getsockname()[0])

    def close(self) -> None:
        """Close the client, and the local cluster with its worker processes."""
        try:
            self.client.close(timeout=5)
        finally:
            if self.local is not None:
                self.local.close(timeout=5)
                for child in multiprocessing.active_children():  # reaped here, not by init
                    child.join(timeout=2)
