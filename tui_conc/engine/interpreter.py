"""Compile a scenario's steps into Python closures for one actor.

Compiling once (names resolved, handles bound, expressions compiled) keeps
the per-step cost to a function call, so the instrumentation — not the
interpreter — is what a run measures.
"""

from __future__ import annotations

import functools
import queue
import random
import time
from collections.abc import Callable
from time import monotonic_ns
from typing import TYPE_CHECKING, Any

from tui_conc.engine import events as ev
from tui_conc.engine.primitives import Queue, Variable
from tui_conc.engine.sockets import Listener, Selector, Sock, select_readable
from tui_conc.scenario import model as m
from tui_conc.scenario.expr import (
    COMMON_FUNCTIONS,
    Expr,
    Template,
    compile_expr,
    compile_template,
)

if TYPE_CHECKING:
    from tui_conc.engine.thread_backend import ActorRuntime, ThreadRun

Block = Callable[["Frame"], None]


class BreakLoop(Exception):
    """Raised by ``break``; caught by the nearest repeat / while."""


class StepFailed(Exception):
    """An actor's step raised: carries the step id for the report."""

    def __init__(self, step: int, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.step = step
        self.error = error


class Frame:
    """An actor's variables; expressions read names from it."""

    __slots__ = ("actor", "locals", "rng", "run")

    def __init__(self, run: ThreadRun, actor: ActorRuntime, knobs: dict[str, Any]) -> None:
        self.run = run
        self.actor = actor
        self.locals: dict[str, Any] = {**knobs, "i": actor.index_in_group, "actor": actor.name}
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
        return res.value if isinstance(res, Variable) else res


def _give_up(handler: Block | None, error: Exception, f: Frame) -> None:
    """A call gave up (Full, Empty, nothing to read): run the step's block, or raise as Python."""
    if handler is None:
        raise error
    handler(f)


def _sock(value: Any) -> Sock:
    if isinstance(value, Listener):
        return value.sock
    if not isinstance(value, Sock):
        raise TypeError(f"expected a socket, got {value!r}")
    return value


def _q(res: Any) -> Queue:
    if not isinstance(res, Queue):
        raise TypeError("expected a queue")
    return res


STEP_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "empty": lambda env, q: _q(q).empty(),
    "full": lambda env, q: _q(q).full(),
    "qsize": lambda env, q: _q(q).qsize(),
    "is_set": lambda env, e: e.is_set(),
    "locked": lambda env, lk: lk.locked(),
    "randint": lambda env, a, b: env.rng.randint(int(a), int(b)),
    "uniform": lambda env, a, b: env.rng.uniform(a, b),
    "alive": lambda env, name: env.run.alive(str(name)),
    "alive_count": lambda env: len(env.run.alive_names()),
    "alive_names": lambda env: env.run.alive_names(),
    "without": lambda env, items, x: [item for item in items if item is not x],
    "clock": lambda env: (monotonic_ns() - env.run.t0) / 1e9,
    **COMMON_FUNCTIONS,
}


@functools.lru_cache(maxsize=4096, typed=True)
def expr(value: Any) -> Expr:
    """Compile a step value (number, bool or expression); cached, as every copy of an
    actor compiles the same steps (10,000 greenlets parsed ``i`` 10,000 times)."""
    return compile_expr(value, STEP_FUNCTIONS)


@functools.lru_cache(maxsize=1024)
def template(text: str) -> Template:
    """Compile a log template; cached like :func:`expr`."""
    return compile_template(text, STEP_FUNCTIONS)


def _timeout(value: Any) -> float | Callable[[Frame], float] | None:
    """A timeout: None (wait for ever), a constant, or a function of the frame."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return None if value is None else float(value)
    e = expr(value)
    return lambda f: float(e(f))


def _at(value: float | Callable[[Frame], float] | None, f: Frame) -> float | None:
    return value(f) if callable(value) else value


def _seconds(value: Any) -> Callable[[Frame], float]:
    if isinstance(value, m.RandomRange):
        lo, hi = expr(value.min), expr(value.max)
        return lambda f: f.rng.uniform(float(lo(f)), float(hi(f)))
    e = expr(value)
    return lambda f: float(e(f))


class Compiler:
    """Turns step lists into closures for one actor of a run."""

    def __init__(self, run: ThreadRun, actor: ActorRuntime) -> None:
        self.run = run
        self.actor = actor
        self.a = actor.index
        self.emit = run.emit
        self.control = run.control

    def block(self, steps: list[m.Step]) -> Block:
        """A function that runs ``steps`` in order, pausing at step boundaries."""
        fns = [self.step(s) for s in steps]
        ids = [self.run.step_id(s) for s in steps]
        control = self.control

        def run_block(frame: Frame) -> None:
            n = 0
            try:
                for fn in fns:
                    if control.hold:
                        control.wait()
                    fn(frame)
                    n += 1
            except (BreakLoop, StepFailed):
                raise
            except Exception as exc:
                raise StepFailed(ids[n], exc) from exc

        if not fns:
            return lambda frame: None
        return run_block

    def step(self, s: m.Step) -> Block:
        kind = m.STEP_KIND[type(s)]
        return getattr(self, f"_{kind}")(s, self.run.step_id(s))

    # -- locks, semaphores, conditions

    def _handle(self, name: str) -> Any:
        return self.run.by_name[name].bind(self.a)

    def _acquire(self, s: m.Acquire, sid: int) -> Block:
        h, blocking, timeout, name = self._handle(s.acquire), s.blocking, _timeout(s.timeout), s.as_
        take = h.acquire
        if blocking and timeout is None and not name:
            return lambda f: take(sid)  # the common case, kept lean

        def acquire(f: Frame) -> None:
            ok = take(sid, blocking, _at(timeout, f))
            if name:
                f.locals[name] = ok

        return acquire

    def _release(self, s: m.Release, sid: int) -> Block:
        release = self._handle(s.release).release
        return lambda f: release()

    def _with(self, s: m.With, sid: int) -> Block:
        h, body = self._handle(s.with_), self.block(s.do)
        acquire, release = h.acquire, h.release

        def with_(f: Frame) -> None:
            acquire(sid)
            try:
                body(f)
            finally:
                release()

        return with_

    def _wait(self, s: m.Wait, sid: int) -> Block:
        res, timeout, name, a = self.run.by_name[s.wait], _timeout(s.timeout), s.as_, self.a

        def wait(f: Frame) -> None:
            ok = res.wait(a, sid, _at(timeout, f))
            if name:
                f.locals[name] = ok

        return wait

    def _set(self, s: m.SetEvent, sid: int) -> Block:
        res, a = self.run.by_name[s.set], self.a
        return lambda f: res.set(a)

    def _clear(self, s: m.ClearEvent, sid: int) -> Block:
        res, a = self.run.by_name[s.clear], self.a
        return lambda f: res.clear(a)

    def _notify(self, s: m.Notify, sid: int) -> Block:
        res, n, a = self.run.by_name[s.notify], expr(s.n), self.a
        return lambda f: res.notify(a, int(n(f)))

    def _notify_all(self, s: m.NotifyAll, sid: int) -> Block:
        res, a = self.run.by_name[s.notify_all], self.a
        return lambda f: res.notify_all(a)

    # -- queues

    def _put(self, s: m.Put, sid: int) -> Block:
        q: Queue = self.run.by_name[s.put]
        item = expr(s.item) if s.item is not None else None
        block, timeout, a, name = s.block, _timeout(s.timeout), self.a, s.put
        on_full = self.block(s.on_full) if s.on_full is not None else None

        const = item is None or (not item.names and not item.calls)
        fixed = item({}) if item is not None and const else None
        put_ = q.put

        def put(f: Frame) -> None:
            value = fixed if const else item(f)  # type: ignore[misc]
            if not put_(a, sid, value, block, _at(timeout, f)):
                _give_up(on_full, queue.Full(f"queue {name!r} is full"), f)

        return put

    def _get(self, s: m.Get, sid: int) -> Block:
        q: Queue = self.run.by_name[s.get]
        block, timeout, a, name, qname = s.block, _timeout(s.timeout), self.a, s.as_, s.get
        on_empty = self.block(s.on_empty) if s.on_empty is not None else None

        get_ = q.get

        def get(f: Frame) -> None:
            ok, value = get_(a, sid, block, _at(timeout, f))
            if not ok:
                _give_up(on_empty, queue.Empty(f"queue {qname!r} is empty"), f)
            elif name:
                f.locals[name] = value

        return get

    def _task_done(self, s: m.TaskDone, sid: int) -> Block:
        q, a = self.run.by_name[s.task_done], self.a
        return lambda f: q.task_done(a)

    def _join(self, s: m.Join, sid: int) -> Block:
        a = self.a
        target = self.run.by_name.get(s.join)
        if isinstance(target, Queue):
            return lambda f: target.join(a, sid)
        timeout, group, emit = _timeout(s.timeout), s.join, self.emit

        def join(f: Frame) -> None:
            for other in self.run.groups[group]:
                if other.thread is None:
                    raise RuntimeError(f"cannot join {other.name}: it was never started")
                limit = _at(timeout, f)
                emit((ev.WAIT, a, other.index, monotonic_ns(), sid, "join", limit))
                other.thread.join(limit)
                emit((ev.WAKE, a, other.index, monotonic_ns(), not other.thread.is_alive()))

        return join

    def _start(self, s: m.Start, sid: int) -> Block:
        group, run = s.start, self.run
        if not s.args:
            return lambda f: run.start_group(group)
        args = [(k, expr(v)) for k, v in s.args.items()]
        return lambda f: run.start_one(group, {k: e(f) for k, e in args})

    # -- sockets

    def _accept(self, s: m.Accept, sid: int) -> Block:
        listener: Listener = self.run.by_name[s.accept]
        block, name, a = s.block, s.as_, self.a
        on_empty = self.block(s.on_empty) if s.on_empty is not None else None

        def accept(f: Frame) -> None:
            conn = listener.accept(a, sid, block, "client")
            if conn is None:
                _give_up(on_empty, BlockingIOError(f"nobody waits on {listener.name!r}"), f)
            elif name:
                f.locals[name] = conn

        return accept

    def _connect(self, s: m.Connect, sid: int) -> Block:
        listener: Listener = self.run.by_name[s.connect]
        name, a, me = s.as_, self.a, self.actor.name

        def connect(f: Frame) -> None:
            conn = listener.connect(a, me)
            if name:
                f.locals[name] = conn

        return connect

    def _send(self, s: m.Send, sid: int) -> Block:
        target, data, a = expr(s.send), expr(s.data), self.a
        return lambda f: _sock(target(f)).send(a, str(data(f)))

    def _recv(self, s: m.Recv, sid: int) -> Block:
        target, size, block, name, a = expr(s.recv), expr(s.size), s.block, s.as_, self.a
        on_empty = self.block(s.on_empty) if s.on_empty is not None else None

        def recv(f: Frame) -> None:
            ok, text = _sock(target(f)).recv(a, sid, int(size(f)), block)
            if not ok:
                _give_up(on_empty, BlockingIOError("nothing to read yet"), f)
            elif name:
                f.locals[name] = text

        return recv

    def _close(self, s: m.Close, sid: int) -> Block:
        target, a = expr(s.close), self.a
        return lambda f: _sock(target(f)).close(a)

    def _select(self, s: m.Select, sid: int) -> Block:
        name, a, timeout, emit = s.as_, self.a, _timeout(s.timeout), self.emit
        selector = self.run.by_name.get(s.select) if isinstance(s.select, str) else None
        if isinstance(selector, Selector):

            def select_on(f: Frame) -> None:
                ready = selector.select(a, sid, _at(timeout, f))
                if name:
                    f.locals[name] = ready

            return select_on
        items = expr(s.select)

        def select_(f: Frame) -> None:
            ready = select_readable(emit, a, sid, items(f), _at(timeout, f))
            if name:
                f.locals[name] = ready

        return select_

    def _register(self, s: m.Register, sid: int) -> Block:
        selector: Selector = self.run.by_name[s.register]
        sock, a = expr(s.sock), self.a
        return lambda f: selector.register(a, sock(f))

    def _unregister(self, s: m.Unregister, sid: int) -> Block:
        selector: Selector = self.run.by_name[s.unregister]
        sock, a = expr(s.sock), self.a
        return lambda f: selector.unregister(a, sock(f))

    def _switch(self, s: m.Switch, sid: int) -> Block:
        group, a, emit, run = s.switch, self.a, self.emit, self.run
        value = expr(s.value) if s.value is not None else None
        name = s.as_

        def switch(f: Frame) -> None:
            target = run.groups[group][0]
            emit((ev.WAIT, a, target.index, monotonic_ns(), sid, "switch", None))
            got = target.runner.switch(value(f) if value is not None else None)
            emit((ev.WAKE, a, target.index, monotonic_ns(), True))
            if name:
                f.locals[name] = got

        return switch

    def _fetch(self, s: m.Fetch, sid: int) -> Block:
        server, name, a, me = self.run.by_name[s.fetch], s.as_, self.a, self.actor.name

        def fetch(f: Frame) -> None:
            body = server.fetch(a, me, sid)
            if name:
                f.locals[name] = body

        return fetch

    def _each(self, s: m.Each, sid: int) -> Block:
        items, body, name = expr(s.each), self.block(s.do), s.as_

        def each(f: Frame) -> None:
            try:
                for item in list(items(f)):
                    if name:
                        f.locals[name] = item
                    body(f)
            except BreakLoop:
                pass

        return each

    # -- time

    def _sleep(self, s: m.Sleep, sid: int) -> Block:
        seconds, emit, a = _seconds(s.sleep), self.emit, self.a

        def sleep(f: Frame) -> None:
            secs = seconds(f)
            emit((ev.SLEEP, a, -1, monotonic_ns(), sid, secs))
            time.sleep(max(secs, 0.0))
            emit((ev.RUN, a, -1, monotonic_ns()))

        return sleep

    def _compute(self, s: m.Compute, sid: int) -> Block:
        size, emit, a = expr(s.compute), self.emit, self.a

        def compute(f: Frame) -> None:
            n = int(size(f))
            emit((ev.COMPUTE, a, -1, monotonic_ns(), sid, n))
            x = 0
            for k in range(n):  # pure-Python work: holds the GIL, as CPU-bound code does
                x = (x + k * k) % 1_000_003
            emit((ev.RUN, a, -1, monotonic_ns()))

        return compute

    # -- data

    def _read(self, s: m.Read, sid: int) -> Block:
        var: Variable = self.run.by_name[s.read]
        name, a = s.as_, self.a

        def read(f: Frame) -> None:
            value = var.read(a)
            if name:
                f.locals[name] = value

        return read

    def _write(self, s: m.Write, sid: int) -> Block:
        var: Variable = self.run.by_name[s.write]
        value, a = expr(s.value), self.a
        return lambda f: var.write(a, value(f))

    def _log(self, s: m.Log, sid: int) -> Block:
        tpl, emit, a = template(s.log), self.emit, self.a
        return lambda f: emit((ev.LOG, a, -1, monotonic_ns(), tpl(f)))

    def _let(self, s: m.Let, sid: int) -> Block:
        pairs = [(k, expr(v)) for k, v in s.let.items()]

        def let(f: Frame) -> None:
            for k, e in pairs:
                f.locals[k] = e(f)

        return let

    # -- control flow

    def _repeat(self, s: m.Repeat, sid: int) -> Block:
        count, body, name = expr(s.repeat), self.block(s.do), s.as_

        def repeat(f: Frame) -> None:
            loc = f.locals
            try:
                for k in range(int(count(f))):
                    if name:
                        loc[name] = k
                    body(f)
            except BreakLoop:
                pass

        return repeat

    def _while(self, s: m.While, sid: int) -> Block:
        cond, body = expr(s.while_), self.block(s.do)

        def while_(f: Frame) -> None:
            try:
                while cond(f):
                    body(f)
            except BreakLoop:
                pass

        return while_

    def _if(self, s: m.If, sid: int) -> Block:
        cond, then, else_ = expr(s.if_), self.block(s.then), self.block(s.else_)
        return lambda f: then(f) if cond(f) else else_(f)

    def _break(self, s: m.Break, sid: int) -> Block:
        def break_(f: Frame) -> None:
            raise BreakLoop

        return break_


def describe(s: m.Step) -> str:
    """A short text for a step, as the actors panel shows it."""
    kind = m.STEP_KIND[type(s)]
    target = getattr(s, {"with": "with_", "while": "while_", "if": "if_"}.get(kind, kind), None)
    if isinstance(s, m.Sleep) and isinstance(s.sleep, m.RandomRange):
        target = f"{s.sleep.min}..{s.sleep.max}"
    if isinstance(s, m.Log | m.Let | m.Break):
        return kind
    return f"{kind} {target}" if target is not None else kind


__all__ = ["BreakLoop", "Compiler", "Frame", "StepFailed", "describe", "expr"]
