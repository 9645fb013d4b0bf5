"""Run a scenario's real threads one step at a time, each step chosen by a chooser.

Every actor parks at each step boundary (the gate the pause already uses)
and inside any primitive that would block; only the actor the chooser picks
runs, until it parks again. With one actor running at a time, the stream
and the final state depend on the choices alone: a schedule (the list of
choices) replays exactly. Time is virtual: a ``sleep`` or a timeout does not
wait; a timed wait may time out whenever the chooser picks it.

On a cooperative backend (gevent) a greenlet is switched out only where it
yields: a sleep, a wait that blocks, its end. There the running actor goes
on through its step boundaries without a choice, so a schedule has one
choice per switch, not one per step: the space gevent can reach.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

#: A gate's probe: ``None`` when the actor's next step can go, else what it would block on.
Probe = Callable[[int, Any], "str | None"]

#: Why a controlled run stopped choosing.
FINISHED, BLOCKED, DEPTH, DIVERGED = "finished", "blocked", "depth", "diverged"


def _held(lock: threading.Lock) -> threading.Lock:
    lock.acquire()
    return lock


class Abandoned(BaseException):
    """Raised in an actor parked when the run ends: its thread unwinds and exits."""


@dataclass(eq=False)
class Pending:
    """Where a parked actor stands: before a step (a gate) or inside a wait."""

    actor: int
    step: int = -1  #: the step it is before (gates), or the step whose wait it is in
    frame: Any = None
    probe: Probe | None = None
    pred: Callable[[], bool] | None = None  #: inside a wait: True once it can go on
    on: str = ""  #: inside a wait: what it waits for
    timeout: float | None = None
    outcome: bool = True  #: inside a wait: False when it was chosen to time out

    @property
    def inside(self) -> bool:
        return self.pred is not None

    def blocked_on(self) -> str | None:
        """What stops the actor now (``None``: it can be chosen)."""
        if self.pred is not None:
            if self.pred() or self.timeout is not None:
                return None
            return self.on
        if self.probe is None:
            return None
        return self.probe(self.actor, self.frame)


@dataclass(frozen=True)
class Decision:
    """One choice: who could go, who went, and where its events begin in the stream."""

    enabled: tuple[int, ...]
    chosen: int
    first_event: int
    step: int = -1  #: the step the chosen actor stood before (or whose wait it was in)


class Chooser(Protocol):
    """Picks the next actor among those enabled (``DIVERGED`` via :class:`Diverged`)."""

    def choose(self, sched: Controlled, enabled: list[int]) -> int: ...


class Diverged(Exception):
    """A replayed schedule asked for an actor that cannot go: the reason, for the user."""


@dataclass(eq=False)
class Controlled:
    """The run's control when a chooser, not the OS, decides who runs next.

    Actors call :meth:`gate` at each step boundary and :meth:`block` inside a
    primitive that would wait; the run's main thread calls :meth:`drive`.
    """

    chooser: Chooser
    max_steps: int = 10_000
    count_events: Callable[[], int] = lambda: 0
    hold: bool = True  #: every step boundary comes to :meth:`gate`
    #: greenlets: the running actor is chosen again only after it yields (sleeps or blocks)
    cooperative: bool = False
    paused: bool = False
    virtual: bool = True
    decisions: list[Decision] = field(default_factory=list)
    pending: dict[int, Pending] = field(default_factory=dict)
    current: int = -1
    clock_s: float = 0.0  #: virtual time: the sleeps and timeouts taken so far
    stop_reason: str = ""
    diverged: str = ""
    probes: dict[int, Probe] = field(default_factory=dict)
    #: told before each choice (the options) and after it (who went): the runner's stream
    on_offer: Callable[[Controlled], None] | None = None
    on_chosen: Callable[[int], None] | None = None
    #: each actor's last step taken at a gate (a wait inside it is shown with it)
    last_step: dict[int, int] = field(default_factory=dict)
    _batons: dict[int, threading.Lock] = field(default_factory=dict)
    _arrived: dict[int, threading.Lock] = field(default_factory=dict)
    _abandon: bool = False
    _threads: list[Any] = field(default_factory=list)
    _idents: dict[int, int] = field(default_factory=dict)  #: each actor's thread
    _starting: int = -1  #: the actor being started (it parks without choosing)
    _yielded: bool = True  #: cooperative: the running actor slept since it was chosen
    _done: threading.Lock = field(default_factory=lambda: _held(threading.Lock()))
    _run: Any = None

    # -- what the engine's Control offers (pause and back-pressure have no meaning here)

    def pause(self, paused: bool) -> None:
        self.paused = False

    def throttle(self, throttled: bool) -> None:
        return None

    def wait(self) -> None:
        return None

    # -- called by the run's threads

    def spawning(self, actor: int) -> None:
        """An actor is about to start: its hand-over locks."""
        baton, arrived = threading.Lock(), threading.Lock()
        baton.acquire()
        arrived.acquire()
        self._batons[actor], self._arrived[actor] = baton, arrived
        self._starting = actor

    def spawned(self, actor: int, thread: Any) -> None:
        """Wait until the new actor parks (or ends): starts stay in one order."""
        self._threads.append(thread)
        self._arrived[actor].acquire()
        self._idents[actor] = thread.ident
        self._starting = -1

    def gate(self, actor: int, step: int, frame: Any) -> None:
        """Park ``actor`` before ``step`` until it is chosen (a greenlet that has not
        yielded since it was chosen goes straight on, as under gevent's hub)."""
        if self.cooperative and actor == self.current and not self._yielded:
            self.last_step[actor] = step
            return
        self._park(Pending(actor, step, frame, self.probes.get(step)))

    def block(self, pred: Callable[[], bool], on: str, timeout: float | None = None) -> bool:
        """Park the running actor inside a wait until ``pred`` holds (True) or it is
        chosen to time out (False; only with a ``timeout``)."""
        if pred():
            return True
        actor = self.current
        step = self.last_step.get(actor, -1)
        pending = Pending(actor, step, pred=pred, on=on, timeout=timeout)
        self._park(pending)
        if not pending.outcome and timeout is not None:
            self.clock_s += timeout
        return pending.outcome

    def sleep(self, seconds: float) -> None:
        """A sleep takes no time: the clock moves on, the actor's next gate lets others go."""
        self.clock_s += max(seconds, 0.0)
        self._yielded = True  # gevent.sleep, even of 0, switches to the hub

    def finished(self, actor: int) -> None:
        """The actor's thread is about to end: it hands the turn on (or, just spawned,
        back to whoever started it)."""
        if actor == self._starting:
            self._arrived[actor].release()
        else:
            self._next()

    def _park(self, pending: Pending) -> None:
        """Wait for this actor's turn. The parking thread itself chooses who goes next:
        one hand-over between threads a step, none when it goes on itself."""
        actor = pending.actor
        self.pending[actor] = pending
        if actor == self._starting:  # just spawned: the one who started it goes on
            self._arrived[actor].release()
        elif self._next() == actor:
            return
        self._batons[actor].acquire()
        if self._abandon:
            raise Abandoned

    # -- the choice, made by whichever thread just parked (one at a time)

    def drive(self, run: Any) -> str:
        """Choose steps until the run ends, blocks for good, or reaches ``max_steps``:
        the main thread makes the first choice, then waits for the last one."""
        self._run = run
        self._starting = -1
        chosen = self._next()
        if chosen >= 0:
            self._done.acquire()
        return self.stop_reason

    def _next(self) -> int:
        """Choose the next actor and let it go (-1: the run stopped choosing)."""
        try:
            return self._choose()
        except Exception as exc:  # a chooser that failed: the run stops, and says why
            self.diverged = self.diverged or f"{type(exc).__name__}: {exc}"
            return self._stop(DIVERGED)

    def _choose(self) -> int:
        run = self._run
        while True:
            if all(a.finished for a in run.actors if a.thread is not None and not a.daemon):
                return self._stop(FINISHED)
            enabled = self.enabled()
            if enabled:
                break
            gates = sorted(a for a, p in self.pending.items() if not p.inside)
            if not gates:
                return self._stop(BLOCKED)
            # nobody can go: each blocked actor walks into its wait (the stream says on
            # what), then parks again and comes back here
            return self._grant(gates[0])
        if len(self.decisions) >= self.max_steps:
            return self._stop(DEPTH)
        if self.on_offer is not None:
            self.on_offer(self)
        try:
            chosen = self.chooser.choose(self, enabled)
        except Diverged as exc:
            self.diverged = str(exc)
            return self._stop(DIVERGED)
        step = self.pending[chosen].step
        self.decisions.append(Decision(tuple(enabled), chosen, self.count_events(), step))
        if self.on_chosen is not None:
            self.on_chosen(chosen)
        return self._grant(chosen)

    def _stop(self, reason: str) -> int:
        if not self.stop_reason:
            self.stop_reason = reason
            self._done.release()
        return -1

    def options(self) -> list[tuple[int, int, str]]:
        """Every parked actor as (actor, step, what blocks it or "")."""
        return [(a, p.step, p.blocked_on() or "") for a, p in sorted(self.pending.items())]

    def enabled(self) -> list[int]:
        """The parked actors that can be chosen now, in actor order."""
        return sorted(a for a, p in self.pending.items() if p.blocked_on() is None)

    def _grant(self, actor: int) -> int:
        """Let ``actor`` go: its baton, unless it is the thread choosing (it goes on)."""
        pending = self.pending.pop(actor)
        if pending.inside:
            pending.outcome = bool(pending.pred and pending.pred())
        else:
            self.last_step[actor] = pending.step
        previous, self.current = self.current, actor
        self._yielded = False
        if actor != previous or threading.get_ident() != self._idents.get(actor):
            self._batons[actor].release()
        return actor

    def abandon(self, timeout: float = 2.0) -> None:
        """End the run: every parked actor unwinds; their threads are joined."""
        self._abandon = True
        for actor in list(self.pending):
            self.pending.pop(actor)
            self._batons[actor].release()
        for thread in self._threads:
            thread.join(timeout)
