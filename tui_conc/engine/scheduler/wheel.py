"""The learner at the wheel: step mode's chooser, fed by the app's commands."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tui_conc.engine import native
from tui_conc.engine.scheduler.controlled import Controlled, Diverged


@dataclass
class Wheel:
    """Replays ``prefix`` (an undo re-runs the schedule so far), then waits for a
    command: ``("step", actor)`` lets one actor go; ``("auto", n)`` lets a seeded
    random scheduler choose up to ``n`` steps, stopping early when an actor blocks
    or ends (the next interesting moment)."""

    prefix: Sequence[int] = ()
    names: Sequence[str] = ()
    seed: int = 0
    #: a native queue (``_queue.SimpleQueue``): fed from the control thread
    commands: Any = field(default_factory=lambda: native.original("queue", "SimpleQueue")())
    auto: int = 0
    rng: random.Random = field(init=False)
    _settled: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def send(self, command: str, value: int) -> None:
        """From the control thread (a native one, even under gevent): the next command."""
        self.commands.put((command, value))

    def _command(self) -> tuple[str, int]:
        if not native.cooperative():
            return self.commands.get()
        # under gevent: wait on a native thread of the hub's pool, so the hub sleeps
        # (no busy switching) and wakes when the command comes
        import gevent

        return gevent.get_hub().threadpool.apply(self.commands.get)  # type: ignore[no-any-return]

    def choose(self, sched: Controlled, enabled: list[int]) -> int:
        n = len(sched.decisions)
        if n < len(self.prefix):
            chosen = self.prefix[n]
            if chosen not in enabled:
                who = self.names[chosen] if 0 <= chosen < len(self.names) else f"actor {chosen}"
                raise Diverged(f"step {n + 1}: {who} is not enabled")
            return chosen
        if self.auto > 0:
            if self._moment(sched) != self._settled:  # someone blocked or ended: stop here
                self.auto = 0
            else:
                self.auto -= 1
                return self.rng.choice(enabled)
        while True:
            command, value = self._command()
            if command == "step" and value in enabled:
                return value
            if command == "auto" and value > 0:
                self.auto = value - 1
                self._settled = self._moment(sched)
                return self.rng.choice(enabled)

    @staticmethod
    def _moment(sched: Controlled) -> tuple[int, int]:
        """(parked actors that cannot go, parked actors): a change is worth a stop."""
        blocked = sum(1 for p in sched.pending.values() if p.blocked_on() is not None)
        return blocked, len(sched.pending)
