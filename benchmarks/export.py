"""Export a recorded run of about a million events to Chrome trace-event JSON.

    python benchmarks/export.py [--events 1000000]

Records the event firehose (two threads, each taking a lock and using a queue
in a loop; about a million events), then times ``tui-conc export`` of it
(in-process: read the trace, fold it, write the JSON) and reports the size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_conc.export.chrome import export_chrome
from tui_conc.scenario import shipped_scenarios_dir
from tui_conc.session import LiveRun


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trace, out = Path(tmp) / "run.trace", Path(tmp) / "run.json"
        scenario = shipped_scenarios_dir() / "stress_events.yaml"
        run = LiveRun(scenario, {"iterations": args.events // 8}, record=trace).start()
        run.wait(300)
        run.stop()
        times = []
        for _ in range(3):
            started = time.perf_counter()
            line = export_chrome(trace, out)
            times.append(time.perf_counter() - started)
        print(line)
        best, worst = min(times), max(times)
        print(f"export of {run.folder.count:,} events: {best:.2f}-{worst:.2f} s over 3 runs")
        print(f"target <= 5 s: {'met' if worst <= 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
