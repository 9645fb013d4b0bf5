"""Trace files: a run's stream saved to disk, read back merged as it was live.

A trace may come from anywhere (a file someone sent), so everything in it is
checked before the fold sees it: the header's shape, and every event's kind,
length and indices. A trace cut short or corrupted part-way is read up to its
last good frame, and says what went wrong after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_conc.engine.wire import events as ev
from tui_conc.engine.wire.codec import FORMAT, VERSION, TraceError, iter_raw_frames
from tui_conc.engine.wire.merge import merged

#: Kinds whose third item is a resource index (the fold looks it up).
_ON_RESOURCE = frozenset(
    {
        ev.ACQUIRED,
        ev.RELEASED,
        ev.PUT,
        ev.GOT,
        ev.TASK_DONE,
        ev.FULL,
        ev.EMPTY,
        ev.SET,
        ev.CLEAR,
        ev.NOTIFY,
        ev.READ,
        ev.WRITE,
        ev.STORED,
        ev.APPENDED,
        ev.GOT_ITEM,
        ev.HOLDS,
        ev.LEASE,
        ev.LEASE_EXPIRED,
    }
)
_ON_POOL = frozenset({ev.SUBMIT, ev.TASK_BEGIN, ev.TASK_END, ev.POOL_CLOSE, ev.POOL_TERMINATE})
_ON_SOCKET = frozenset({ev.SOCK_CLOSE, ev.SENT, ev.RECEIVED, ev.IO_MISS})
#: The least length of each timed kind (kind, actor, res, t, *args).
_LENGTH = {
    ev.ACTOR_START: 5,
    ev.OFFER: 6,
    ev.WAIT: 7,
    ev.WAKE: 5,
    ev.SLEEP: 6,
    ev.COMPUTE: 6,
    ev.GOT_ITEM: 5,
    ev.NOTIFY: 5,
    ev.READ: 5,
    ev.WRITE: 5,
    ev.LOG: 5,
    ev.STORED: 6,
    ev.APPENDED: 5,
    ev.HOLDS: 5,
    ev.LEASE: 5,
    ev.LEASE_EXPIRED: 6,
    ev.SOCK_OPEN: 7,
    ev.SENT: 5,
    ev.RECEIVED: 5,
    ev.SELECTED: 7,
    ev.HUB: 5,
    ev.HUB_BLOCKED: 5,
    ev.SUBMIT: 6,
    ev.TASK_BEGIN: 5,
    ev.TASK_END: 7,
    ev.END: 4,
    ev.ERROR: 5,
}


@dataclass(frozen=True)
class Trace:
    """A trace as read: its header, its good events, and what stopped the reading."""

    header: dict[str, Any]
    events: list[tuple[Any, ...]]
    problem: str | None = None  #: None for a whole trace


def load_trace(path: str | Path) -> Trace:
    """Read a trace up to its last good frame; raise TraceError only when not even its
    header is good (a version mismatch, or not a trace at all)."""
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise TraceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:
        frames = merged(iter_raw_frames(fh))
        try:
            header = next(frames, (b"", None))[1]
        except (TraceError, TypeError, ValueError, IndexError, KeyError) as exc:
            raise TraceError(f"{path}: not a tui-conc trace ({exc})") from None
        check_header(header, str(path))
        checker = EventChecker(header)
        events: list[tuple[Any, ...]] = []
        problem = None
        try:
            for _, batch in frames:
                if not isinstance(batch, list):
                    raise TraceError("a frame after the header is not a list of events")
                for e in batch:
                    checker.check(e)
                events.extend(batch)
        except (TraceError, TypeError, ValueError, IndexError, KeyError) as exc:
            problem = f"read up to event {len(events):,}: then {exc}"
    return Trace(header, events, problem)


def read_trace(path: str | Path) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """A whole trace file: its header and all its events (TraceError if it is damaged)."""
    trace = load_trace(path)
    if trace.problem is not None:
        raise TraceError(f"{path}: {trace.problem}")
    return trace.header, trace.events


def check_header(header: Any, where: str) -> None:
    """A header the fold can build its state from, or TraceError saying why not."""
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise TraceError(f"{where}: not a tui-conc trace")
    version = header.get("version")
    if version != VERSION:
        raise TraceError(
            f"{where}: a trace of format version {version!r}; this tui-conc reads version {VERSION}"
        )
    for key, fields in (("actors", ("name",)), ("resources", ("name", "type"))):
        items = header.get(key, [])
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and all(isinstance(i.get(f), str) for f in fields) for i in items
        ):
            raise TraceError(f"{where}: a damaged header ({key})")
    if not isinstance(header.get("t0", 0), int) or not isinstance(header.get("steps", []), list):
        raise TraceError(f"{where}: a damaged header (t0 or steps)")


class EventChecker:
    """Is an event one the fold can take: a known kind, long enough, its indices in range?"""

    def __init__(self, header: dict[str, Any]) -> None:
        self.actors = len(header.get("actors", []))
        resources = header.get("resources", [])
        self.resources = len(resources)
        self.pools = {i for i, r in enumerate(resources) if r.get("type") == "pool"}
        self.sockets: set[int] = set()

    def check(self, e: Any) -> None:
        if not isinstance(e, tuple) or len(e) < 3 or e[0] not in ev.NAMES:
            raise TraceError(f"an event that is not one: {e!r:.80}")
        kind, actor, res = e[0], e[1], e[2]
        if kind in (ev.ACTOR_NEW, ev.RESOURCE_NEW, ev.SITE_NEW):
            self._new(e)
            return
        if not isinstance(actor, int) or not -1 <= actor < self.actors:
            raise TraceError(f"an event of an unknown actor: {e!r:.80}")
        if not isinstance(res, int):
            raise TraceError(f"an event with a bad index: {e!r:.80}")
        if kind >= ev.CLOCK and (
            len(e) < max(_LENGTH.get(kind, 4), 4) or not isinstance(e[3], int)
        ):
            raise TraceError(f"a damaged {ev.NAMES[kind]} event: {e!r:.80}")
        if kind in _ON_RESOURCE and not 0 <= res < self.resources:
            raise TraceError(f"an event on an unknown resource: {e!r:.80}")
        if kind in _ON_POOL and res not in self.pools:
            raise TraceError(f"a pool event on something that is not a pool: {e!r:.80}")
        if kind == ev.SOCK_OPEN:
            self.sockets.add(res)
        elif kind in _ON_SOCKET and res not in self.sockets:
            raise TraceError(f"an event on an unknown socket: {e!r:.80}")
        elif kind == ev.WAIT:
            self._wait(e)
        elif kind == ev.HOLDS and (not isinstance(e[4], int) or e[4] < 0):
            raise TraceError(f"a damaged HOLDS event: {e!r:.80}")
        elif kind == ev.OFFER:
            options = e[4]
            if not isinstance(options, list | tuple) or not all(
                isinstance(o, list | tuple)
                and len(o) == 3
                and isinstance(o[0], int)
                and 0 <= o[0] < self.actors
                and isinstance(o[1], int)
                for o in options
            ):
                raise TraceError(f"a damaged OFFER event: {e!r:.80}")
        elif kind == ev.SELECTED and res >= self.resources:
            raise TraceError(f"a select on an unknown selector: {e!r:.80}")

    def _new(self, e: tuple[Any, ...]) -> None:
        """An actor, resource or place of a traced program, met mid-run: the next index."""
        kind = e[0]
        if len(e) < {ev.ACTOR_NEW: 7, ev.RESOURCE_NEW: 5, ev.SITE_NEW: 6}[kind] or not isinstance(
            e[3], int
        ):
            raise TraceError(f"a damaged {ev.NAMES[kind]} event: {e!r:.80}")
        if kind == ev.ACTOR_NEW:
            if e[1] != self.actors or not isinstance(e[4], str):
                raise TraceError(f"a new actor out of order: {e!r:.80}")
            self.actors += 1
        elif kind == ev.RESOURCE_NEW:
            info = e[4]
            if (
                e[2] != self.resources
                or not isinstance(info, dict)
                or not isinstance(info.get("name"), str)
                or not isinstance(info.get("type"), str)
            ):
                raise TraceError(f"a new resource out of order: {e!r:.80}")
            self.resources += 1
        elif not isinstance(e[4], int) or not isinstance(e[5], str):
            raise TraceError(f"a damaged SITE_NEW event: {e!r:.80}")

    def _wait(self, e: tuple[Any, ...]) -> None:
        how, res = e[5], e[2]
        if how not in ev.WAIT_HOWS or not (e[6] is None or isinstance(e[6], int | float)):
            raise TraceError(f"a damaged WAIT event: {e!r:.80}")
        if how in ("join", "switch", "await"):
            ok = 0 <= res < self.actors
        elif how == "future":
            ok = res == -1
        elif how in ev.IO_HOWS:
            ok = True
        else:
            ok = 0 <= res < self.resources
        if not ok:
            raise TraceError(f"a WAIT on something unknown: {e!r:.80}")
