"""The relay's TCP listener: each connection authenticated on its own, with a time limit.

``multiprocessing.connection.Listener`` authenticates a connection inside
``accept()``, one at a time and with no time limit: a stranger that connects
and says nothing would stop every worker behind it from getting in. Here the
accepting thread only accepts; each connection proves it knows the run's key
(the same HMAC challenge, both ways) on a thread of its own, within
:data:`HANDSHAKE_S`, and at most :data:`AT_ONCE` handshakes run together.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge

from tui_conc.engine import native

#: Seconds a connection has to authenticate.
HANDSHAKE_S = 5
#: Handshakes under way at once; a connection past them is closed at once.
AT_ONCE = 64


def _receive_timeout(fd: int, seconds: int) -> None:
    """Bound (0: unbound) how long a read on ``fd`` waits (the kernel's SO_RCVTIMEO:
    ``Connection`` reads the descriptor directly)."""
    sock = socket.socket(fileno=fd)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", seconds, 0))
    finally:
        sock.detach()


class TcpDoor:
    """Listens on ``address`` (host, port); hands each authenticated connection to ``admit``."""

    def __init__(
        self,
        address: tuple[str, int],
        key: bytes,
        admit: Callable[[Connection], None],
        backlog: int,
    ) -> None:
        self.key = key
        self.admit = admit
        self.server = socket.create_server(address, backlog=backlog)
        self.address: tuple[str, int] = self.server.getsockname()[:2]
        self._slots = threading.BoundedSemaphore(AT_ONCE)

    def serve(self) -> None:
        """Accept until closed (run it on a thread of its own)."""
        while True:
            try:
                sock, _ = self.server.accept()
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                sock.close()  # a flood: the run's workers retry nothing, but strangers stop here
                continue
            native.start_thread(lambda s=sock: self._handshake(s))

    def _handshake(self, sock: socket.socket) -> None:
        try:
            sock.setblocking(True)
            conn = Connection(sock.detach())
            _receive_timeout(conn.fileno(), HANDSHAKE_S)
            try:
                deliver_challenge(conn, self.key)
                answer_challenge(conn, self.key)
            except (AuthenticationError, OSError, EOFError):
                conn.close()  # a stranger, or silent too long
                return
            _receive_timeout(conn.fileno(), 0)
            self.admit(conn)
        finally:
            self._slots.release()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.close()
