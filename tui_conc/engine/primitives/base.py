"""What every instrumented primitive shares: how it reports, and what a compiled step is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Where a primitive reports its events (the run's sink, or a child's channel).
Emit = Callable[[tuple[Any, ...]], None]
#: A compiled step: runs on the actor's frame.
Step = Callable[[Any], None]
