"""Saving a run from the app: its recording and its report, side by side."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from tui_conc.scenario import Entry
from tui_conc.state.expectations import ExpectationResult, check
from tui_conc.state.model import FINAL_STATUSES
from tui_conc.state.report import build_report, render_text

#: Saved runs go here (default: the current folder).
SAVE_ENV = "TUI_CONC_SAVE"


def save_run(source: Any, entry: Entry, results: list[ExpectationResult] | None) -> list[Path]:
    """Write ``<scenario>-<time>.trace`` (the recording so far, for ``tui-conc replay``),
    ``.txt`` and ``.json`` (the report, as ``tui-conc run`` prints it); returns the paths.
    Raises OSError if they cannot be written."""
    folder = Path(os.environ.get(SAVE_ENV) or os.getcwd())
    base = folder / f"{entry.path.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    history = getattr(source, "history", None)
    saved = []
    if history is not None:
        trace = base.with_suffix(".trace")
        shutil.copyfile(history.path, trace)
        saved.append(trace)
    snapshot = source.snapshot(log_tail=0)
    if results is None and entry.scenario is not None and snapshot.status in FINAL_STATUSES:
        results = check(entry.scenario, snapshot, source.log_texts())
    report = build_report(
        str(entry.path),
        snapshot,
        results or [],
        getattr(source, "warnings", []),
        getattr(source, "suspicions", []),
    )
    text, data = base.with_suffix(".txt"), base.with_suffix(".json")
    text.write_text(render_text(report) + "\n", encoding="utf-8")
    data.write_text(json.dumps(report, default=str, indent=1) + "\n", encoding="utf-8")
    return [*saved, text, data]
