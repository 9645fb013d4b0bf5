"""A shared variable whose reads and writes are reported with their values."""

from __future__ import annotations

from time import monotonic_ns
from typing import Any

from tui_conc.engine.primitives.base import Emit
from tui_conc.engine.wire import events as ev


class Variable:
    """A shared variable: reads and writes are reported with their values."""

    def __init__(self, index: int, emit: Emit, value: Any) -> None:
        self.index = index
        self._emit = emit
        self.value = value

    def read(self, actor: int) -> Any:
        value = self.value
        self._emit((ev.READ, actor, self.index, monotonic_ns(), value))
        return value

    def write(self, actor: int, value: Any) -> None:
        self.value = value
        self._emit((ev.WRITE, actor, self.index, monotonic_ns(), value))
