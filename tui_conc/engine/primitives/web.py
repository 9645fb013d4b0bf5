"""A local HTTP server resource and the ``fetch`` step (urllib), instrumented.

The server is the standard library's ``ThreadingHTTPServer`` on 127.0.0.1
(an ephemeral port): one thread per request — one *greenlet* per request
once gevent has patched the runner. It answers each GET after ``delay``
seconds with ``size`` bytes. Each request shows as a connection of the
server (so ``max_open`` tells whether requests overlapped); each fetch as a
client socket whose wait is "in IO (fetch)". Nothing leaves the machine.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import monotonic_ns
from typing import Any

from tui_conc.engine.primitives.sockets import SocketTable
from tui_conc.engine.wire import events as ev


class HttpServer:
    """A scenario resource: an HTTP server on 127.0.0.1 with a fixed delay and body."""

    def __init__(self, index: int, table: SocketTable, name: str, delay: float, size: int):
        self.index = index
        self.name = name
        self.table = table
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(delay, size))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.sock = table.open(-1, server.socket, name, "listen", -1)
        threading.Thread(target=server.serve_forever, daemon=True).start()

    @property
    def id(self) -> int:
        return self.sock.id

    def _handler(self, delay: float, size: int) -> type[BaseHTTPRequestHandler]:
        owner = self
        body = b"x" * size

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                conn = owner.table.open(
                    -1, self.connection, f"{owner.name}←request", "conn", owner.id
                )
                time.sleep(delay)  # the slow backend (cooperative under gevent)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                owner.table.emit((ev.SENT, -1, conn.id, monotonic_ns(), len(body)))
                owner.table.emit((ev.SOCK_CLOSE, -1, conn.id, monotonic_ns()))

            def log_message(self, format: str, *args: Any) -> None:
                return None  # no access log on the runner's stderr

        return Handler

    def fetch(self, actor: int, name: str, step: int) -> str:
        """GET the server's page with urllib; the wait shows as in IO."""
        emit = self.table.emit
        client = self.table.open(actor, None, f"{name}→{self.name}", "client", self.id)  # type: ignore[arg-type]
        emit((ev.WAIT, actor, client.id, monotonic_ns(), step, "fetch", None))
        with urllib.request.urlopen(self.url, timeout=60) as reply:
            data = reply.read()
        emit((ev.WAKE, actor, client.id, monotonic_ns(), True))
        emit((ev.RECEIVED, actor, client.id, monotonic_ns(), len(data)))
        emit((ev.SOCK_CLOSE, actor, client.id, monotonic_ns()))
        return data.decode()
