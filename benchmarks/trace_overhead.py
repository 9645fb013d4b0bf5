"""What tracing a program costs, measured side by side in one run.

    python benchmarks/trace_overhead.py [--n 1000000] [--increments 200000] [--rounds 7]

* per uncontended acquire + release of a ``threading.Lock``, as a method call
  and as ``with lock:``: bare, and traced (the lock ``tui-conc trace`` gives
  the program, reporting into a list as the runner's sink does), best of 5;
* a lock-heavy program (two threads × ``--increments`` ``with lock:``
  increments) timed by itself (it prints its own wall time): plain ``python``,
  under ``tui-conc trace``, and under VizTracer with its default options when
  ``viztracer`` is installed (``pip install viztracer``);
* from ``tui-conc trace`` to the first snapshot that shows the program's
  threads (the app's panels draw from it), against the program's own start-up
  (``python`` running a script that only imports threading).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROGRAM = """
import sys, threading, time
N = int(sys.argv[1])
lock = threading.Lock()
count = 0
def work():
    global count
    for _ in range(N):
        with lock:
            count += 1
t0 = time.perf_counter()
threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"elapsed {time.perf_counter() - t0:.4f} count {count}")
"""

STARTS = """
import threading, time
t = threading.Thread(target=time.sleep, args=(1.0,), name="sleeper")
t.start()
t.join()
"""


def per_op(n: int) -> None:
    from tui_conc.tracing import instrument, locks

    sink: list = []
    registry = instrument._Registry("")
    registry.actors = 1
    instrument.REGISTRY = registry
    instrument._emit = sink.append
    instrument._idents[threading.get_ident()] = 0
    fast = locks.TracedLock(0)
    python = locks.traced_lock_class(locks.PyLockBase)(0)
    compiled = locks.LockBase is not locks.PyLockBase
    bare = threading.Lock()

    def method(lock: object) -> float:
        acquire, release = lock.acquire, lock.release  # type: ignore[attr-defined]

        def loop() -> None:
            for _ in range(n):
                acquire()
                release()

        best = min(timeit.repeat(loop, number=1, repeat=5))
        sink.clear()
        return best / n * 1e9

    def with_(lock: object) -> float:
        def loop() -> None:
            for _ in range(n):
                with lock:  # type: ignore[attr-defined]
                    pass

        best = min(timeit.repeat(loop, number=1, repeat=5))
        sink.clear()
        return best / n * 1e9

    rows = []
    for label, measure in (("lock.acquire(); lock.release()", method), ("with lock:", with_)):
        b = measure(bare)
        c = measure(fast) if compiled else None
        p = measure(python)
        rows.append((label, b, c, p))
    built = "" if compiled else " (not built)"
    print(f"uncontended acquire + release, {n:,} each, best of 5 "
          f"(traced: the C fast path{built}, and in Python):")  # fmt: skip
    for label, b, c, p in rows:
        fast_text = "   not built" if c is None else f"{c:6.1f} ns {c / b:4.2f}×"
        print(f"  {label:32} bare {b:6.1f} ns   traced {fast_text}   "
              f"pure Python {p:6.1f} ns {p / b:4.2f}×")  # fmt: skip


def _elapsed(text: str) -> float:
    found = re.search(r"elapsed (\d+\.\d+) count (\d+)", text)
    assert found, text[-500:]
    return float(found.group(1))


def lock_heavy(increments: int, rounds: int) -> None:
    """Each way of running the program in turn, ``rounds`` times: medians (the VM drifts)."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "lock_heavy.py"
        script.write_text(PROGRAM)
        arg = str(increments)
        viz = _has("viztracer")
        plain, traced, pure, vizs, events = [], [], [], [], 0
        trace = [sys.executable, "-m", "tui_conc", "trace", "--json", str(script), arg]
        for _ in range(rounds):
            plain.append(_elapsed(_run([sys.executable, str(script), arg])))
            report = json.loads(_run(trace))
            traced.append(_elapsed(" ".join(o["text"] for o in report["output"])))
            events = report["events"]
            report = json.loads(_run(trace, {"TUI_CONC_PURE_PYTHON": "1"}))
            pure.append(_elapsed(" ".join(o["text"] for o in report["output"])))
            if viz:
                out = Path(folder) / "result.json"
                cmd = [sys.executable, "-m", "viztracer", "-o", str(out), str(script), arg]
                vizs.append(_elapsed(_run(cmd)))
    p, t = statistics.median(plain), statistics.median(traced)
    print(f"two threads × {increments:,} `with lock:` increments (the program's own clock, "
          f"median of {rounds} rounds, taken in turn):")  # fmt: skip
    print(f"  plain python            {p:7.3f} s")
    u = statistics.median(pure)
    print(f"  tui-conc trace          {t:7.3f} s   {t / p:5.2f}× plain   ({events:,} events)")
    print(f"    (its Lock in Python)  {u:7.3f} s   {u / p:5.2f}× plain")
    if not viz:
        print("  viztracer               not installed (pip install viztracer)")
    else:
        v = statistics.median(vizs)
        print(f"  viztracer (defaults)    {v:7.3f} s   {v / p:5.2f}× plain")
        wins = sum(tr < vz for tr, vz in zip(traced, vizs, strict=True))
        print(f"  tui-conc faster than viztracer in {wins} of {rounds} rounds")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    environ = None if env is None else {**os.environ, **env}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=environ)
    return done.stdout + done.stderr


def first_frame(repeat: int) -> None:
    from tui_conc.tracing.command import traced_run

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "starts.py"
        script.write_text(STARTS.replace("1.0", "0.0"))
        own = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, str(script)], check=True)
            own.append(time.perf_counter() - t0)
        script.write_text(STARTS)
        seen = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            run = traced_run([str(script)]).start()
            while True:
                snap = run.snapshot(log_tail=0, wait=False)
                if snap is not None and any(a.name == "sleeper" for a in snap.actors):
                    break
                time.sleep(0.002)
            seen.append(time.perf_counter() - t0)
            run.stop()
    own.sort()
    seen.sort()
    print(f"from tui-conc trace to a snapshot showing the program's thread (median of {repeat}):")
    print(f"  traced: {seen[len(seen) // 2] * 1e3:6.0f} ms; the program's own start-up "
          f"(python, import threading, start a thread): {own[len(own) // 2] * 1e3:6.0f} ms; "
          f"tracing adds {(seen[len(seen) // 2] - own[len(own) // 2]) * 1e3:.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--increments", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    first_frame(args.repeat)
    lock_heavy(args.increments, args.rounds)
    per_op(args.n)


if __name__ == "__main__":
    main()
