"""The scenario YAML format: typed models, loading, validation with line numbers.

The names below load their module on first use (PEP 562), so a child process
that only needs the models does not pay for YAML parsing and the catalog.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_conc.scenario.catalog import (
        Entry,
        chapters,
        load_catalog,
        load_entry,
        shipped_scenarios_dir,
    )
    from tui_conc.scenario.loader import (
        ScenarioError,
        load_scenario,
        parse_assignments,
        parse_scenario,
        resolve_knobs,
    )
    from tui_conc.scenario.model import Scenario

_HOME = {
    "Entry": "catalog",
    "chapters": "catalog",
    "load_catalog": "catalog",
    "load_entry": "catalog",
    "shipped_scenarios_dir": "catalog",
    "ScenarioError": "loader",
    "load_scenario": "loader",
    "parse_assignments": "loader",
    "parse_scenario": "loader",
    "resolve_knobs": "loader",
    "Scenario": "model",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'tui_conc.scenario' has no attribute {name!r}")
    return getattr(importlib.import_module(f"tui_conc.scenario.{_HOME[name]}"), name)


__all__ = [
    "Entry",
    "Scenario",
    "ScenarioError",
    "chapters",
    "load_catalog",
    "load_entry",
    "load_scenario",
    "parse_assignments",
    "parse_scenario",
    "resolve_knobs",
    "shipped_scenarios_dir",
]
