"""What compiled steps need of a run, whatever backend runs it.

The compiler depends on this protocol, not on a backend: the backends import
the compiler, never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tui_conc.engine.primitives.base import Emit
from tui_conc.scenario import model as m


@dataclass(eq=False)
class ActorRuntime:
    """One actor of the run: its thread (or process, or greenlet) and where it stands."""

    index: int
    name: str
    group: str
    index_in_group: int
    daemon: bool
    thread: Any = None  #: the started thread, greenlet wrapper or process handle
    finished: bool = False
    runner: Any = None  #: the greenlet or thread object running it (for the hub monitor)


class Pausable(Protocol):
    """Pause and back-pressure: actors test ``hold`` at every step boundary."""

    hold: bool

    def wait(self) -> None: ...


class RunContext(Protocol):
    """A run as its compiled steps see it."""

    scenario: m.Scenario
    knobs: dict[str, Any]
    emit: Emit
    control: Pausable
    by_name: dict[str, Any]
    groups: dict[str, list[ActorRuntime]]
    t0: int

    def step_id(self, s: m.Step) -> int: ...
    def start_group(self, group: str) -> None: ...
    def start_one(self, group: str, args: dict[str, Any]) -> None: ...
    def alive(self, name: str) -> bool: ...
    def alive_names(self) -> list[str]: ...
