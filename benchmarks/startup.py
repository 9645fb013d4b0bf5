"""Time from ``tui-conc`` to its first full frame, beside a bare Textual app.

    python benchmarks/startup.py [--runs 10]

"First full frame" = the footer's keys *and* the first lesson's explanation
are on the terminal. Both programs run in a pseudo-terminal of 80×24.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pty import time_to_text

BARE = """
from textual.app import App
from textual.widgets import Footer, Static
class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]
    def compose(self):
        yield Static("hello from a bare app")
        yield Footer()
Bare().run()
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()
    exe = shutil.which("tui-conc")
    app_cmd = [exe] if exe else [sys.executable, "-m", "tui_conc"]
    bare_cmd = [sys.executable, "-c", BARE]
    # the footer, the welcome text and the last chapter of the list: a full first frame
    app_needles = [b"Quit", b"live panels", b"Benchmarks"]
    bare_needles = [b"Quit", b"hello from a bare app"]
    time_to_text(app_cmd, app_needles)  # warm the file cache once
    time_to_text(bare_cmd, bare_needles)
    app_times, bare_times = [], []
    for _ in range(args.runs):
        app_times.append(time_to_text(app_cmd, app_needles))
        bare_times.append(time_to_text(bare_cmd, bare_needles))
    med_app = statistics.median(app_times)
    print(f"runs: {args.runs} of each, interleaved, in an 80x24 pseudo-terminal")
    print(f"bare Textual app, first frame:  {_summary(bare_times)}")
    print(f"tui-conc, first full frame:     {_summary(app_times)}")
    print(f"target: median <= 0.400 s: {'met' if med_app <= 0.4 else 'NOT met'}")


def _summary(times: list[float]) -> str:
    q1, med, q3 = statistics.quantiles(times, n=4)
    return f"median {med:.3f} s  (quartiles {q1:.3f}-{q3:.3f}, min {min(times):.3f})"


if __name__ == "__main__":
    main()
