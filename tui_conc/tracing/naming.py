"""Where a traced program did something, and what a person would call what it made.

A resource is named by the variable its creating line assigns it to
(``mutexA = threading.Lock()`` → ``mutexA``), else by its type and place
(``Lock@script.py:12``). Objects made by the standard library for its own
use (a ``Queue``'s mutex, an ``Event``'s condition) are left alone: they
are the library's, not the program's.
"""

from __future__ import annotations

import linecache
import os
import re
import sys
import sysconfig
from types import FrameType

#: ``a = …``, ``self.a = …``, ``a, b = …``, ``a: Lock = …`` (not ``==``)
_ASSIGN = re.compile(r"^\s*((?:[A-Za-z_][\w.]*\s*,\s*)*[A-Za-z_][\w.]*)\s*(?::[^=]*)?=(?!=)")
#: ``with mp.Pool(2) as pool:`` (see :func:`_with_as`)
_WITH_AS = re.compile(r"^\s*(?:async\s+)?with\s+(.+)\s+as\s+([A-Za-z_]\w*)\s*:\s*(?:#.*)?$")


def _targets(text: str) -> list[str] | None:
    """The names a line binds what it makes to: ``a, b = …`` (the last part of
    ``self.a``), or a ``with`` of one context manager (``with Pool(2, ctx) as pool:``;
    not ``with a, b as c:``, where which one was made is unknown)."""
    match = _ASSIGN.match(text)
    if match:
        return [t.strip().rsplit(".", 1)[-1] for t in match.group(1).split(",")]
    match = _WITH_AS.match(text)
    if match is None:
        return None
    depth = 0
    for char in match.group(1):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            return None
    return [match.group(2)]


_OURS = os.path.dirname(os.path.abspath(__file__))
_STDLIB = os.path.abspath(sysconfig.get_paths()["stdlib"])
_SITE = tuple(
    os.path.abspath(p) for p in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
)
_TUI_CONC = os.path.dirname(_OURS)


def is_library(filename: str) -> bool:
    """Code of the standard library, of an installed package (gevent's own locks, a
    client library's) or of tui-conc itself: not the program's."""
    if filename.startswith(("<frozen", _TUI_CONC, *_SITE)):
        return True
    return filename.startswith(_STDLIB) or os.sep + "site-packages" + os.sep in filename


def caller(depth: int = 2, skip: tuple[str, ...] = ()) -> FrameType | None:
    """The first frame above ``depth`` that is not tui-conc's tracing code (nor in a
    file ending as one of ``skip``: a factory that only passes the call on)."""
    try:
        frame: FrameType | None = sys._getframe(depth)
    except ValueError:
        return None
    while frame is not None and (
        frame.f_code.co_filename.startswith(_OURS)
        or (skip and frame.f_code.co_filename.endswith(skip))
    ):
        frame = frame.f_back
    return frame


def made_by_program(depth: int = 3, skip: tuple[str, ...] = ()) -> bool:
    """Is the object being made now the program's (not the library's own)?"""
    frame = caller(depth, skip)
    return frame is not None and not is_library(frame.f_code.co_filename)


def program_frame(depth: int = 2) -> FrameType | None:
    """The innermost frame of the program's own code (past threading, queue…)."""
    frame = caller(depth)
    while frame is not None and is_library(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


class Namer:
    """Names for resources, unique within the run, and numbered places ("sites")."""

    def __init__(self, main_file: str) -> None:
        self.main_file = os.path.abspath(main_file) if main_file else ""
        self.used: dict[str, int] = {}
        self.made_at: dict[tuple[str, int], int] = {}

    def name(self, label: str, frame: FrameType | None, joined: bool = False) -> str:
        """The name of what ``frame``'s line makes: the variable it is assigned to (the
        nth of several targets for the nth made there; all of them, ``a/b``, when
        ``joined``), else ``label@file:line``; unique in the run."""
        return self.unique(self.base(label, frame, joined))

    def base(self, label: str, frame: FrameType | None, joined: bool = False) -> str:
        """:meth:`name`, before it is made unique (a child process asks the runner)."""
        if frame is None:
            return label
        filename, line = frame.f_code.co_filename, frame.f_lineno
        key = (filename, line)
        nth = self.made_at.get(key, 0)
        self.made_at[key] = nth + 1
        targets = _targets(linecache.getline(filename, line))
        if targets:
            if joined:
                base = "/".join(targets)
            else:
                base = targets[nth % len(targets)] if len(targets) > 1 else targets[0]
        else:
            base = f"{label}@{os.path.basename(filename)}:{line}"
        return base

    def unique(self, base: str) -> str:
        """``base``, or ``base#2``, ``base#3``… once it is taken."""
        n = self.used.get(base, 0) + 1
        self.used[base] = n
        return base if n == 1 else f"{base}#{n}"

    def place(self, frame: FrameType | None) -> tuple[int, str]:
        """(line, text) of a place in the program: its source line, with the file's
        name when it is not the script's."""
        if frame is None:
            return 0, "(unknown place)"
        filename, line = frame.f_code.co_filename, frame.f_lineno
        text = linecache.getline(filename, line).strip() or frame.f_code.co_name
        if len(text) > 60:
            text = text[:59] + "…"
        if os.path.abspath(filename) != self.main_file:
            text = f"{os.path.basename(filename)}: {text}"
        return line, text
