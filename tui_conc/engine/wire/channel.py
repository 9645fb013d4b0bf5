"""Event streams between the run's processes: a child's channel and the runner's relay.

Every child process (a Process actor, a pool worker) connects to the runner's
:class:`Relay` over a local socket and sends a batch of its events every few
milliseconds, each with a *watermark*: the child's clock when it took the
batch (see :class:`~tui_conc.engine.codec.SourceBatch`). Every event here is
timed: a fast-path event gets its clock reading as a fourth item,
``(kind, actor, res, t_ns)``. The relay forwards each batch into the run's
stream without decoding it; the reader merges them in time order
(:mod:`tui_conc.engine.merge`).
"""

from __future__ import annotations

import contextlib
import os
from multiprocessing.connection import Client, Connection, Listener, wait
from threading import get_ident
from time import monotonic_ns
from typing import Any

from tui_conc.engine import native
from tui_conc.engine.wire import clock, codec
from tui_conc.engine.wire.door import TcpDoor
from tui_conc.engine.wire.events import CLOCK  # kinds below it are untimed

#: How often a child sends its batch (and its watermark, even when idle).
CHILD_FLUSH_S = 0.005
#: Connections the relay's listener queues before it accepts them.
BACKLOG = 128
#: What starts a child's request (not a batch: no encoded batch starts with a zero byte).
REQUEST = b"\x00tui-conc request\x00"


#: Thread id → a clock reading that thread has taken but not yet emitted an event with
#: (see :func:`hold`). A watermark never passes one: the event is still to come.
_held: dict[int, int] = {}


def hold() -> int:
    """Read the clock for an event this thread emits later; until :func:`let_go`, no
    watermark of this process passes the reading (a put dated when it took its
    queue slot is emitted after the put has finished, which may be much later on a
    busy machine)."""
    _held[get_ident()] = monotonic_ns()
    return monotonic_ns()  # read after the hold is in place: no watermark can pass it


def let_go() -> None:
    """This thread has emitted what it held the clock for."""
    _held.pop(get_ident(), None)


def watermark() -> int:
    """This process's clock, less any reading a thread holds (see :func:`hold`)."""
    now = monotonic_ns()
    return min(now, *_held.values()) if _held else now


def stamped(append: Any) -> Any:
    """An emit that gives untimed (fast-path) events a fourth item: the time."""

    def emit(event: tuple[Any, ...]) -> None:
        append(event if event[0] >= CLOCK else (*event, monotonic_ns()))  # untimed: 3 items

    emit.append = append  # type: ignore[attr-defined]  # for callers that stamp themselves
    return emit


class Channel:
    """A child process's side: buffer stamped events, ship them from a native thread."""

    def __init__(
        self,
        address: Any,
        tick: Any = None,
        source: int | None = None,
        authkey: bytes | None = None,
        remote: bool = False,
        on_lost: Any = None,
    ) -> None:
        self.conn: Connection = Client(address, authkey=authkey)
        self.source = os.getpid() if source is None else source
        self.tick = tick  #: called every round (the shared pause flag is read there)
        self.events: list[tuple[Any, ...]] = []
        self.emit = stamped(self.events.append)
        self.lock = native.allocate_lock()
        self.closed = False
        #: what to do when the runner has gone (default: exit this process: nobody is
        #: left to report to; a Dask worker is not ours to end, and ends its actor instead)
        self.on_lost = on_lost or (lambda: os._exit(1))
        #: this host's clock against the runner's (another machine's: see wire.clock)
        self.clock = clock.agree(lambda: self.request(clock.ASK)) if remote else None
        self.flush()  # the first watermark, before any event: the reader waits for us

    def start(self) -> None:
        native.start_thread(self._run)

    def _run(self) -> None:
        while not self.closed:
            native.sleep(CHILD_FLUSH_S)
            if self.tick is not None:
                self.tick()
            self.flush()

    def flush(self) -> None:
        """Send what is buffered with a fresh watermark; exit if the runner has gone."""
        with self.lock:
            if self.closed:
                return
            mark = watermark()
            events = self.events
            batch = events[:]
            del events[: len(batch)]
            if self.clock is not None and self.clock.offset_ns:
                mark += self.clock.offset_ns
                batch = clock.shift(batch, self.clock.offset_ns)
            try:
                self.conn.send_bytes(codec.encode_source_body(self.source, mark, batch))
            except OSError:
                self.closed = True
                self.on_lost()

    def request(self, payload: bytes) -> bytes:
        """Ask the runner (its relay's ``serve``) and wait for the answer."""
        with self.lock:
            if self.closed:
                raise OSError("the channel is closed")
            self.conn.send_bytes(REQUEST + payload)
            return self.conn.recv_bytes()

    def close(self) -> None:
        """Send the last events and close (the relay tells the reader this source is gone)."""
        self.flush()
        with self.lock:
            self.closed = True
            self.conn.close()


class Relay:
    """The runner's side: forward every child's batches into the run's stream.

    The relay never decodes a batch (the reader does, once): it learns each
    connection's source from its first batch, and when a child goes (closed,
    crashed or killed) it says so with a ``CLOSED`` batch, so the reader stops
    waiting for it.
    """

    def __init__(self, hand: Any, serve: Any = None, tcp: tuple[str, int] | None = None) -> None:
        self.hand = hand  #: the writer's: takes one whole frame
        self.serve = serve  #: answers a child's request (bytes → bytes), if any
        self.authkey: bytes | None = None
        self.sources: dict[Connection, int | None] = {}  #: connection → its source, once known
        self.lock = native.allocate_lock()
        # A deep backlog: multiprocessing's default is 1, and TCP drops a connection
        # that overflows it while its client believes it is in (twenty Dask tasks
        # connect at once: one waited for ever for its authentication challenge).
        if tcp is not None:  # workers on other hosts (a cluster): they must know the key
            self.authkey = os.urandom(16)
            self.listener: Any = TcpDoor(tcp, self.authkey, self._admit, BACKLOG)
            self.address: Any = self.listener.address
        else:  # an abstract socket (Linux): no file to clean up when the run is killed
            address = f"\0tui-conc-{os.getpid()}-{os.urandom(4).hex()}"
            self.listener = Listener(address, "AF_UNIX", BACKLOG)
            self.address = address

    def start(self) -> None:
        native.start_thread(self._accept)
        native.start_thread(self._run)

    def _accept(self) -> None:
        if isinstance(self.listener, TcpDoor):
            self.listener.serve()
            return
        while True:
            try:
                conn = self.listener.accept()
            except OSError:
                return
            self._admit(conn)

    def _admit(self, conn: Connection) -> None:
        with self.lock:
            self.sources[conn] = None

    def _run(self) -> None:
        while True:
            with self.lock:
                conns = list(self.sources)
            ready = wait(conns, timeout=CHILD_FLUSH_S) if conns else native.sleep(CHILD_FLUSH_S)
            for conn in ready or ():
                self._forward(conn)  # type: ignore[arg-type]

    def _forward(self, conn: Connection) -> None:
        try:
            body = conn.recv_bytes()
        except (EOFError, OSError):
            with self.lock:
                source = self.sources.pop(conn, None)
            if source is not None:
                self.hand(codec.encode_source_frame(source, codec.CLOSED, []))
            return
        if body.startswith(REQUEST):
            payload = body[len(REQUEST) :]
            serve = clock.answer if payload == clock.ASK else self.serve
            try:
                answer = serve(payload) if serve else b""
            except Exception:  # a bad request must not stop the relay
                answer = b""
            with contextlib.suppress(OSError):  # the child went: its end comes with its
                conn.send_bytes(answer)  # connection's
            return
        frame = codec.frame_of_body(body)
        if self.sources.get(conn) is None:  # its first batch (the hello) names the source
            try:
                self.sources[conn] = codec.decode_body(frame).source
            except (codec.TraceError, AttributeError):  # not one of our children
                with self.lock:
                    self.sources.pop(conn, None)
                conn.close()
                return
        self.hand(frame)

    def drain_sources(self, timeout_s: float = 1.0) -> None:
        """At the end: wait (a while) until every connected child has said its last."""
        deadline = monotonic_ns() + int(timeout_s * 1e9)
        while monotonic_ns() < deadline:
            with self.lock:
                if not self.sources:
                    break
            native.sleep(CHILD_FLUSH_S)
