"""``tui-conc explore``: search a scenario's schedules and tell the smallest failing one."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tui_conc.engine import native
from tui_conc.engine.backends.thread import COOPERATIVE
from tui_conc.engine.runner import scenario_hash
from tui_conc.exploration.runs import NotExplorable, check_explorable
from tui_conc.exploration.schedule import Schedule, ScheduleError, load_schedule
from tui_conc.exploration.search import Exploration, explore
from tui_conc.exploration.story import story
from tui_conc.run_command import cannot_write
from tui_conc.scenario import ScenarioError, load_scenario, parse_assignments, resolve_knobs
from tui_conc.scenario import model as m

EXIT_OK, EXIT_FOUND, EXIT_INVALID = 0, 1, 2
#: Said wherever a controlled run is shown: its time is not the wall clock's.
VIRTUAL_TIME = "virtual time: sleeps and timeouts do not wait"


def challenge_knobs(scenario: m.Scenario, sets: list[str]) -> dict[str, Any]:
    """The knobs a controlled run uses: the challenge's, then ``--set``'s (raises ScenarioError)."""
    base = dict(scenario.challenge.set) if scenario.challenge else {}
    return resolve_knobs(scenario, {**base, **parse_assignments(sets)})


def cmd_explore(
    file: Path,
    sets: list[str],
    strategy: str,
    runs: int,
    bound: int,
    depth: int,
    max_steps: int,
    seed: int,
    goal: str | None,
    save: Path | None,
    as_json: bool,
    time_limit: float,
    show_progress: bool = False,
    knobs_json: str | None = None,
    backend: str | None = None,
    argv: list[str] | None = None,
) -> int:
    try:
        scenario = load_scenario(file)
        knobs = challenge_knobs(scenario, sets)
        if knobs_json is not None:
            knobs = resolve_knobs(scenario, json.loads(knobs_json))
        backend = backend or scenario.backend
        if backend not in scenario.supported:
            raise NotExplorable(f"it runs on {', '.join(scenario.supported)}, not {backend}")
        check_explorable(scenario, backend)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    except ValueError as exc:  # --knobs-json that is not JSON
        print(f"--knobs-json: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except NotExplorable as exc:
        print(f"{file}: cannot explore: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if goal is not None:
        problem = _goal_problem(scenario, goal)
        if problem:
            print(f"--goal: {problem}", file=sys.stderr)
            return EXIT_INVALID
    if backend in COOPERATIVE and not native.cooperative():
        return _in_patched_process(argv or [])
    if save is not None and cannot_write(save, "--save", "a"):
        return EXIT_INVALID
    deadline = time.monotonic() + time_limit
    shown = [0.0]

    def progress(out: Exploration) -> bool:
        now = time.monotonic()
        if show_progress and now - shown[0] >= 0.1:  # for the app's progress bar
            shown[0] = now
            print(f"progress {out.runs} {out.seconds:.3f}", file=sys.stderr, flush=True)
        elif not as_json and sys.stderr.isatty() and out.runs % 50 == 0:
            print(f"\r{out.runs:,} schedules …", end="", file=sys.stderr, flush=True)
        return now < deadline

    out = explore(
        scenario,
        str(file),
        knobs,
        strategy=strategy,
        runs=runs,
        max_steps=max_steps,
        seed=seed,
        bound=bound,
        depth=depth,
        goal=goal,
        progress=progress,
        backend=backend,
    )
    if out.stopped == "cancelled":
        out.stopped = f"--time-limit {time_limit:g} s reached"
    if not as_json and sys.stderr.isatty():
        print("\r" + " " * 30 + "\r", end="", file=sys.stderr)
    target = goal or (str(scenario.challenge.goal) if scenario.challenge else None)
    schedule = None
    if out.found is not None:
        result = out.found.result
        schedule = Schedule(
            scenario=str(file),
            scenario_sha256=scenario_hash(str(file)),
            knobs=knobs,
            choices=[result.names[c] for c in result.choices],
            found=out.found.reason,
            strategy=strategy,
            preemptions=result.preemptions,
            story=story(result),
            backend=backend,
        )
        if save is not None:
            schedule.save(save)
    if as_json:
        print(json.dumps(_as_json(out, schedule, target, knobs, backend), default=str))
    else:
        print(_as_text(scenario, file, out, schedule, target, knobs, save, backend))
    return EXIT_FOUND if out.found is not None else EXIT_OK


def _in_patched_process(argv: list[str]) -> int:
    """Explore on gevent in a child that gevent monkey-patches first (this process has
    imported threading unpatched); its output is this command's."""
    cmd = [sys.executable, "-m", "tui_conc.exploration.green", *argv]
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, check=False).returncode
    except KeyboardInterrupt:
        return 130


def _goal_problem(scenario: m.Scenario, goal: str) -> str:
    from tui_conc.scenario.expr import ExprError, compile_expr
    from tui_conc.state.expectations import EXPECT_FUNCTIONS

    try:
        compile_expr(goal, EXPECT_FUNCTIONS)
    except ExprError as exc:
        return str(exc)
    return ""


def _as_json(
    out: Exploration,
    schedule: Schedule | None,
    target: str | None,
    knobs: dict[str, Any],
    backend: str,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "backend": backend,
        "strategy": out.strategy,
        "goal": target,
        "knobs": knobs,
        "runs": out.runs,
        "seconds": round(out.seconds, 3),
        "found": out.found is not None,
        "exhausted": out.exhausted,
        "bound": out.bound,
        "stopped": out.stopped,
        "virtual_time": True,
    }
    if out.strategy == "pct":
        data.update(pct_depth=out.depth, pct_steps=out.steps_estimate, pct_bound=out.pct_bound)
    if schedule is not None and out.found is not None:
        data.update(
            reason=schedule.found,
            schedule=schedule.choices,
            preemptions=schedule.preemptions,
            steps=len(schedule.choices),
            story=schedule.story,
            found_at_run=out.found.run,
        )
    return data


def _as_text(
    scenario: m.Scenario,
    file: Path,
    out: Exploration,
    schedule: Schedule | None,
    target: str | None,
    knobs: dict[str, Any],
    save: Path | None,
    backend: str,
) -> str:
    how = (
        "on gevent, one switch at a time (a greenlet runs on until it sleeps or blocks)"
        if backend in COOPERATIVE
        else "on threads, one step at a time"
    )
    lines = [
        f"Exploring {scenario.title} ({file.name}) {how}; {VIRTUAL_TIME}",
        "knobs: " + " ".join(f"{k}={v}" for k, v in knobs.items()),
    ]
    if target is not None:
        text = (
            scenario.challenge.text
            if scenario.challenge and target == str(scenario.challenge.goal)
            else ""
        )
        lines.append(f"goal: {target}" + (f" — {text}" if text else ""))
    else:
        lines.append("looking for: a deadlock, a stall, a failed actor or a failed expectation")
    if out.strategy == "dfs":
        lines.append(f"strategy: dfs, preemption bound 0 … {out.bound}")
    elif out.strategy == "pct":
        lines.append(
            f"strategy: pct, bug depth d={out.depth}, n={out.actors} actors, "
            f"k={out.steps_estimate} steps: each run finds a depth-{out.depth} bug with "
            f"probability ≥ 1/(n·k^(d-1)) = {out.pct_bound:.3g}"
        )
    else:
        lines.append("strategy: random walk")
    lines.append("")
    if schedule is None or out.found is None:
        if out.exhausted:
            lines.append(
                f"no failing schedule among {out.runs:,} schedules, preemption bound "
                f"{out.bound} (every schedule within the bound was run, {out.seconds:.2f} s)"
            )
        else:
            why = out.stopped or "the search ended"
            cut = f"; {out.truncated:,} runs cut at the step limit" if out.truncated else ""
            lines.append(
                f"no failing schedule among {out.runs:,} schedules ({why}{cut}, "
                f"{out.seconds:.2f} s): not a proof"
            )
        return "\n".join(lines)
    lines.append(f"FOUND after {out.found.run:,} schedules ({out.seconds:.2f} s): {schedule.found}")
    lines.append(
        f"the smallest found: {schedule.preemptions} preemption"
        f"{'' if schedule.preemptions == 1 else 's'}, {len(schedule.choices)} steps"
    )
    width = len(str(len(schedule.story)))
    lines += [f"  {n:>{width}}. {line}" for n, line in enumerate(schedule.story, 1)]
    lines.append("schedule: " + " ".join(_short(schedule.choices)))
    if save is not None:
        lines.append(f"saved to {save}: replay it with  tui-conc run {file} --schedule {save}")
        lines.append(f"step through it in the app with  tui-conc replay {save}")
    else:
        lines.append("save it with --save FILE, replay it with tui-conc run FILE --schedule FILE")
    return "\n".join(lines)


def _short(names: list[str]) -> list[str]:
    """``worker-0`` → ``w0``, when the short names stay distinct."""
    short = {n: (n.split("-")[0][:1] + n.rsplit("-", 1)[1]) if "-" in n else n for n in names}
    return [short[n] for n in names] if len(set(short.values())) == len(short) else names


def schedule_for_run(file: Path, path: Path) -> tuple[Schedule, str]:
    """A saved schedule checked against the scenario file: (schedule, "") or a problem."""
    try:
        schedule = load_schedule(path)
    except ScheduleError as exc:
        return Schedule("", "", {}, []), str(exc)
    if schedule.scenario_sha256 and schedule.scenario_sha256 != scenario_hash(str(file)):
        return schedule, (
            f"{path}: the scenario changed since this schedule was saved ({file} is not the "
            "file it was found on)"
        )
    return schedule, ""
