"""Sound verdicts on real runs: programs plain Python finishes must finish here, on every
backend they list; true deadlocks and stalls must be named, every time.

Each file under ``tests/soundness/`` says what it must end as by its name:
``finish_*``, ``deadlock_*`` or ``stall_*``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_conc.scenario import load_scenario
from tui_conc.session import LiveRun
from tui_conc.state.expectations import check

from .conftest import SCENARIOS, needs_dask

CASES = Path(__file__).resolve().parent / "soundness"


def _cases() -> list[object]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        for backend in load_scenario(path).supported:
            marks = [needs_dask] if backend == "dask" else []
            out.append(pytest.param(path, backend, id=f"{path.stem}-{backend}", marks=marks))
    return out


def run_on(path: Path, backend: str, timeout: float = 30.0):
    scenario = load_scenario(path)
    run = LiveRun(path, backend=backend).start()
    try:
        assert run.wait(timeout), f"{path.name} on {backend} did not end in {timeout} s"
    finally:
        run.stop()
    snapshot = run.snapshot(log_tail=0)
    return snapshot, check(scenario, snapshot, run.log_texts())


@pytest.mark.parametrize(("path", "backend"), _cases())
def test_each_pattern_ends_as_plain_python_would(path: Path, backend: str) -> None:
    snapshot, results = run_on(path, backend)
    expected = path.stem.split("_")[0]
    assert snapshot.status == {"finish": "finished"}.get(expected, expected), (
        f"{path.name} on {backend}: {snapshot.status} {snapshot.deadlock_text} {snapshot.error}"
    )
    failed = [f"{r.text} [{r.detail}]" for r in results if r.failed]
    assert not failed, failed
    assert snapshot.error is None


def test_the_mutex_deadlock_is_named_in_twenty_runs_of_twenty() -> None:
    """The lesson's promise, counted (processes: ``benchmarks/deadlock_rate.py``)."""
    named = 0
    for _ in range(20):
        snapshot, _ = run_on(SCENARIOS / "deadlock_mutex.yaml", "thread")
        edges = {(e.holds, e.waits_for) for e in snapshot.cycle}
        named += snapshot.status == "deadlock" and edges == {
            (("mutexB",), "mutexA"),
            (("mutexA",), "mutexB"),
        }
    assert named == 20, f"named in {named} of 20 runs"
