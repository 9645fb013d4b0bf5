"""The sizes a run builds (actor counts, permits, parties, maxsizes, workers), checked.

Every size may be an expression over knobs, so it is known only for a given set
of knob values: the loader checks the defaults (a problem is reported at the
option's line), ``resolve_knobs`` checks the values of ``--set`` or the knobs
form, and the backends take their sizes from here, so a run never meets a size
it cannot build (``int('abc')``) or should not (a billion threads).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tui_conc.scenario import model as m
from tui_conc.scenario.resources import Slot, evaluate, expand, family_size

#: At most this many copies of one actor, and actors in one run.
MAX_COPIES = 10_000
MAX_ACTORS = 20_000
#: At most this many processes in a run on processes (actors and pool workers).
MAX_PROCESSES = 256

#: (option, lowest, highest) of each resource type's whole-number sizes.
_WHOLE: dict[str, tuple[tuple[str, int, int], ...]] = {
    "semaphore": (("value", 0, 1_000_000),),
    "bounded_semaphore": (("value", 0, 1_000_000),),
    "barrier": (("parties", 1, 10_000),),
    "queue": (("maxsize", 0, 1_000_000_000),),
    "listener": (("backlog", 0, 4_096),),
    "http_server": (("size", 0, 16 * 1024 * 1024),),
    "pool": (("workers", 1, 64),),
}
#: (option, longest) of each resource type's durations, in seconds.
_SECONDS: dict[str, tuple[tuple[str, float], ...]] = {
    "http_server": (("delay", 3_600.0),),
    "lock": (("lease", 3_600.0),),  # on Dask (None: Dask's default)
    "semaphore": (("lease", 3_600.0),),
}


class SizeError(ValueError):
    """A size that is not a whole number or is out of its bounds; ``path`` is where it
    is written (``("resources", "q", "maxsize")``)."""

    def __init__(self, path: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _value(value: Any, knobs: Mapping[str, Any], path: tuple[str, ...], what: str) -> Any:
    try:
        return evaluate(value, knobs)
    except Exception as exc:  # an expression's own error, said on one line
        raise SizeError(path, f"{what}: {exc}") from None


def whole(
    value: Any, knobs: Mapping[str, Any], path: tuple[str, ...], what: str, low: int, high: int
) -> int:
    """``value`` (a number or an expression over knobs) as a whole number in [low, high]."""
    n = _value(value, knobs, path, what)
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if not isinstance(n, int) or isinstance(n, bool):
        raise SizeError(path, f"{what} must be a whole number, got {_short(n)}")
    if not low <= n <= high:
        raise SizeError(path, f"{what} must be between {low:,} and {high:,}, got {_short(n)}")
    return n


def seconds(
    value: Any, knobs: Mapping[str, Any], path: tuple[str, ...], what: str, high: float
) -> float:
    """``value`` as a number of seconds in [0, high]."""
    x = _value(value, knobs, path, what)
    if not isinstance(x, int | float) or isinstance(x, bool) or not 0 <= x <= high:
        raise SizeError(path, f"{what} must be between 0 and {high:g} seconds, got {_short(x)}")
    return float(x)


def copies(name: str, group: m.Actor, knobs: Mapping[str, Any]) -> int:
    """How many copies of actor ``name`` a run has."""
    path = ("actors", name, "count")
    return whole(group.count, knobs, path, f"actor {name!r}: count", 0, MAX_COPIES)


def is_daemon(name: str, group: m.Actor, knobs: Mapping[str, Any]) -> bool:
    """Are the copies of actor ``name`` daemon threads (or processes)?"""
    return bool(_value(group.daemon, knobs, ("actors", name, "daemon"), f"actor {name!r}: daemon"))


def resource_sizes(name: str, res: m.Resource, knobs: Mapping[str, Any]) -> dict[str, Any]:
    """Resource ``name``'s sizes for these knobs: ``{"value": 3}`` for a semaphore of
    three permits, ``{"maxsize": 0}`` for an unbounded queue, ``{}`` for a lock."""
    out: dict[str, Any] = {}
    for option, low, high in _WHOLE.get(res.type, ()):
        raw = getattr(res, option)
        if option == "value" and raw is None:
            raw = 1  # a semaphore's default
        path, what = ("resources", name, option), f"{res.type} {name!r}: {option}"
        out[option] = whole(raw, knobs, path, what, low, high)
    for option, high in _SECONDS.get(res.type, ()):
        path, what = ("resources", name, option), f"{res.type} {name!r}: {option}"
        raw = getattr(res, option)
        out[option] = None if raw is None else seconds(raw, knobs, path, what, high)
    return out


def built_resources(
    sc: m.Scenario, knobs: Mapping[str, Any]
) -> Iterator[tuple[Slot, dict[str, Any], dict[str, Any]]]:
    """Every resource a backend builds, in order: its slot (families expanded), its
    sizes, and the header's info about it as far as every backend has it (name, type,
    family)."""
    for slot in expand(sc, knobs):
        info: dict[str, Any] = {"name": slot.name, "type": slot.res.type}
        if slot.family is not None:
            info["family"] = slot.family
        yield slot, resource_sizes(slot.family or slot.name, slot.res, knobs), info


def check_processes(sc: m.Scenario, knobs: Mapping[str, Any], backend: str) -> None:
    """Raise :class:`SizeError` when a run on ``backend`` would start more than
    :data:`MAX_PROCESSES` processes (a Dask run's actors are tasks, not processes)."""
    if backend != "process":
        return
    total = 0
    for name, group in sc.actors.items():
        total += copies(name, group, knobs) if sc.in_process(name, backend) else 0
        if total > MAX_PROCESSES:
            message = f"a run on processes starts at most {MAX_PROCESSES}, this one {total:,}"
            raise SizeError(("actors", name, "count"), message)
    for name, res in sc.resources.items():
        total += resource_sizes(name, res, knobs)["workers"] if res.type == "pool" else 0
        if total > MAX_PROCESSES:
            message = f"a run on processes starts at most {MAX_PROCESSES}, this one {total:,}"
            raise SizeError(("resources", name, "workers"), message)


def check_sizes(sc: m.Scenario, knobs: Mapping[str, Any]) -> None:
    """Raise :class:`SizeError` for the first size of ``sc`` these knobs make unbuildable
    (on the scenario's own backend)."""
    total = 0
    for name, group in sc.actors.items():
        total += copies(name, group, knobs)
        is_daemon(name, group, knobs)
        if total > MAX_ACTORS:
            message = f"a run has at most {MAX_ACTORS:,} actors, this one {total:,}"
            raise SizeError(("actors", name, "count"), message)
    for name, res in sc.resources.items():
        if res.count is not None:
            try:
                family_size(res, knobs)
            except Exception as exc:
                message = f"{res.type} {name!r}: {exc}"
                raise SizeError(("resources", name, "count"), message) from None
        resource_sizes(name, res, knobs)
    check_processes(sc, knobs, sc.backend)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
