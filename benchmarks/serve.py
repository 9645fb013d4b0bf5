"""``tui-conc serve`` in a real headless Chromium: time to the first frame, and key latency.

    python benchmarks/serve.py [--repeat 5] [--keys 40]

* from starting ``tui-conc serve`` to the browser showing the app's first
  frame (the scenario list), the browser's own start included (it is started
  with the server, as a user would open a tab), median of ``--repeat``;
* from a key press in the page (``keydown`` in xterm.js's textarea) to the
  terminal's next parsed write (the changed frame), ``--keys`` presses of ↓ / ↑
  in the scenario list, median and 90th percentile; an idle spell is watched
  first, so that a write nobody asked for would show (and be reported).

Needs Chromium (``apt install chromium``) and playwright (the test extras).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import (
    Served,
    browser,
    missing_browser,
    open_app,
    press,
    wait_for_text,
)

KEY_MARK = """
() => {
  const area = document.querySelector(".xterm-helper-textarea");
  if (!window.__tuiKeyHooked) {
    area.addEventListener("keydown", () => { window.__tuiKeyAt = performance.now(); }, true);
    window.__tuiKeyHooked = true;
  }
  return window.__tuiWrites;
}
"""


def first_frame(repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        served = Served()
        try:
            with browser() as chrome:
                page = open_app(chrome, served.url)
                wait_for_text(page, "pick a scenario")
                times.append(time.perf_counter() - t0)
        finally:
            served.stop()
    return times


def key_latency(keys: int) -> tuple[list[float], int]:
    served = Served()
    try:
        with browser() as chrome:
            page = open_app(chrome, served.url)
            wait_for_text(page, "pick a scenario")
            press(page, "ArrowDown")
            time.sleep(1.0)
            page.evaluate(KEY_MARK)
            before = page.evaluate("window.__tuiWrites")
            time.sleep(2.0)
            idle_writes = page.evaluate("window.__tuiWrites") - before
            out = []
            for k in range(keys):
                writes = page.evaluate(KEY_MARK)
                press(page, "ArrowDown" if k % 2 == 0 else "ArrowUp")
                page.wait_for_function(f"window.__tuiWrites > {writes}", timeout=10_000)
                out.append(page.evaluate("window.__tuiLastWrite - window.__tuiKeyAt"))
                time.sleep(0.1)
            return out, idle_writes
    finally:
        served.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    why = missing_browser()
    if why:
        sys.exit(f"benchmarks/serve.py: {why}")
    starts = sorted(first_frame(args.repeat))
    print(f"serve start → first frame in Chromium (browser start included), {args.repeat} runs:")
    print(f"  median {statistics.median(starts):.2f} s   min {starts[0]:.2f} s   "
          f"max {starts[-1]:.2f} s")  # fmt: skip
    lat, idle = key_latency(args.keys)
    lat.sort()
    p90 = lat[int(len(lat) * 0.9) - 1]
    print(f"key press → changed frame, {len(lat)} presses of ↓/↑ in the scenario list:")
    print(f"  median {statistics.median(lat):.0f} ms   p90 {p90:.0f} ms   max {lat[-1]:.0f} ms"
          f"   (writes in 2 s idle before: {idle})")  # fmt: skip


if __name__ == "__main__":
    main()
