"""The scenario YAML format: typed models, loading, validation with line numbers."""

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
