"""``tui-conc serve``: the app in a real headless Chromium, sessions, and clean ends."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_conc.serve import PlaygroundService, banner, is_loopback

from .browser import (
    REPO,
    Served,
    browser,
    browsers,
    missing_browser,
    open_app,
    press,
    screen,
    type_text,
    wait_for_text,
    wait_until,
)

ARTIFACTS = Path(os.environ.get("TUI_CONC_ARTIFACTS", REPO / "test-artifacts"))
NO_BROWSER = missing_browser()
needs_browser = pytest.mark.skipif(NO_BROWSER is not None, reason=f"browser test: {NO_BROWSER}")
CYCLE = re.compile(r"DEADLOCK: worker-\d holds mutex([AB]) and waits for mutex([AB]); "
                   r"worker-\d holds mutex([AB]) and waits for mutex([AB])")  # fmt: skip


def _open_deadlock_lesson(page: object) -> None:
    """The way a learner does it: find the lesson by name, open it, run it."""
    wait_for_text(page, "pick a scenario")
    press(page, "Control+p")
    wait_for_text(page, "🔎")
    type_text(page, "mutexA")
    wait_for_text(page, "Open scenario: Deadlock: mutexA / mutexB")
    press(page, "Enter")
    wait_for_text(page, "IDLE Deadlock: mutexA / mutexB", gone="🔎")  # opened, palette shut
    press(page, "r")


@needs_browser
def test_a_browser_runs_the_deadlock_sees_its_cycle_and_closing_the_tab_leaves_nothing() -> None:
    served = Served()
    try:
        with browser() as chrome:
            page = open_app(chrome, served.url)
            _open_deadlock_lesson(page)
            shown = wait_for_text(page, "DEADLOCK:")
            found = CYCLE.search(" ".join(shown.split()))
            assert found, shown
            a, b, c, d = found.groups()
            assert {a, b} == {c, d} == {"A", "B"} and a != b and c != d, found.group(0)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "serve-deadlock.png"))
            running = served.descendants()
            assert len(running) >= 2, "the app and its runner run under the server"
            page.context.close()  # the tab closes
            wait_until(lambda: not served.left(), 20, "the app and its runner to go")
        assert served.proc.poll() is None, "the server stays up for the next tab"
    finally:
        out = served.stop()
    assert served.proc.returncode == 0, out
    assert not served.left()


@needs_browser
def test_two_browsers_at_once_get_independent_apps() -> None:
    served = Served()
    try:
        with browsers(2) as (one, two):
            first, second = open_app(one, served.url), open_app(two, served.url)
            wait_for_text(first, "pick a scenario")
            wait_for_text(second, "pick a scenario")
            apps = wait_until(
                lambda: len(kids := _apps(served)) == 2 and kids, 20, "one app per browser"
            )
            _open_deadlock_lesson(first)
            wait_for_text(first, "DEADLOCK:")
            assert "IDLE" in screen(second) and "DEADLOCK" not in screen(second)
            first.context.close()
            wait_until(lambda: len(_apps(served)) == 1, 20, "the first app to end")
            assert _apps(served) < apps, "the other browser's app runs on"
            press(second, "Control+p")
            wait_for_text(second, "🔎")  # still answering its keys
    finally:
        served.stop()
    assert not served.left()


def _apps(served: Served) -> set[int]:
    """The app processes: the server's direct children."""
    from tui_conc.engine.memory import children_of

    return set(children_of(served.proc.pid))


async def test_past_max_sessions_the_page_and_the_socket_say_so_and_nothing_is_left() -> None:
    import aiohttp

    served = await asyncio.to_thread(Served, "--max-sessions", "1")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(served.url) as page:
                assert page.status == 200
                assert "/ws" in await page.text()
            ws_url = served.url.replace("http://", "ws://") + "ws?width=100&height=30"
            async with http.ws_connect(ws_url) as first:
                got = await asyncio.wait_for(first.receive(), 30)  # the app's first bytes
                assert got.type == aiohttp.WSMsgType.BINARY
                async with http.get(served.url) as busy:
                    assert busy.status == 503
                    assert "All 1 sessions are in use" in await busy.text()
                async with http.ws_connect(ws_url) as extra:
                    note = await asyncio.wait_for(extra.receive(), 10)
                    assert b"sessions of this server are in use" in note.data
                    closing = await asyncio.wait_for(extra.receive(), 10)
                    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                assert len(await asyncio.to_thread(served.descendants)) >= 1
            await asyncio.to_thread(
                wait_until, lambda: not served.left(), 20, "the app to end with its socket"
            )
            async with http.get(served.url) as again:
                assert again.status == 200, "the session is free again"
    finally:
        await asyncio.to_thread(served.stop)


async def test_an_app_that_will_not_quit_is_killed_with_its_process_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from textual_serve.download_manager import DownloadManager

    import tui_conc.serve as serve

    monkeypatch.setattr(serve, "QUIT_GRACE_S", 0.5)
    stubborn = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('__GANGLION__', flush=True)\n"
        "time.sleep(60)\n"
    )
    sent: list[bytes] = []

    async def write(data: object) -> None:
        sent.append(data)  # type: ignore[arg-type]

    async def close() -> None:
        return None

    service = PlaygroundService(
        [sys.executable, "-c", stubborn],
        write_bytes=write,
        write_str=write,
        close=close,
        download_manager=DownloadManager(),
    )
    await service.start(80, 24)
    assert service._process is not None
    pid = service._process.pid
    await asyncio.sleep(0.5)
    group = _group(pid)
    assert len(group) == 2, "the app and its child, in a session of their own"
    t0 = time.monotonic()
    await asyncio.wait_for(service.stop(), 10)
    assert time.monotonic() - t0 < 5
    await asyncio.to_thread(wait_until, lambda: not _group(pid), 5, "the group to be gone")


def _group(pgid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(entry))
    return out


def test_serve_binds_loopback_unless_told_and_warns_plainly_when_told() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    quiet = banner("http://127.0.0.1:8000/", "127.0.0.1", 4)
    assert "runs scenario code on this machine" in quiet and "WARNING" not in quiet
    loud = banner("http://0.0.0.0:8000/", "0.0.0.0", 4)
    assert "WARNING: bound to 0.0.0.0, not loopback" in loud
    served = Served()  # no --host: loopback
    try:
        assert served.url.startswith("http://127.0.0.1:")
    finally:
        served.stop()


def test_a_port_in_use_is_one_clear_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tui_conc", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr.strip().splitlines()[-1]
