"""Shared fixtures; snapshots must not turn monochrome because of NO_COLOR."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.pop("NO_COLOR", None)

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TRACES = Path(__file__).resolve().parent / "traces"


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write YAML text to a file and return its path."""

    def write(text: str, name: str = "s.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
