"""Mutation testing of the fold, the analyses, the expectations and the expression language.

    pip install mutmut && python benchmarks/mutation.py [--max-children 2]

mutmut (configured in pyproject.toml, [tool.mutmut]) changes ``tui_conc/state``
and ``tui_conc/scenario/expr.py`` one small edit at a time (a ``<`` for a
``<=``, an ``and`` for an ``or``, a constant…) and runs their unit tests
against each mutant. A mutant the tests fail on is *killed*; one they still
pass is a bug the suite would not catch. The score is killed over every
mutant the tests ran on. Slow (minutes), so not part of CI.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("mutmut") is None:
        sys.exit("mutmut is not installed: pip install mutmut")
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    started = time.monotonic()
    subprocess.run(
        ["mutmut", "run", "--max-children", str(args.max_children)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    out = subprocess.run(
        ["mutmut", "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    status = collections.Counter(
        line.rsplit(": ", 1)[-1] for line in out.splitlines() if ": " in line
    )
    by_module: collections.Counter[str] = collections.Counter()
    for line in out.splitlines():
        if line.endswith(": survived"):
            by_module[line.split(".x")[0].split("__mutmut")[0].strip()] += 1
    judged = status["killed"] + status["survived"] + status["timeout"]
    score = (status["killed"] + status["timeout"]) / judged if judged else 0.0
    print(
        f"{sum(status.values()):,} mutants in {time.monotonic() - started:.0f} s: "
        f"killed {status['killed']:,}, timed out {status['timeout']:,}, "
        f"survived {status['survived']:,}, not reached by the unit tests {status['no tests']:,}; "
        f"score {score:.0%} (killed or timed out, of those the tests ran on)"
    )
    for module, n in by_module.most_common():
        print(f"  survived in {module}: {n}")


if __name__ == "__main__":
    main()
