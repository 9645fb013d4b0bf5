"""The runner for the eventlet backend (``python -m tui_conc.engine.backends.eventlet_runner``).

``eventlet.monkey_patch()`` runs first, in this process only, exactly as the
gevent runner does with gevent. eventlet is in bug-fix-only maintenance (its
authors recommend against new projects); the course names it, so its
spawn/sleep lesson runs here too. There is no hub view for eventlet.
"""

import warnings

warnings.filterwarnings("ignore", message=".*Eventlet is deprecated.*")

import eventlet  # noqa: E402

eventlet.monkey_patch()

from tui_conc.engine import runner  # noqa: E402

if __name__ == "__main__":
    runner.main(backend="eventlet")
