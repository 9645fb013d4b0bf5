"""A schedule saved to a file: the scenario it belongs to, its knobs, its choices.

JSON, so a learner can read it and a teacher can hand one out::

    {"format": "tui-conc-schedule", "version": 1, "scenario": "race_counter.yaml",
     "scenario_sha256": "…", "knobs": {"workers": 2, …},
     "choices": ["worker-0", "worker-1", "worker-0", …], "found": "…"}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "tui-conc-schedule"
VERSION = 1
#: A schedule file larger than this is refused (a schedule is a list of names).
MAX_BYTES = 16 * 1024 * 1024


class ScheduleError(Exception):
    """A schedule file that cannot be used: one line, with the file."""


@dataclass
class Schedule:
    """What replays a controlled run exactly."""

    scenario: str
    scenario_sha256: str
    knobs: dict[str, Any]
    choices: list[str]
    found: str = ""
    strategy: str = ""
    preemptions: int = 0
    story: list[str] = field(default_factory=list)
    backend: str = "thread"  #: where it was found: on gevent a choice is a switch, not a step

    def save(self, path: Path) -> None:
        data = {"format": FORMAT, "version": VERSION, **asdict(self)}
        path.write_text(json.dumps(data, indent=1, default=str) + "\n")

    def indices(self, names: list[str]) -> list[int]:
        """The choices as actor indices of a run whose actors are ``names``."""
        where = {n: k for k, n in enumerate(names)}
        out = []
        for n, name in enumerate(self.choices):
            if name not in where:
                raise ScheduleError(f"step {n + 1}: no actor named {name!r} in this run")
            out.append(where[name])
        return out


def load_schedule(path: Path) -> Schedule:
    """Read a schedule file; :class:`ScheduleError` says what is wrong with it."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ScheduleError(f"{path}: larger than {MAX_BYTES // 2**20} MB: not a schedule")
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ScheduleError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ScheduleError(f"{path}: not a schedule (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ScheduleError(f"{path}: not a tui-conc schedule (no 'format: {FORMAT}')")
    if data.get("version") != VERSION:
        raise ScheduleError(
            f"{path}: schedule format version {data.get('version')!r}; "
            f"this tui-conc reads {VERSION}"
        )
    choices, knobs = data.get("choices"), data.get("knobs", {})
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise ScheduleError(f"{path}: 'choices' must be a list of actor names")
    if not isinstance(knobs, dict):
        raise ScheduleError(f"{path}: 'knobs' must be a mapping")
    backend = data.get("backend", "thread")
    if backend not in ("thread", "gevent"):
        raise ScheduleError(f"{path}: 'backend' must be thread or gevent, not {backend!r}")
    return Schedule(
        scenario=str(data.get("scenario", "")),
        scenario_sha256=str(data.get("scenario_sha256", "")),
        knobs=knobs,
        choices=choices,
        found=str(data.get("found", "")),
        strategy=str(data.get("strategy", "")),
        preemptions=int(data.get("preemptions", 0) or 0),
        backend=backend,
    )
