"""Drive ``tui-conc serve`` from a real headless Chromium (Playwright): the tests and
``benchmarks/serve.py`` share this.

xterm.js draws the terminal on a canvas, so the page's text is read from the
terminal's own buffer: an init script catches the ``Terminal`` object as
textual-serve's page stores it (``this.terminal = …``) and counts its parsed
writes, which is how a changed frame is noticed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

#: How Chromium is started here: headless, and quiet on this machine's closed network.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Runs before the page's own script: keeps the xterm.js Terminal where a test can read it.
CATCH_TERMINAL = """
(() => {
  window.__tuiWrites = 0;
  Object.defineProperty(Object.prototype, "terminal", {
    configurable: true,
    set(value) {
      Object.defineProperty(this, "terminal", {
        value, writable: true, configurable: true, enumerable: true,
      });
      if (value && value.buffer && value.onWriteParsed && !window.__tuiTerm) {
        window.__tuiTerm = value;
        value.onWriteParsed(() => {
          window.__tuiWrites += 1;
          window.__tuiLastWrite = performance.now();
        });
      }
    },
  });
})();
"""

SCREEN_TEXT = """
() => {
  const t = window.__tuiTerm;
  if (!t) return "";
  const b = t.buffer.active, rows = [];
  for (let i = 0; i < t.rows; i++) {
    const line = b.getLine(b.viewportY + i);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}
"""


def chromium_path() -> str | None:
    """The system Chromium (``TUI_CONC_CHROMIUM`` overrides), or None."""
    found = os.environ.get("TUI_CONC_CHROMIUM")
    if found:
        return found if Path(found).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install -e '.[test]'"
    if chromium_path() is None:
        return (
            "no Chromium found: apt install chromium (Debian) or set TUI_CONC_CHROMIUM "
            "to a Chromium binary to run the browser tests"
        )
    return None


class Served:
    """A ``tui-conc serve`` process on a free loopback port."""

    def __init__(self, *args: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui_conc", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        self.lines: list[str] = []
        self.url = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if line.startswith("tui-conc serving on "):
                self.url = line.split()[-1]
                break
        if not self.url:
            self.stop()
            raise AssertionError("serve printed no URL:\n" + "\n".join(self.lines))
        self.seen: set[int] = set()  #: every process of ours seen under the server

    def descendants(self) -> set[int]:
        """The server's live descendants now, and every runner they started.

        An app's runner runs in a session of its own and outlives a killed app
        by a moment, so what was ever seen is remembered and asked about too.
        """
        from tui_conc.engine.memory import children_of

        now = set(_descendants(self.proc.pid, children_of))
        self.seen |= now
        return now

    def left(self) -> set[int]:
        """Every process once seen under the server that is still alive."""
        self.descendants()
        return {pid for pid in self.seen if _alive(pid)}

    def stop(self) -> str:
        """SIGTERM, as Ctrl+C would; returns what the server printed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            out, _ = self.proc.communicate()
            raise AssertionError("serve did not stop on SIGTERM") from None
        return "\n".join(self.lines) + "\n" + (out or "")


def _descendants(pid: int, children_of: Callable[[int], list[int]]) -> Iterator[int]:
    for child in children_of(pid):
        yield child
        yield from _descendants(child, children_of)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def browsers(n: int = 1) -> Iterator[list[Any]]:
    """``n`` headless system Chromiums (separate browser processes), driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        started: list[Any] = []
        try:
            for _ in range(n):
                started.append(
                    p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                )
            yield started
        finally:
            for chrome in started:
                chrome.close()


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    """A headless system Chromium, driven by Playwright."""
    with browsers(1) as (chrome,):
        yield chrome


def open_app(chrome: Any, url: str, width: int = 1400, height: int = 900) -> Any:
    """A new page (its own context: its own connection and app) on ``url``."""
    context = chrome.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.add_init_script(CATCH_TERMINAL)
    page.goto(url)
    return page


def screen(page: Any) -> str:
    """The terminal's text as the page shows it now."""
    return str(page.evaluate(SCREEN_TEXT))


def wait_for_text(page: Any, text: str, timeout: float = 30, gone: str | None = None) -> str:
    """The screen, once it shows ``text`` (spaces collapsed: a run of them is one),
    and no longer ``gone``."""
    wanted = " ".join(text.split())
    last = [""]

    def shown() -> str:
        last[0] = screen(page)
        flat = " ".join(last[0].split())
        return last[0] if wanted in flat and (gone is None or gone not in flat) else ""

    try:
        return str(wait_until(shown, timeout, f"{text!r} in the page"))
    except AssertionError as error:
        raise AssertionError(f"{error}; the page shows:\n{last[0]}") from None


def press(page: Any, *keys: str) -> None:
    """Press keys (Playwright's names: ``r``, ``Enter``, ``Control+p``) in the terminal.

    They go to xterm.js's hidden textarea: a click would be a mouse event for the app.
    """
    page.focus(".xterm-helper-textarea")
    for key in keys:
        page.keyboard.press(key)


def type_text(page: Any, text: str) -> None:
    """Type ``text`` into the terminal."""
    page.focus(".xterm-helper-textarea")
    page.keyboard.type(text)
