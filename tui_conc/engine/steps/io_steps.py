"""Compiling the socket, HTTP and greenlet-switch steps (a part of the Compiler)."""

from __future__ import annotations

from time import monotonic_ns
from typing import TYPE_CHECKING, Any

from tui_conc.engine.primitives.shared import PipeEnd
from tui_conc.engine.primitives.sockets import Listener, Selector, Sock, select_readable
from tui_conc.engine.steps.compiling import Block, at, expr, give_up, timeout_of
from tui_conc.engine.wire import events as ev
from tui_conc.scenario import model as m

if TYPE_CHECKING:
    from tui_conc.engine.steps.frame import Frame


def _sock(value: Any) -> Sock:
    if isinstance(value, Listener):
        return value.sock
    if not isinstance(value, Sock):
        raise TypeError(f"expected a socket, got {value!r}")
    return value


class IoSteps:
    """Step compilers for sockets, the HTTP server and greenlet switches."""

    run: Any
    actor: Any
    a: int
    emit: Any

    def block(self, steps: list[m.Step]) -> Block:  # provided by the Compiler
        raise NotImplementedError

    # -- sockets

    def _accept(self, s: m.Accept, sid: int) -> Block:
        listener: Listener = self.run.by_name[s.accept]
        block, name, a = s.block, s.as_, self.a
        on_empty = self.block(s.on_empty) if s.on_empty is not None else None

        def accept(f: Frame) -> None:
            conn = listener.accept(a, sid, block, "client")
            if conn is None:
                give_up(on_empty, BlockingIOError(f"nobody waits on {listener.name!r}"), f)
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

        def send(f: Frame) -> None:
            end = target(f)
            if isinstance(end, PipeEnd):
                end.send(a, data(f))  # a pipe carries the value itself
            else:
                _sock(end).send(a, str(data(f)))

        return send

    def _recv(self, s: m.Recv, sid: int) -> Block:
        target, size, block, name, a = expr(s.recv), expr(s.size), s.block, s.as_, self.a
        on_empty = self.block(s.on_empty) if s.on_empty is not None else None

        def recv(f: Frame) -> None:
            end = target(f)
            if isinstance(end, PipeEnd):
                ok, text = end.recv(a, sid, block)
            else:
                ok, text = _sock(end).recv(a, sid, int(size(f)), block)
            if not ok:
                give_up(on_empty, BlockingIOError("nothing to read yet"), f)
            elif name:
                f.locals[name] = text

        return recv

    def _close(self, s: m.Close, sid: int) -> Block:
        target, a = expr(s.close), self.a

        def close(f: Frame) -> None:
            thing = target(f)
            if isinstance(thing, PipeEnd) or hasattr(thing, "terminate"):
                thing.close(a)  # a pipe end or a pool
            else:
                _sock(thing).close(a)

        return close

    def _select(self, s: m.Select, sid: int) -> Block:
        name, a, timeout, emit = s.as_, self.a, timeout_of(s.timeout), self.emit
        selector = self.run.by_name.get(s.select) if isinstance(s.select, str) else None
        if isinstance(selector, Selector):

            def select_on(f: Frame) -> None:
                ready = selector.select(a, sid, at(timeout, f))
                if name:
                    f.locals[name] = ready

            return select_on
        items = expr(s.select)

        def select_(f: Frame) -> None:
            ready = select_readable(emit, a, sid, items(f), at(timeout, f))
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
