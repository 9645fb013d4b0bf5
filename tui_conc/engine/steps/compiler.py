"""Compile a scenario's steps into Python closures for one actor.

Compiling once (names resolved, handles bound, expressions compiled) keeps
the per-step cost to a function call, so the instrumentation — not the
interpreter — is what a run measures.
"""

from __future__ import annotations

import queue
import time
from time import monotonic_ns
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from tui_conc.engine.primitives.queues import Queue
from tui_conc.engine.primitives.variable import Variable
from tui_conc.engine.steps.compiling import (
    Block,
    at,
    expr,
    give_up,
    seconds_of,
    template,
    timeout_of,
    value_of,
)
from tui_conc.engine.steps.frame import BreakLoop, Frame, StepFailed
from tui_conc.engine.steps.io_steps import IoSteps
from tui_conc.engine.steps.probes import probe_of
from tui_conc.engine.steps.process_steps import ProcessSteps
from tui_conc.engine.wire import events as ev
from tui_conc.scenario import model as m
from tui_conc.scenario.resources import family_ref, member

if TYPE_CHECKING:
    from tui_conc.engine.steps.context import ActorRuntime, RunContext


#: A compute step reports its progress every this many iterations (~50 ms).
COMPUTE_CHUNK = 1_000_000
#: A log line longer than this is cut (its length is said).
MAX_LOG_CHARS = 4_000
#: The option of each step that names the resource it acts on (``fork[i]`` allowed).
_TARGETS = {
    "acquire": "acquire",
    "release": "release",
    "with": "with_",
    "wait": "wait",
    "set": "set",
    "clear": "clear",
    "notify": "notify",
    "notify_all": "notify_all",
    "put": "put",
    "get": "get",
    "task_done": "task_done",
    "read": "read",
    "write": "write",
    "join": "join",
}


class Compiler(IoSteps, ProcessSteps):
    """Turns step lists into closures for one actor of a run."""

    def __init__(self, run: RunContext, actor: ActorRuntime) -> None:
        self.run = run
        self.actor = actor
        self.a = actor.index
        self.emit = run.emit
        self.control = run.control
        #: a controlled run's scheduler (step mode, exploration), else None
        self.sched = run.control if getattr(run.control, "virtual", False) else None

    def block(self, steps: list[m.Step]) -> Block:
        """A function that runs ``steps`` in order, pausing at step boundaries."""
        fns = [self.step(s) for s in steps]
        ids = [self.run.step_id(s) for s in steps]
        control, park = self.control, self._park
        if not fns:
            return lambda frame: None
        if len(fns) == 1:  # the body of a tight loop, often: no loop of its own
            only, only_id = fns[0], ids[0]

            def run_one(frame: Frame) -> None:
                if control.hold:
                    park(only_id, frame)
                try:
                    only(frame)
                except (BreakLoop, StepFailed):
                    raise
                except Exception as exc:
                    raise StepFailed(only_id, exc) from exc

            return run_one

        def run_block(frame: Frame) -> None:
            n = 0
            try:
                for fn in fns:
                    if control.hold:
                        park(ids[n], frame)
                    fn(frame)
                    n += 1
            except (BreakLoop, StepFailed):
                raise
            except Exception as exc:
                raise StepFailed(ids[n], exc) from exc

        return run_block

    def _park(self, step: int, frame: Frame) -> None:
        """Hold here while the run is paused (saying before which step) or throttled;
        in a controlled run, until the scheduler picks this actor."""
        if self.sched is not None:
            self.sched.gate(self.a, step, frame)
            return
        if getattr(self.control, "paused", False):
            self.emit((ev.PARKED, self.a, -1, monotonic_ns(), step))
        self.control.wait()

    def step(self, s: m.Step) -> Block:
        kind = m.STEP_KIND[type(s)]
        sid = self.run.step_id(s)
        field = _TARGETS.get(kind)
        ref = family_ref(getattr(s, field)) if field else None
        if self.sched is not None and sid not in self.sched.probes:
            probe = probe_of(self.run, s, kind, field, ref)
            if probe is not None:
                self.sched.probes[sid] = probe
        if ref is not None:
            return self._member_step(s, kind, field, ref, sid)  # type: ignore[arg-type]
        return getattr(self, f"_{kind}")(s, sid)

    def _member_step(
        self, s: m.Step, kind: str, field: str, ref: tuple[str, str], sid: int
    ) -> Block:
        """A step on ``fork[expr]``: compiled once per member, the member picked as it runs."""
        family, index_source = ref
        compile_one = getattr(self, f"_{kind}")
        n = len(self.run.by_name[family])
        fns = [compile_one(replace(s, **{field: member(family, k)}), sid) for k in range(n)]
        index = expr(index_source)

        def on_member(f: Frame) -> None:
            k = index(f)
            if isinstance(k, bool) or not isinstance(k, int) or not -n <= k < n:
                raise IndexError(f"{family}[{k!r}]: the family has {n} members (0 to {n - 1})")
            fns[k](f)

        return on_member

    # -- locks, semaphores, conditions

    def _handle(self, name: str) -> Any:
        return self.run.by_name[name].bind(self.a)

    def _acquire(self, s: m.Acquire, sid: int) -> Block:
        h, blocking, timeout, name = (
            self._handle(s.acquire),
            s.blocking,
            timeout_of(s.timeout),
            s.as_,
        )
        take = h.acquire
        if blocking and timeout is None and not name:  # the common case, kept lean
            fast = getattr(h, "acquire_step", None)
            return fast(sid) if fast is not None else lambda f: take(sid)

        def acquire(f: Frame) -> None:
            ok = take(sid, blocking, at(timeout, f))
            if name:
                f.locals[name] = ok

        return acquire

    def _release(self, s: m.Release, sid: int) -> Block:
        h = self._handle(s.release)
        fast = getattr(h, "release_step", None)
        if fast is not None:
            return fast()
        release = h.release
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
        res, timeout, name, a = self.run.by_name[s.wait], timeout_of(s.timeout), s.as_, self.a

        def wait(f: Frame) -> None:
            ok = res.wait(a, sid, at(timeout, f))
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
        block, timeout, a, name = s.block, timeout_of(s.timeout), self.a, s.put
        on_full = self.block(s.on_full) if s.on_full is not None else None

        const = item is None or (not item.names and not item.calls)
        fixed = item({}) if item is not None and const else None
        value_fn = value_of(item) if item is not None and not const else None
        put_ = q.put
        if block and timeout is None and hasattr(q, "put_step"):  # it never gives up
            return q.put_step(a, sid, value_fn or (lambda f: fixed))

        def put(f: Frame) -> None:
            value = fixed if value_fn is None else value_fn(f)
            if not put_(a, sid, value, block, timeout(f) if callable(timeout) else timeout):
                give_up(on_full, queue.Full(f"queue {name!r} is full"), f)

        return put

    def _get(self, s: m.Get, sid: int) -> Block:
        q: Queue = self.run.by_name[s.get]
        block, timeout, a, name, qname = s.block, timeout_of(s.timeout), self.a, s.as_, s.get
        on_empty = self.block(s.on_empty) if s.on_empty is not None else None

        get_ = q.get
        if block and timeout is None and hasattr(q, "get_step"):  # it never gives up
            return q.get_step(a, sid, name)

        def get(f: Frame) -> None:
            ok, value = get_(a, sid, block, timeout(f) if callable(timeout) else timeout)
            if not ok:
                give_up(on_empty, queue.Empty(f"queue {qname!r} is empty"), f)
            elif name:
                f.locals[name] = value

        return get

    def _task_done(self, s: m.TaskDone, sid: int) -> Block:
        q, a = self.run.by_name[s.task_done], self.a
        return lambda f: q.task_done(a)

    def _join(self, s: m.Join, sid: int) -> Block:
        a = self.a
        target = self.run.by_name.get(s.join)
        if target is not None and hasattr(target, "join"):
            return lambda f: target.join(a, sid)  # a queue or a pool
        timeout, group, emit, sched = timeout_of(s.timeout), s.join, self.emit, self.sched

        def join(f: Frame) -> None:
            for other in self.run.groups[group]:
                if other.thread is None:
                    raise RuntimeError(f"cannot join {other.name}: it was never started")
                limit = at(timeout, f)
                emit((ev.WAIT, a, other.index, monotonic_ns(), sid, "join", limit))
                if sched is not None:
                    done = sched.block(lambda o=other: o.finished, f"join {other.name}", limit)
                else:
                    other.thread.join(limit)
                    done = not other.thread.is_alive()
                emit((ev.WAKE, a, other.index, monotonic_ns(), done))

        return join

    def _start(self, s: m.Start, sid: int) -> Block:
        group, run = s.start, self.run
        if not s.args:
            return lambda f: run.start_group(group)
        args = [(k, expr(v)) for k, v in s.args.items()]
        return lambda f: run.start_one(group, {k: e(f) for k, e in args})

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
        seconds, emit, a = seconds_of(s.sleep), self.emit, self.a
        wait = time.sleep if self.sched is None else self.sched.sleep  # virtual time

        def sleep(f: Frame) -> None:
            secs = seconds(f)
            emit((ev.SLEEP, a, -1, monotonic_ns(), sid, secs))
            wait(max(secs, 0.0))
            emit((ev.RUN, a, -1, monotonic_ns()))

        return sleep

    def _compute(self, s: m.Compute, sid: int) -> Block:
        size, emit, a = expr(s.compute), self.emit, self.a
        if s.in_c:
            # a child's channel cannot send while the GIL is held: send what it has first
            flush = self.run.flush_events

            def compute_in_c(f: Frame) -> None:
                n = int(size(f))
                emit((ev.COMPUTE, a, -1, monotonic_ns(), sid, n))
                flush()
                sum(range(n))  # one C call: the GIL is not let go until it returns
                emit((ev.RUN, a, -1, monotonic_ns()))

            return compute_in_c

        def compute(f: Frame) -> None:
            n = int(size(f))
            emit((ev.COMPUTE, a, -1, monotonic_ns(), sid, n))
            x = 0
            for start in range(0, n, COMPUTE_CHUNK):  # progress now and then
                if start:
                    emit((ev.PROGRESS, a, -1, monotonic_ns(), start))
                for k in range(start, min(start + COMPUTE_CHUNK, n)):
                    x = (x + k * k) % 1_000_003  # pure Python: holds the GIL, as CPU work does
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

        def log(f: Frame) -> None:
            text = tpl(f)
            if len(text) > MAX_LOG_CHARS:  # a log line is a line, not a file
                text = f"{text[:MAX_LOG_CHARS]}… (+{len(text) - MAX_LOG_CHARS:,} characters)"
            emit((ev.LOG, a, -1, monotonic_ns(), text))

        return log

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
