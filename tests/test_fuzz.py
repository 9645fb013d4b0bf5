"""No input breaks the loader: thousands of mutated scenarios, each a valid scenario or
one clean error line naming a line of the file (``benchmarks/fuzz.py`` runs more)."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

from tui_conc.scenario import load_catalog
from tui_conc.scenario.loader import ScenarioError, parse_scenario

from .fuzzing import cases

CASES = 2_500
SEED = 20261201


def _lines(text: str) -> int:
    return max(text.count("\n") + (not text.endswith("\n")), 1)


def test_every_mutated_file_loads_or_gives_one_clean_line() -> None:
    started = time.perf_counter()
    errors = 0
    for name, text in cases(CASES, SEED):
        case_started = time.perf_counter()
        try:
            parse_scenario(text, "f.yaml")
        except ScenarioError as exc:
            errors += 1
            assert "\n" not in str(exc), (name, str(exc))
            assert 1 <= exc.line <= _lines(text), (name, exc.line, str(exc))
            assert str(exc).startswith(f"f.yaml:{exc.line}: "), (name, str(exc))
        assert time.perf_counter() - case_started < 2.0, f"{name} took too long"
    assert errors > CASES // 2  # the mutations do break most files
    assert time.perf_counter() - started < 60
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak_mb < 1024, f"peak memory {peak_mb:.0f} MB"


def test_the_command_line_says_one_line_and_exits_2(tmp_path: Path) -> None:
    files = []
    for name, text in cases(400, SEED + 1):
        try:
            parse_scenario(text, "f.yaml")
        except ScenarioError:
            path = tmp_path / f"{name.replace('#', '_')}.yaml"
            path.write_text(text, encoding="utf-8")
            files.append(path)
        if len(files) == 25:
            break
    good = tmp_path / "good.yaml"
    good.write_text("title: fine\nchapter: c\nactors:\n  a:\n    steps: [{log: hi}]\n")
    for path in files:
        out = subprocess.run(
            [sys.executable, "-m", "tui_conc", "check", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 2, (path.name, out.stderr)
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    # a folder of broken files: every one listed, the good one still loads
    listed = subprocess.run(
        [sys.executable, "-m", "tui_conc", "list", "--scenarios", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 2 and "Traceback" not in listed.stderr
    assert len(listed.stdout.strip().splitlines()) == len(files) + 1
    entries = load_catalog(tmp_path)
    assert [e.title for e in entries if e.valid] == ["fine"]
