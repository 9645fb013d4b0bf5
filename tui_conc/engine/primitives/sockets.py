"""Instrumented sockets on 127.0.0.1: listeners, connections, select and selectors.

Every socket gets an id and a label ("server", "client-2→server",
"server←client-2") announced by a ``SOCK_OPEN`` event; traffic, empty
non-blocking polls and select calls are events too, and a wait in ``accept``,
``recv`` or ``select`` is a ``WAIT`` whose ``how`` says so — the actor shows
as *in IO on <socket>*. Nothing leaves the machine: listeners bind to
127.0.0.1 on an ephemeral port.
"""

from __future__ import annotations

import itertools
import select
import selectors
import socket
import threading
from collections.abc import Callable, Iterable
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev

Emit = Callable[[tuple[Any, ...]], None]


class SocketTable:
    """Hands out socket ids for one run."""

    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self._ids = itertools.count()
        self._lock = threading.Lock()

    def open(self, actor: int, sock: socket.socket, label: str, role: str, parent: int) -> Sock:
        with self._lock:
            sid = next(self._ids)
        self.emit((ev.SOCK_OPEN, actor, sid, monotonic_ns(), label, role, parent))
        return Sock(self, sid, sock, label)


class Sock:
    """A socket with an id and a label; what a scenario's locals hold."""

    def __init__(self, table: SocketTable, sid: int, sock: socket.socket, label: str) -> None:
        self.table = table
        self.id = sid
        self.sock = sock
        self.label = label
        self.closed = False

    def fileno(self) -> int:
        return self.sock.fileno()

    def __repr__(self) -> str:
        return self.label

    def send(self, actor: int, data: str) -> int:
        raw = data.encode()
        self.sock.sendall(raw)
        self.table.emit((ev.SENT, actor, self.id, monotonic_ns(), len(raw)))
        return len(raw)

    def recv(self, actor: int, step: int, size: int, block: bool) -> tuple[bool, str]:
        """``(True, text)`` ("" at end of stream), or ``(False, "")`` when a poll found nothing."""
        emit = self.table.emit
        if not block:
            self.sock.setblocking(False)
            try:
                raw = self.sock.recv(size)
            except BlockingIOError:
                emit((ev.IO_MISS, actor, self.id, monotonic_ns()))
                return False, ""
            finally:
                self.sock.setblocking(True)
        else:
            ready, _, _ = select.select([self.sock], [], [], 0)
            if not ready:
                emit((ev.WAIT, actor, self.id, monotonic_ns(), step, "recv", None))
                raw = self.sock.recv(size)
                emit((ev.WAKE, actor, self.id, monotonic_ns(), True))
            else:
                raw = self.sock.recv(size)
        emit((ev.RECEIVED, actor, self.id, monotonic_ns(), len(raw)))
        return True, raw.decode(errors="replace")

    def close(self, actor: int) -> None:
        if not self.closed:
            self.closed = True
            self.table.emit((ev.SOCK_CLOSE, actor, self.id, monotonic_ns()))
            self.sock.close()


class Listener:
    """A listening TCP socket on 127.0.0.1 (a scenario resource)."""

    def __init__(self, index: int, table: SocketTable, name: str, backlog: int) -> None:
        self.index = index
        self.name = name
        self.table = table
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(backlog)
        self.port = server.getsockname()[1]
        self.sock = table.open(-1, server, name, "listen", -1)
        self._clients = itertools.count()

    def fileno(self) -> int:
        return self.sock.fileno()

    @property
    def id(self) -> int:
        return self.sock.id

    def __repr__(self) -> str:
        return self.name

    def accept(self, actor: int, step: int, block: bool, peer: str) -> Sock | None:
        """A connection (labelled after the client), or None when a poll found nothing."""
        emit, listener = self.table.emit, self.sock.sock
        if not block:
            listener.setblocking(False)
            try:
                conn, _ = listener.accept()
            except BlockingIOError:
                emit((ev.IO_MISS, actor, self.id, monotonic_ns()))
                return None
            finally:
                listener.setblocking(True)
        else:
            ready, _, _ = select.select([listener], [], [], 0)
            if not ready:
                emit((ev.WAIT, actor, self.id, monotonic_ns(), step, "accept", None))
                conn, _ = listener.accept()
                emit((ev.WAKE, actor, self.id, monotonic_ns(), True))
            else:
                conn, _ = listener.accept()
        conn.setblocking(True)
        hello = conn.recv(64, socket.MSG_PEEK)  # the client's name, sent on connect
        name = hello.split(b"\n", 1)[0].decode(errors="replace") if b"\n" in hello else peer
        if b"\n" in hello:
            conn.recv(len(name.encode()) + 1)
        return self.table.open(actor, conn, f"{self.name}←{name}", "conn", self.id)

    def connect(self, actor: int, client: str) -> Sock:
        """A client connection to this listener, announced by the client's name."""
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.sendall(client.encode() + b"\n")
        return self.table.open(actor, sock, f"{client}→{self.name}", "client", self.id)


def _sockets(items: Iterable[Any]) -> list[Any]:
    out = []
    for item in items:
        if not isinstance(item, Sock | Listener):
            raise TypeError(f"select wants sockets, got {item!r}")
        out.append(item)
    return out


def select_readable(
    emit: Emit, actor: int, step: int, items: Iterable[Any], timeout: float | None
) -> list[Any]:
    """``select.select`` for reading over sockets and listeners, reported."""
    watched = _sockets(items)
    ids = [s.id for s in watched]
    started = monotonic_ns()
    emit((ev.WAIT, actor, -1, started, step, "select", timeout))
    ready, _, _ = select.select(watched, [], [], timeout)
    done = monotonic_ns()
    emit((ev.WAKE, actor, -1, done, True))
    emit((ev.SELECTED, actor, -1, done, [s.id for s in ready], ids, done - started))
    return ready


class Selector:
    """A ``selectors.DefaultSelector`` (a scenario resource): register, unregister, select."""

    def __init__(self, index: int, emit: Emit) -> None:
        self.index = index
        self.emit = emit
        self.sel = selectors.DefaultSelector()

    def register(self, actor: int, item: Any) -> None:
        (sock,) = _sockets([item])
        self.sel.register(sock, selectors.EVENT_READ, sock)
        self.emit((ev.REGISTER, actor, self.index, monotonic_ns(), sock.id))

    def unregister(self, actor: int, item: Any) -> None:
        (sock,) = _sockets([item])
        self.sel.unregister(sock)
        self.emit((ev.UNREGISTER, actor, self.index, monotonic_ns(), sock.id))

    def select(self, actor: int, step: int, timeout: float | None) -> list[Any]:
        watched = [key.data.id for key in self.sel.get_map().values()]
        started = monotonic_ns()
        self.emit((ev.WAIT, actor, self.index, started, step, "select", timeout))
        ready = [key.data for key, _ in self.sel.select(timeout)]
        done = monotonic_ns()
        self.emit((ev.WAKE, actor, self.index, done, True))
        self.emit(
            (ev.SELECTED, actor, self.index, done, [s.id for s in ready], watched, done - started)
        )
        return ready
