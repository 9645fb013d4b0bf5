"""The thread backend: a scenario's actors as real ``threading.Thread``s."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from time import monotonic_ns
from typing import Any

from tui_conc.engine import native
from tui_conc.engine.backends.control import Control
from tui_conc.engine.primitives.locks import LockLike
from tui_conc.engine.primitives.queues import CooperativeQueue, Queue
from tui_conc.engine.primitives.shared import PipeEnd, SharedDict, SharedList
from tui_conc.engine.primitives.sockets import Listener, Selector, SocketTable
from tui_conc.engine.primitives.sync import Barrier, Condition, Event
from tui_conc.engine.primitives.variable import Variable
from tui_conc.engine.scheduler.unfinished import Unfinished
from tui_conc.engine.steps.compiler import Compiler
from tui_conc.engine.steps.context import ActorRuntime
from tui_conc.engine.steps.frame import Family, Frame, StepFailed
from tui_conc.engine.steps.numbering import number_steps
from tui_conc.engine.wire import events as ev
from tui_conc.scenario import model as m
from tui_conc.scenario.effects import header_info
from tui_conc.scenario.resources import initial
from tui_conc.scenario.sizes import built_resources, copies, is_daemon

Emit = Callable[[tuple[Any, ...]], None]

#: Backends whose actors share one OS thread and switch only where they block.
COOPERATIVE = ("gevent", "eventlet")


class GreenThread:
    """A gevent ``Greenlet`` with the ``Thread`` methods the engine uses.

    ``gevent.spawn`` rather than a patched ``threading.Thread``: the patched
    ``start()`` waits for the new greenlet to run, a hub round per actor
    (10,000 actors took over a second to start).
    """

    def __init__(self, target: Callable[..., None], args: tuple[Any, ...]) -> None:
        import gevent

        self.greenlet = gevent.Greenlet(target, *args)

    def start(self) -> None:
        self.greenlet.start()

    def join(self, timeout: float | None = None) -> None:
        self.greenlet.join(timeout)

    def is_alive(self) -> bool:
        return not self.greenlet.dead

    @property
    def ident(self) -> int:
        """What the patched ``threading.get_ident()`` returns inside it."""
        return id(self.greenlet)


@dataclass(eq=False)
class ThreadRun:
    """Everything a run on threads needs: resources, actors, the event sink."""

    scenario: m.Scenario
    knobs: dict[str, Any]
    emit: Emit
    backend: str = "thread"
    control: Any = field(default_factory=Control)
    by_name: dict[str, Any] = field(default_factory=dict)
    resource_info: list[dict[str, Any]] = field(default_factory=list)
    actors: list[ActorRuntime] = field(default_factory=list)
    groups: dict[str, list[ActorRuntime]] = field(default_factory=dict)
    steps: list[tuple[int, str]] = field(default_factory=list)
    _step_ids: dict[int, int] = field(default_factory=dict)
    _live: int = 0
    _live_cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.t0 = monotonic_ns()
        env = dict(self.knobs)
        self.sockets = SocketTable(self.emit)
        #: a controlled run's scheduler (step mode, exploration), else None
        self.sched = self.control if getattr(self.control, "virtual", False) else None
        self._build_resources(env)
        for name, group in self.scenario.actors.items():
            count = copies(name, group, env)
            daemon = is_daemon(name, group, env)
            members = []
            for k in range(max(count, 0)):
                label = f"{name}-{k}" if count > 1 else name
                actor = ActorRuntime(len(self.actors), label, name, k, daemon)
                self.actors.append(actor)
                members.append(actor)
            self.groups[name] = members
        self.steps, self._step_ids = number_steps(self.scenario)

    def _build_resources(self, env: dict[str, Any]) -> None:
        for slot, size, info in built_resources(self.scenario, env):
            index, name, res = len(self.resource_info), slot.name, slot.res
            if res.type in ("lock", "rlock"):
                obj: Any = LockLike(index, self.emit, res.type)
            elif res.type in ("semaphore", "bounded_semaphore"):
                value = size["value"]
                obj = LockLike(index, self.emit, res.type, value)
                info["value"] = value
            elif res.type == "condition":
                base = self.by_name[res.lock] if res.lock else LockLike(index, self.emit, "lock")
                obj = Condition(index, self.emit, base)
                info["lock"] = res.lock
            elif res.type == "event":
                obj = Event(index, self.emit, initially=initial(res, env))
                info["value"] = obj.is_set()
            elif res.type == "barrier":
                parties = size["parties"]
                obj = Barrier(index, self.emit, parties)
                info["parties"] = parties
            elif res.type == "listener":
                obj = Listener(index, self.sockets, name, size["backlog"])
                info.update(port=obj.port, sock=obj.id)
            elif res.type == "selector":
                obj = Selector(index, self.emit)
            elif res.type == "http_server":
                from tui_conc.engine.primitives.web import HttpServer  # urllib: when needed

                obj = HttpServer(index, self.sockets, name, size["delay"], size["size"])
                info.update(port=obj.port, sock=obj.id)
            elif res.type == "queue":
                maxsize = size["maxsize"]
                queue_class = CooperativeQueue if self.backend in COOPERATIVE else Queue
                obj = queue_class(index, self.emit, res.kind, maxsize, list(res.items))
                info.update(kind=res.kind, maxsize=maxsize, initial=len(res.items))
            elif res.type == "dict":
                obj = SharedDict(index, self.emit, initial(res, env))
                info["value"] = obj.value
            elif res.type == "list":
                obj = SharedList(index, self.emit, initial(res, env))
                info["value"] = obj.value
            elif res.type == "pipe":
                import multiprocessing  # a Pipe works between threads as well

                for end, conn in zip(res.ends, multiprocessing.Pipe(res.duplex), strict=True):
                    self.by_name[end] = PipeEnd(index, self.emit, conn, end)
                info.update(ends=list(res.ends), duplex=res.duplex)
                obj = None
            elif res.type == "pool":
                raise ValueError(f"pool {name!r} needs the process backend")
            else:
                value = initial(res, env)
                obj = Variable(index, self.emit, value)
                info["value"] = value
            if obj is not None:
                if hasattr(obj, "sched"):  # what a controlled run's waits go through
                    obj.name, obj.sched = name, self.sched
                    if isinstance(obj, Condition) and not obj.lock.name:  # its own lock
                        obj.lock.name, obj.lock.sched = name, self.sched
                self.by_name[name] = obj
                if slot.family is not None:
                    self.by_name.setdefault(slot.family, Family()).append(obj)
            self.resource_info.append(info)

    def step_id(self, s: m.Step) -> int:
        return self._step_ids[id(s)]

    def header(self) -> dict[str, Any]:
        """What the stream's header says about this run's actors, resources and steps."""
        return {
            "actors": [
                {"name": a.name, "group": a.group, "index": a.index_in_group, "daemon": a.daemon}
                for a in self.actors
            ],
            "resources": self.resource_info,
            "steps": self.steps,
            **header_info(self.scenario, [r["name"] for r in self.resource_info]),
        }

    # -- lifecycle

    def prepare(self) -> None:
        """What must happen before the actors start, once the header is sent (nothing
        here; the process backend starts its pools' workers)."""

    def start(self) -> None:
        """Start every autostart group."""
        for name, group in self.scenario.actors.items():
            if group.autostart:
                self.start_group(name)

    def start_group(self, group: str) -> None:
        """Start every copy of ``group``."""
        for actor in self.groups[group]:
            if actor.thread is not None:
                raise RuntimeError(f"{actor.name} was already started")
            self._start(actor, {})

    def start_one(self, group: str, args: dict[str, Any]) -> None:
        """Start the next copy of ``group`` not yet started, with ``args`` as its locals."""
        with self._live_cond:
            actor = next((a for a in self.groups[group] if a.thread is None), None)
            if actor is None:
                raise RuntimeError(f"every copy of {group!r} is already started")
            actor.thread = threading.Thread()  # claimed; replaced below
        self._start(actor, args)

    def _start(self, actor: ActorRuntime, args: dict[str, Any]) -> None:
        body = Compiler(self, actor).block(self.scenario.actors[actor.group].steps)
        frame = Frame(self, actor, self.knobs)
        frame.locals.update(args)
        if self.backend == "greenlet":
            # raw greenlets, entered only by explicit switches (the runner enters the first)
            import greenlet

            actor.thread = threading.Thread()  # marks it started for join / start checks
            actor.runner = greenlet.greenlet(lambda *_: self._main(actor, body, frame))
            return
        if self.backend == "gevent":
            actor.thread = GreenThread(self._main, (actor, body, frame))  # type: ignore[assignment]
        else:
            actor.thread = threading.Thread(
                target=self._main, args=(actor, body, frame), name=actor.name, daemon=True
            )
        if not actor.daemon:
            with self._live_cond:
                self._live += 1
        # started, not yet running: the analysis must not count it out
        self.emit((ev.ACTOR_SPAWNED, actor.index, -1, monotonic_ns()))
        if self.sched is not None:
            self.sched.spawning(actor.index)
        actor.thread.start()
        if self.sched is not None:  # one at a time: it runs until it parks at its first step
            self.sched.spawned(actor.index, actor.thread)

    def _main(self, actor: ActorRuntime, body: Callable[[Frame], None], frame: Frame) -> None:
        emit = self.emit
        if self.backend != "greenlet":
            actor.runner = native.current()
        ident = id(actor.runner) & 0xFFFF if self.backend == "greenlet" else native.actor_ident()
        emit((ev.ACTOR_START, actor.index, -1, monotonic_ns(), ident))
        try:
            body(frame)
        except StepFailed as exc:
            line = self.steps[exc.step][0]
            emit((ev.ACTOR_FAILED, actor.index, -1, monotonic_ns(), f"line {line}: {exc}"))
        except BaseException as exc:
            emit((ev.ACTOR_FAILED, actor.index, -1, monotonic_ns(), f"{type(exc).__name__}: {exc}"))
        else:
            if self.backend in ("thread", "process"):  # a greenlet has no CPU clock of its own
                emit((ev.ACTOR_DONE, actor.index, -1, monotonic_ns(), time.thread_time()))
            else:
                emit((ev.ACTOR_DONE, actor.index, -1, monotonic_ns()))
        finally:
            actor.finished = True
            if not actor.daemon:
                with self._live_cond:
                    self._live -= 1
                    self._live_cond.notify_all()
            if self.sched is not None:
                self.sched.finished(actor.index)

    def actor_of(self, runner: Any) -> int:
        """The index of the actor ``runner`` (a greenlet) runs, or -1."""
        return next((a.index for a in self.actors if a.runner is runner), -1)

    def alive_names(self) -> list[str]:
        """The actors whose threads are running now (``threading.enumerate``, ours only)."""
        return [a.name for a in self.actors if a.thread is not None and a.thread.is_alive()]

    def alive(self, name: str) -> bool:
        """``is_alive()`` of an actor, or of any copy when ``name`` is a group."""
        members = self.groups.get(name) or [a for a in self.actors if a.name == name]
        if not members:
            raise NameError(f"no actor named {name!r}")
        return any(a.thread is not None and a.thread.is_alive() for a in members)

    def wait_until_done(self) -> None:
        """Block until every started non-daemon actor has ended (threads are the judge).

        On the greenlet backend, enter the first actor: the run is over when
        control comes back here (an actor ended and returned to its parent).
        """
        if self.sched is not None:
            outcome = self.sched.drive(self)
            if outcome != "finished":
                raise Unfinished(outcome)
            return
        if self.backend == "greenlet":
            first = next((a for a in self.actors if a.runner is not None), None)
            if first is not None:
                first.runner.switch()
            for actor in self.actors:
                if actor.runner is not None and not actor.finished:
                    reason = "never resumed: the run ended" if actor.runner else "never entered"
                    self.emit((ev.ACTOR_KILLED, actor.index, -1, monotonic_ns(), reason))
                    actor.finished = True
            return
        with self._live_cond:
            while self._live > 0:
                self._live_cond.wait()

    def flush_events(self) -> None:
        """Send what is buffered now, before a step that holds the GIL (a child's
        channel; here the runner's flusher has its own OS thread: nothing to do)."""

    def close(self) -> None:
        """After the run's end is out: let go of what the run holds outside this
        process (nothing here; a Dask run closes its cluster)."""

    def cut_off_daemons(self) -> None:
        """Report the daemon actors still running: the run's end kills them."""
        for actor in self.actors:
            if actor.daemon and actor.thread is not None and not actor.finished:
                self.emit(
                    (ev.ACTOR_KILLED, actor.index, -1, monotonic_ns(), "daemon cut off at exit")
                )
