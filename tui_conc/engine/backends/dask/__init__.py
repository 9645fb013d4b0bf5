"""The dask backend: a scenario's actors as long-running tasks on a Dask cluster's
workers, sharing Dask's own distributed primitives.

:mod:`.cluster` starts a ``LocalCluster`` (or joins an existing scheduler),
:mod:`.objects` puts the scenario's resources on Dask's ``Lock``,
``Semaphore``, ``Event``, ``Queue`` and ``Variable``, :mod:`.run` submits the
actors and watches their futures, and :mod:`.leases` reports a lease the
scheduler took back. Each actor's events reach the runner's relay over TCP on
the runner's clock (:mod:`tui_conc.engine.wire.clock`).

``distributed`` is an optional dependency (``pip install 'tui-conc[dask]'``):
nothing here is imported unless a run asks for the dask backend.
"""

#: Where a runner finds an existing cluster's scheduler (the command line's --scheduler).
SCHEDULER_ENV = "TUI_CONC_DASK_SCHEDULER"
#: How many workers a runner's LocalCluster starts (the command line's --workers).
WORKERS_ENV = "TUI_CONC_DASK_WORKERS"
#: The host the runner's relay listens at for the workers (the command line's --listen).
LISTEN_ENV = "TUI_CONC_DASK_LISTEN"
