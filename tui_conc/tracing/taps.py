"""The program's ``sys.stdout`` / ``sys.stderr``: every line it writes becomes a LOG
event of the thread that wrote it (stderr lines marked so)."""

from __future__ import annotations

import _thread
import io
from collections.abc import Callable
from time import monotonic_ns
from typing import Any

from tui_conc.engine.wire import events as ev

#: A longer line is cut (the rest is dropped, and said so): bounded memory.
MAX_LINE = 4_000


class LineTap(io.TextIOBase):
    """A text stream that reports lines, not bytes; partial lines wait per thread."""

    def __init__(
        self, emit: Callable[[tuple[Any, ...]], None], actor: Callable[[], int], prefix: str = ""
    ) -> None:
        super().__init__()
        self._emit = emit
        self._actor = actor
        self.prefix = prefix
        self._partial: dict[int, str] = {}
        self.buffer = _BytesTap(self)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "replace"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        ident = _thread.get_ident()
        pending = self._partial.pop(ident, "") + text
        *lines, rest = pending.split("\n")
        for line in lines:
            self._line(line)
        if rest:
            if len(rest) > MAX_LINE:
                self._line(rest)
            else:
                self._partial[ident] = rest
        return len(text)

    def _line(self, line: str) -> None:
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE] + f" … ({len(line) - MAX_LINE:,} more characters)"
        self._emit((ev.LOG, self._actor(), -1, monotonic_ns(), self.prefix + line.rstrip("\r")))

    def flush(self) -> None:
        return None

    def close_lines(self) -> None:
        """At the end: every thread's unfinished line, as a line."""
        for ident in list(self._partial):
            rest = self._partial.pop(ident, "")
            if rest:
                self._line(rest)


class _BytesTap(io.RawIOBase):
    """``sys.stdout.buffer``: bytes written there are lines too."""

    def __init__(self, text: LineTap) -> None:
        super().__init__()
        self._text = text

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._text.write(chunk.decode("utf-8", errors="replace"))
        return len(chunk)
