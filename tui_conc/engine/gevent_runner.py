"""The runner for the gevent backend: ``python -m tui_conc.engine.gevent_runner FILE …``.

``gevent.monkey.patch_all()`` runs first, in this process only: threading,
queue, time.sleep, select and socket become cooperative, so the scenario's
actors are greenlets. The app never imports this module (a test checks).
gevent's own monitor thread reports a hub blocked for longer than
``GEVENT_MAX_BLOCKING_TIME`` (0.1 s here), as gevent itself would warn.
"""

import os

os.environ.setdefault("GEVENT_MONITOR_THREAD_ENABLE", "1")
os.environ.setdefault("GEVENT_MAX_BLOCKING_TIME", "0.1")

import warnings

from gevent import monkey

monkey.patch_all()
# gevent's monitor would also watch memory if psutil were installed; it is not needed here.
warnings.filterwarnings("ignore", message="Unable to monitor memory usage")

from tui_conc.engine import runner  # noqa: E402

if __name__ == "__main__":
    runner.main(backend="gevent")
