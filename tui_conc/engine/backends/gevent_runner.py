"""The runner for the gevent backend (``python -m tui_conc.engine.backends.gevent_runner``).

``gevent.monkey.patch_all()`` runs first, in this process only: threading,
queue, time.sleep, select and socket become cooperative, so the scenario's
actors are greenlets. The app never imports this module (a test checks).
A blocked hub is reported by :class:`tui_conc.engine.hub.HubMonitor`, which
reads gevent's own switch tracer; gevent's monitor thread stays off (it
formats a report of every greenlet before telling anyone, which with
thousands of greenlets costs seconds).
"""

import os

os.environ["GEVENT_MONITOR_THREAD_ENABLE"] = "0"
# Each greenlet would otherwise record the stack that spawned it (for gevent's reports).
os.environ["GEVENT_TRACK_GREENLET_TREE"] = "0"

from gevent import monkey

monkey.patch_all()

from tui_conc.engine import runner  # noqa: E402

if __name__ == "__main__":
    runner.main(backend="gevent")
