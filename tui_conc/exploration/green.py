"""``tui-conc explore`` on gevent: this process is monkey-patched before anything else.

``python -m tui_conc.exploration.green explore FILE --backend gevent …`` takes
the arguments of ``tui-conc``; the command starts it when asked to explore
on gevent (the app never imports this module).
"""

import os
import sys

os.environ["GEVENT_MONITOR_THREAD_ENABLE"] = "0"
os.environ["GEVENT_TRACK_GREENLET_TREE"] = "0"

from gevent import monkey

monkey.patch_all()

from tui_conc.cli import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
