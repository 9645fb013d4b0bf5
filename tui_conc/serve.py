"""``tui-conc serve``: the app in a browser, one app process per connection.

textual-serve does the work: its page runs xterm.js, and each websocket gets
an :class:`~textual_serve.app_service.AppService` that runs ``tui-conc`` in a
subprocess with Textual's web driver. What this module adds:

* each app runs in a session of its own, and when its tab closes (or the
  server stops) it is asked to quit, then killed with its whole process group
  if it has not gone within :data:`QUIT_GRACE_S` — the app's runner, which
  exits when its stdin closes, goes with it;
* at most ``max_sessions`` apps at once: the page says so instead of starting
  another (``503``), and a websocket past the limit is told so and closed;
* the page's websocket address follows the address the browser used, so a
  server bound to ``0.0.0.0`` works from another machine;
* loopback by default, and a plain warning when bound anywhere else: a served
  app runs scenario code on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

#: How long an app has to quit on its own before its process group is killed.
QUIT_GRACE_S = 3.0
DEFAULT_MAX_SESSIONS = 4

BUSY_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>tui-conc: all sessions in use</title>
<style>body{{background:#0c181f;color:#e8eef2;font-family:monospace;padding:3em}}</style>
</head><body><h1>All {limit} sessions are in use</h1>
<p>This tui-conc server runs at most {limit} apps at once (<code>--max-sessions</code>).
Reload this page when one of them has been closed.</p></body></html>
"""


class PlaygroundService(AppService):
    """One browser connection's app: its own process group, killed if it will not quit."""

    def __init__(self, argv: list[str], **kwargs: Any) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.argv = argv

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        self._stdin = process.stdin
        return process

    async def stop(self) -> None:
        """Ask the app to quit; past the grace period, kill its process group."""
        task, process = self._task, self._process
        if task is None or process is None:
            return
        self._task = None
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        await self.send_meta({"type": "quit"})
        try:
            await asyncio.wait_for(asyncio.shield(task), QUIT_GRACE_S)
        except TimeoutError:
            kill_group(process.pid)
            await task
        with contextlib.suppress(ProcessLookupError):
            await asyncio.wait_for(process.wait(), QUIT_GRACE_S)
        kill_group(process.pid)  # anything it left in its session


def kill_group(pid: int) -> None:
    """SIGKILL a process group (the app's session); gone already is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class PlaygroundServer(Server):
    """textual-serve's server with session limits, clean stops and safe defaults."""

    def __init__(
        self, argv: list[str], host: str, port: int, max_sessions: int, title: str
    ) -> None:
        super().__init__(" ".join(argv), host=host, port=port, title=title)
        self.argv = argv
        self.max_sessions = max_sessions
        self.services: set[PlaygroundService] = set()

    def initialize_logging(self) -> None:
        """textual-serve logs every app's stderr through Rich: keep it, quieter."""
        super().initialize_logging()
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if len(self.services) >= self.max_sessions:
            return web.Response(
                text=BUSY_PAGE.format(limit=self.max_sessions),
                status=503,
                content_type="text/html",
            )
        base = f"{request.scheme}://{request.host}"
        ws = ("wss" if request.scheme == "https" else "ws") + f"://{request.host}/ws"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": ws,
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        if len(self.services) >= self.max_sessions:
            note = f"\r\n  All {self.max_sessions} sessions of this server are in use.\r\n"
            await websocket.send_bytes(note.encode())
            await websocket.close()
            return websocket
        service = PlaygroundService(
            self.argv,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.services.add(service)
        try:
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            pass
        finally:
            await service.stop()
            self.services.discard(service)
            await websocket.close()
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        pass  # :meth:`run` says where it serves, once it knows the port

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(s.stop() for s in list(self.services)))

    def serve(self, debug: bool = False) -> None:
        self.debug = debug
        self.initialize_logging()
        asyncio.run(self.run())

    async def run(self) -> None:
        """Serve until SIGINT or SIGTERM; every app stops with the server."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runner = web.AppRunner(await self._make_app(), handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            raise SystemExit(f"tui-conc serve: cannot listen on {self.host}:{self.port}: "
                             f"{error.strerror or error}") from None  # fmt: skip
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        host = f"[{self.host}]" if ":" in self.host else self.host
        print(banner(f"http://{host}:{port}/", self.host, self.max_sessions), flush=True)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()  # on_shutdown stops every app


def banner(url: str, host: str, max_sessions: int) -> str:
    """What ``serve`` prints: where, how many, and what serving means."""
    lines = [
        f"tui-conc serving on {url}",
        f"each browser tab gets its own app (at most {max_sessions} at once); Ctrl+C stops",
        "a served app runs scenario code on this machine as this user.",
    ]
    if not is_loopback(host):
        lines.append(
            f"WARNING: bound to {host}, not loopback: anyone who can reach this port can "
            "run code here. Use --host 127.0.0.1 unless you mean it."
        )
    return "\n".join(lines)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(host: str, port: int, max_sessions: int, folder: Path | None) -> int:
    """Serve the app until interrupted."""
    argv = [sys.executable, "-m", "tui_conc"]
    if folder is not None:
        if not folder.is_dir():
            print(f"tui-conc serve: {folder}: not a folder of scenarios", file=sys.stderr)
            return 2
        argv += ["--scenarios", str(folder.resolve())]
    PlaygroundServer(argv, host, port, max_sessions, "tui-conc").serve()
    return 0
