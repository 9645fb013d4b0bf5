"""Find the scenario files in a folder and load each, keeping the broken ones."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui_conc.scenario.loader import ScenarioError, load_scenario
from tui_conc.scenario.model import Scenario

_SHIPPED_IN_PACKAGE = Path(__file__).resolve().parent.parent / "scenarios"
_SHIPPED_IN_REPO = Path(__file__).resolve().parent.parent.parent / "scenarios"


def shipped_scenarios_dir() -> Path:
    """The shipped scenarios: inside the installed package, or the repo's folder."""
    return _SHIPPED_IN_PACKAGE if _SHIPPED_IN_PACKAGE.is_dir() else _SHIPPED_IN_REPO


@dataclass(frozen=True)
class Entry:
    """One scenario file: its model, or the error that kept it from loading."""

    path: Path
    scenario: Scenario | None
    error: ScenarioError | None

    @property
    def title(self) -> str:
        return self.scenario.title if self.scenario else self.path.name

    @property
    def chapter(self) -> str:
        return self.scenario.chapter if self.scenario else "Invalid files"

    @property
    def order(self) -> int:
        return self.scenario.order if self.scenario else 10_000

    @property
    def valid(self) -> bool:
        return self.scenario is not None


def resolve_scenario(name: str, folder: Path | None = None) -> Path:
    """A scenario's path: the file itself, or a name in ``folder`` (default: the shipped
    scenarios), such as ``deadlock_mutex``."""
    path = Path(name)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        return path
    root = folder if folder is not None else shipped_scenarios_dir()
    for suffix in (".yaml", ".yml"):
        candidates = sorted(root.rglob(f"{name}{suffix}"))
        if candidates:
            return candidates[0]
    return path  # not found: loading says so, with the name


def load_entry(path: Path) -> Entry:
    """Load one file into an :class:`Entry` (never raises for bad content)."""
    try:
        return Entry(path, load_scenario(path), None)
    except ScenarioError as exc:
        return Entry(path, None, exc)


def load_catalog(folder: Path) -> list[Entry]:
    """Every ``*.yaml`` / ``*.yml`` below ``folder``, in chapter and lesson order."""
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    entries = [load_entry(p) for p in files]
    return sorted(entries, key=lambda e: (e.order, e.title))


def chapters(entries: list[Entry]) -> list[tuple[str, list[Entry]]]:
    """Entries grouped by chapter, chapters in the order of their first lesson."""
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.chapter, []).append(entry)
    return list(groups.items())
