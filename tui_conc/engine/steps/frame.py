"""An actor's frame (its locals, its random stream) and the exceptions steps raise."""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING, Any

from tui_conc.engine.primitives.variable import Variable

if TYPE_CHECKING:
    from tui_conc.engine.steps.context import ActorRuntime, RunContext


#: This process's pid and parent pid (a child process sets its own at start).
_PIDS = [os.getpid(), os.getppid()]


def set_pids() -> None:
    """Read the pids again: called first thing in a child process."""
    _PIDS[:] = [os.getpid(), os.getppid()]


class BreakLoop(Exception):
    """Raised by ``break``; caught by the nearest repeat / while."""


class StepFailed(Exception):
    """An actor's step raised: carries the step id for the report."""

    def __init__(self, step: int, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.step = step
        self.error = error


class Family(list):  # type: ignore[type-arg]
    """The members of a resource family (``fork`` of ``fork[0]`` … ``fork[n-1]``)."""


class Frame:
    """An actor's variables; expressions read names from it."""

    __slots__ = ("actor", "locals", "rng", "run")

    def __init__(self, run: RunContext, actor: ActorRuntime, knobs: dict[str, Any]) -> None:
        self.run = run
        self.actor = actor
        self.locals: dict[str, Any] = {
            **knobs,
            "i": actor.index_in_group,
            "actor": actor.name,
            "pid": _PIDS[0],
            "ppid": _PIDS[1],
        }
        seed = knobs.get("seed", 0)
        self.rng = random.Random(f"{seed}:{actor.name}")

    def __getitem__(self, name: str) -> Any:
        try:
            return self.locals[name]
        except KeyError:
            pass
        res = self.run.by_name.get(name)
        if res is None:
            raise NameError(f"name {name!r} is not bound yet")
        if isinstance(res, Family):  # a family of variables reads as their values
            return [m.value if isinstance(m, Variable) else m for m in res]
        return res.value if isinstance(res, Variable) else res
