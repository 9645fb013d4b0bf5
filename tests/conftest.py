"""Shared fixtures; snapshots must not turn monochrome because of NO_COLOR."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from importlib.util import find_spec
from pathlib import Path

import pytest

os.environ.pop("NO_COLOR", None)

#: Runs the app starts in tests are recorded here, not in the user's cache (and the
#: folder goes when the tests do).
if "TUI_CONC_CACHE" not in os.environ:
    os.environ["TUI_CONC_CACHE"] = _cache = tempfile.mkdtemp(prefix="tui-conc-cache-")
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TRACES = Path(__file__).resolve().parent / "traces"

#: The dask backend's tests need its optional extra (.ci/run installs it).
needs_dask = pytest.mark.skipif(
    find_spec("distributed") is None,
    reason="the dask backend needs Dask's distributed package: pip install -e '.[dask]'",
)


def scenario_params(paths: list[Path]) -> list[object]:
    """Scenario files as test parameters, a dask lesson marked ``needs_dask``."""
    from tui_conc.scenario import load_scenario

    return [
        pytest.param(p, id=p.stem, marks=[needs_dask] if load_scenario(p).backend == "dask" else [])
        for p in paths
    ]


def gone(pid: int) -> bool:
    """True once no process has this pid (a reaped child, not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="session")
def process_trace(tmp_path_factory) -> Path:
    """A run of processes, merged from several sources, recorded."""
    from tui_conc.session import LiveRun

    path = tmp_path_factory.mktemp("traces") / "pool.trace"
    run = LiveRun(SCENARIOS / "pool_five.yaml", {"tasks": 8}, record=path, backend="process")
    run.start()
    assert run.wait(60)
    run.stop()
    return path
