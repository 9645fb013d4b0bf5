"""Load a scenario file: YAML → typed models → checked references.

Every problem becomes one :class:`ScenarioError` that prints as
``file:line: message``; nothing here raises anything else for bad input.
"""

from __future__ import annotations

import difflib
import math
import re
import stat
from collections.abc import Mapping
from pathlib import Path as FsPath
from typing import Any

import msgspec
import yaml

from tui_conc.scenario import model as m
from tui_conc.scenario.expr import ExprError, compile_expr, compile_template
from tui_conc.scenario.functions import ACTOR_NAMES, EXPECT_FUNCTIONS, EXPECT_NAMES, STEP_FUNCTIONS
from tui_conc.scenario.process_checks import (
    check_child_steps,
    check_dask,
    check_process_resources,
    task_args,
)
from tui_conc.scenario.resources import family_ref
from tui_conc.scenario.sizes import SizeError, check_sizes
from tui_conc.scenario.yaml_source import NOT_TEXT as _NOT_TEXT
from tui_conc.scenario.yaml_source import Path, YamlDocument, YamlError, read_yaml

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = ACTOR_NAMES | EXPECT_NAMES | {"true", "false", "none", "True", "False", "None"}
_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_AT_KEY = re.compile(r" - at `key` in `\$(?P<path>[^`]*)`$")
_PART = re.compile(r"\.(\w+)|\[(\d+)\]")
_STEP_CHECK_FUNCS = {name: (lambda env, *a: None) for name in STEP_FUNCTIONS}
_EXPECT_CHECK_FUNCS = {name: (lambda env, *a: None) for name in EXPECT_FUNCTIONS}


#: A scenario file is at most this big (a lesson is a few kilobytes).
MAX_FILE_BYTES = 1 << 20


class ScenarioError(Exception):
    """A problem in a scenario file, at a line: always one line of text."""

    def __init__(self, file: str, line: int, message: str) -> None:
        message = " ".join(message.split()) if "\n" in message or "\r" in message else message
        super().__init__(f"{file}:{line}: {message}")
        self.file = file
        self.line = line
        self.message = message


class _Problem(Exception):
    def __init__(self, path: Path, message: str, *, key: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.key = key


def load_scenario(path: str | FsPath) -> m.Scenario:
    """Read, validate and check one scenario file."""
    file = str(path)
    try:
        text = _read_text(FsPath(path))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ScenarioError(file, 1, f"cannot read the file: {exc}") from None
    return parse_scenario(text, file)


def _read_text(path: FsPath) -> str:
    """The file's text: a regular file of at most MAX_FILE_BYTES (a FIFO would hang, a
    device never end)."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("not a regular file")
    with path.open("rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES // 1024:,} KiB")
    return data.decode("utf-8")


def parse_scenario(text: str, file: str = "<text>") -> m.Scenario:
    """Validate scenario ``text``; ``file`` names it in errors."""
    lines = max(text.count("\n") + (not text.endswith("\n")), 1)
    try:
        doc = read_yaml(text)
    except YamlError as exc:
        raise ScenarioError(file, min(max(exc.line, 1), lines), exc.message) from None
    try:
        scenario = _build(doc)
        _check(scenario)
    except _Problem as problem:
        line = doc.key_line(problem.path) if problem.key else doc.line_of(problem.path)
        raise ScenarioError(file, min(max(line, 1), lines), problem.message) from None
    except (RecursionError, MemoryError):
        raise ScenarioError(file, 1, "the scenario is nested too deeply") from None
    return scenario


# ---------------------------------------------------------------- building


def _convert(raw: Any, cls: type[Any], path: Path) -> Any:
    try:
        return m.convert(raw, cls)
    except msgspec.ValidationError as exc:
        problem = _translate(str(exc), path)
        if problem.message.startswith("unknown option") and len(problem.path) == len(path) + 1:
            options = [f.encode_name for f in msgspec.structs.fields(cls)]
            options = [o for o in options if not o.startswith("__")]
            problem.message += _suggest(problem.path[-1], options, "options", options)
        raise problem from None


def _translate(message: str, base: Path) -> _Problem:
    path = base
    at_key = _AT_KEY.search(message)
    if at_key:  # a key that is not text (``500:``): at the key itself
        for key, index in _PART.findall(at_key.group("path")):
            path = (*path, key if key else int(index))
        return _Problem((*path, _NOT_TEXT), "names must be text: this key is not", key=True)
    at = _AT.search(message)
    if at:
        message = message[: at.start()]
        for key, index in _PART.findall(at.group("path")):
            path = (*path, key if key else int(index))
    unknown = re.match(r"Object contains unknown field `(.+)`", message)
    if unknown:
        return _Problem((*path, unknown.group(1)), f"unknown option {unknown.group(1)!r}", key=True)
    missing = re.match(r"Object missing required field `(.+)`", message)
    if missing:
        return _Problem(path, f"missing {missing.group(1)!r}")
    where = _dotted(path)
    message = message.replace("`", "").replace("Expected", "expected")
    message = message.replace("object", "mapping").replace("array", "list")
    return _Problem(path, f"{where}: {message}" if where else message)


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _build(doc: YamlDocument) -> m.Scenario:
    data = doc.data
    if not isinstance(data, dict):
        raise _Problem((), "a scenario must be a mapping with title, chapter, actors, …")
    top = dict(data)
    knobs = _entries(top.pop("knobs", {}), ("knobs",), _knob)
    resources = _entries(top.pop("resources", {}), ("resources",), _resource)
    actors = _entries(top.pop("actors", None), ("actors",), lambda raw, p: _actor(raw, p, doc))
    tasks = _entries(top.pop("tasks", {}), ("tasks",), lambda raw, p: _task(raw, p, doc))
    expect = top.pop("expect", [])
    if not isinstance(expect, list):
        raise _Problem(("expect",), "expect: expected a list of expectations")
    expectations = [_expectation(e, ("expect", n), doc) for n, e in enumerate(expect)]
    challenge = _challenge(top.pop("challenge", None), doc)
    top["actors"] = {}
    head = _convert(top, m.Scenario, ())
    if not actors:
        where = "actors" in data
        message = "a scenario needs at least one actor" + ("" if where else " (no 'actors:')")
        raise _Problem(("actors",), message, key=where)
    return msgspec.structs.replace(
        head,
        knobs=knobs,
        resources=resources,
        actors=actors,
        tasks=tasks,
        expect=expectations,
        challenge=challenge,
    )


def _challenge(raw: Any, doc: YamlDocument) -> m.Challenge | None:
    if raw is None:
        return None
    raw = {"goal": raw} if isinstance(raw, str | bool) else raw
    if isinstance(raw, dict):
        raw = {**raw, "__line__": doc.line_of(("challenge",))}
    return _convert(raw, m.Challenge, ("challenge",))


def _expectation(raw: Any, path: Path, doc: YamlDocument) -> m.Expectation:
    raw = {"that": raw} if isinstance(raw, str | bool | int | float) else raw
    if isinstance(raw, dict):
        raw = {**raw, "__line__": doc.line_of(path)}
    return _convert(raw, m.Expectation, path)


def _suggest(word: Any, known: Any, what: str = "steps", listed: Any = None) -> str:
    """A hint for a near miss (" — did you mean 'sleep'?"), else what there is."""
    close = difflib.get_close_matches(str(word), list(known), n=2, cutoff=0.6)
    if close:
        return " — did you mean " + " or ".join(repr(c) for c in close) + "?"
    if listed is not None:
        return f" ({what}: {', '.join(listed)})" if listed else f" (it takes no {what})"
    return " (see the step table in the README: acquire, with, sleep, log, put, get, …)"


def _entries(raw: Any, path: Path, build: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _Problem(path, f"{path[0]}: expected a mapping of names")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not _IDENT.match(name):
            raise _Problem((*path, name), f"bad name {name!r}: use letters, digits and _", key=True)
        if name in _RESERVED:
            raise _Problem((*path, name), f"{name!r} is a reserved name", key=True)
        out[name] = build(value, (*path, name))
    return out


def _knob(raw: Any, path: Path) -> m.Knob:
    return _convert(raw if isinstance(raw, dict) else {"default": raw}, m.Knob, path)


def _resource(raw: Any, path: Path) -> m.Resource:
    raw = {"type": raw} if isinstance(raw, str) else raw
    if isinstance(raw, dict) and isinstance(raw.get("type"), str):
        kind = raw["type"]
        if kind not in m.RESOURCE_OPTIONS:
            hint = _suggest(kind, m.RESOURCE_OPTIONS, "types", list(m.RESOURCE_OPTIONS))
            raise _Problem((*path, "type"), f"unknown resource type {kind!r}{hint}")
    if isinstance(raw, dict) and raw.get("type") in m.RESOURCE_OPTIONS:
        kind = raw["type"]
        allowed = m.RESOURCE_OPTIONS[kind]
        for key in raw:
            if key != "type" and key not in allowed:
                takes = f"it takes {', '.join(allowed)}" if allowed else "it takes no options"
                article = "an" if kind[0] in "aeiou" else "a"
                raise _Problem(
                    (*path, key), f"{key!r} does not apply to {article} {kind} ({takes})", key=True
                )
    return _convert(raw, m.Resource, path)


def _actor(raw: Any, path: Path, doc: YamlDocument) -> m.Actor:
    actor = _convert(raw, m.Actor, path)
    return msgspec.structs.replace(actor, steps=_steps(actor.steps, (*path, "steps"), doc))


def _task(raw: Any, path: Path, doc: YamlDocument) -> m.Task:
    task = _convert(raw, m.Task, path)
    return msgspec.structs.replace(task, steps=_steps(task.steps, (*path, "steps"), doc))


def _steps(raw: Any, path: Path, doc: YamlDocument) -> list[m.Step]:
    if not isinstance(raw, list):
        raise _Problem(path, f"{_dotted(path)}: expected a list of steps")
    return [_step(item, (*path, n), doc) for n, item in enumerate(raw)]


def _step(raw: Any, path: Path, doc: YamlDocument) -> m.Step:
    if raw == "break":
        raw = {"break": None}
    if not isinstance(raw, dict):
        raise _Problem(path, f"a step must be a mapping like 'sleep: 1', not {raw!r}")
    kind = next((k for k in raw if k in m.STEP_TYPES), None)
    if kind is None:
        first = next(iter(raw), "")
        raise _Problem(
            (*path, first), f"unknown step {first!r}{_suggest(first, m.STEP_TYPES)}", key=True
        )
    raw = dict(raw)
    for key in m.NESTED.get(kind, ()):
        if raw.get(key) is not None:
            raw[key] = _steps(raw[key], (*path, key), doc)
    raw["__line__"] = doc.line_of(path)
    return _convert(raw, m.STEP_TYPES[kind], path)


# ---------------------------------------------------------------- checking


def _check(sc: m.Scenario) -> None:
    if sc.backends and sc.backend not in sc.backends:
        raise _Problem(("backends",), f"backends must include the backend {sc.backend!r}")
    variables = {n for n, r in sc.resources.items() if r.type in ("variable", "dict", "list")}
    knob_names = set(sc.knobs)
    for name in sc.actors:
        if name in sc.resources or name in sc.knobs:
            raise _Problem(("actors", name), f"{name!r} names both an actor and a resource or knob")
    for name in sc.resources:
        if name in sc.knobs:
            raise _Problem(("resources", name), f"{name!r} names both a resource and a knob")
    for name, knob in sc.knobs.items():
        _check_knob_range(name, knob, knob.default, ("knobs", name))
    ends = check_process_resources(sc, _Problem)
    base = knob_names | set(sc.resources) | ACTOR_NAMES | ends
    for name, res in sc.resources.items():
        path = ("resources", name)
        if res.type == "listener":
            _expr(res.backlog, knob_names, (*path, "backlog"))
        if res.type == "http_server":
            _expr(res.delay, knob_names, (*path, "delay"))
            _expr(res.size, knob_names, (*path, "size"))
        if res.type == "condition" and res.lock is not None:
            target = sc.resources.get(res.lock)
            if target is None or target.type not in ("lock", "rlock") or target.count is not None:
                raise _Problem((*path, "lock"), f"condition {name!r}: {res.lock!r} is not a lock")
        if res.type in ("semaphore", "bounded_semaphore"):
            _expr(res.value if res.value is not None else 1, knob_names, (*path, "value"))
        if res.type in ("variable", "event", "dict", "list") and isinstance(res.value, str):
            _expr(res.value, knob_names, (*path, "value"))  # an initial value over knobs
        if res.count is not None:
            _expr(res.count, knob_names, (*path, "count"))
        if res.type == "barrier":
            _expr(res.parties, knob_names, (*path, "parties"))
        if res.type == "queue":
            _expr(res.maxsize, knob_names, (*path, "maxsize"))
    passed = _start_args(sc)
    for name, actor in sc.actors.items():
        path = ("actors", name)
        _expr(actor.count, knob_names, (*path, "count"))
        _expr(actor.daemon, knob_names, (*path, "daemon"))
        names = base | _bound_names(actor.steps) | passed.get(name, set())
        _check_steps(sc, actor.steps, (*path, "steps"), names, in_loop=False)
    for name, task in sc.tasks.items():
        names = base | _bound_names(task.steps) | task_args(sc, name)
        _check_steps(sc, task.steps, ("tasks", name, "steps"), names, in_loop=False)
    check_child_steps(sc, _Problem)
    check_dask(sc, _Problem)
    started = _started(sc)
    for name, actor in sc.actors.items():
        if not actor.autostart and name not in started:
            raise _Problem(
                ("actors", name), f"actor {name!r} has autostart: false but no start step"
            )
    expect_names = knob_names | variables | set(sc.resources) | set(sc.actors) | EXPECT_NAMES
    for n, exp in enumerate(sc.expect):
        _expr(exp.that, expect_names, ("expect", n, "that"), _EXPECT_CHECK_FUNCS)
        if exp.when is not None:
            _expr(exp.when, expect_names, ("expect", n, "when"), _EXPECT_CHECK_FUNCS)
    if sc.challenge is not None:
        _expr(sc.challenge.goal, expect_names, ("challenge", "goal"), _EXPECT_CHECK_FUNCS)
        for name, value in sc.challenge.set.items():
            if name not in sc.knobs:
                raise _Problem(
                    ("challenge", "set", name),
                    f"challenge.set: no knob named {name!r}"
                    + _suggest(name, sc.knobs, "knobs", list(sc.knobs)),
                    key=True,
                )
            _check_knob_range(name, sc.knobs[name], value, ("challenge", "set", name))
    try:  # the sizes a run with the default knobs builds
        check_sizes(sc, {name: knob.default for name, knob in sc.knobs.items()})
    except SizeError as problem:
        raise _Problem(problem.path, problem.message) from None


def _check_knob_range(name: str, knob: m.Knob, value: Any, path: Path) -> None:
    if knob.choices is not None and value not in knob.choices:
        listed = ", ".join(str(c) for c in knob.choices)
        raise _Problem(path, f"knob {name!r} is one of {listed}, not {_shown(value)}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if knob.min is not None and value < knob.min:
            raise _Problem(path, f"knob {name!r}: {value} is below its minimum {knob.min:g}")
        if knob.max is not None and value > knob.max:
            raise _Problem(path, f"knob {name!r}: {value} is above its maximum {knob.max:g}")


def _bound_names(steps: list[m.Step]) -> set[str]:
    out: set[str] = set()
    for step in steps:
        name = getattr(step, "as_", None)
        if name:
            out.add(name)
        if isinstance(step, m.Let):
            out |= set(step.let)
        for key in m.NESTED.get(m.STEP_KIND[type(step)], ()):
            attr = {"do": "do", "then": "then", "else": "else_"}.get(key, key)
            out |= _bound_names(getattr(step, attr) or [])
    return out


def _start_args(sc: m.Scenario) -> dict[str, set[str]]:
    """Group → the names its copies receive from ``start: group, args: {…}`` steps."""
    out: dict[str, set[str]] = {}

    def walk(steps: list[m.Step]) -> None:
        for step in steps:
            if isinstance(step, m.Start) and step.args:
                out.setdefault(step.start, set()).update(step.args)
            for key in m.NESTED.get(m.STEP_KIND[type(step)], ()):
                walk(getattr(step, {"else": "else_"}.get(key, key)) or [])

    for actor in sc.actors.values():
        walk(actor.steps)
    return out


def _started(sc: m.Scenario) -> set[str]:
    out: set[str] = set()

    def walk(steps: list[m.Step]) -> None:
        for step in steps:
            if isinstance(step, m.Start):
                out.add(step.start)
            for key in m.NESTED.get(m.STEP_KIND[type(step)], ()):
                walk(getattr(step, {"else": "else_"}.get(key, key)) or [])

    for actor in sc.actors.values():
        walk(actor.steps)
    return out


#: Step options whose values are expressions.
_EXPR_OPTIONS = (
    "timeout",
    "n",
    "item",
    "value",
    "compute",
    "repeat",
    "while_",
    "if_",
    "send",
    "data",
    "recv",
    "size",
    "close",
    "select",
    "sock",
    "each",
    "key",
    "items",
)

_NEEDS: dict[str, tuple[frozenset[str], str]] = {
    "acquire": (m.LOCKLIKE, "a lock, rlock, semaphore or condition"),
    "release": (m.LOCKLIKE, "a lock, rlock, semaphore or condition"),
    "with": (m.LOCKLIKE, "a lock, rlock, semaphore or condition"),
    "wait": (frozenset({"event", "condition", "barrier"}), "an event, condition or barrier"),
    "set": (frozenset({"event"}), "an event"),
    "clear": (frozenset({"event"}), "an event"),
    "notify": (frozenset({"condition"}), "a condition"),
    "notify_all": (frozenset({"condition"}), "a condition"),
    "put": (frozenset({"queue"}), "a queue"),
    "get": (frozenset({"queue"}), "a queue"),
    "task_done": (frozenset({"queue"}), "a queue"),
    "read": (frozenset({"variable", "dict", "list"}), "a shared variable, dict or list"),
    "write": (frozenset({"variable"}), "a shared variable"),
    "accept": (frozenset({"listener"}), "a listener"),
    "connect": (frozenset({"listener"}), "a listener"),
    "register": (frozenset({"selector"}), "a selector"),
    "fetch": (frozenset({"http_server"}), "an http_server"),
    "unregister": (frozenset({"selector"}), "a selector"),
    "update": (frozenset({"dict"}), "a dict"),
    "append": (frozenset({"list"}), "a list"),
    "submit": (frozenset({"pool"}), "a pool"),
    "map": (frozenset({"pool"}), "a pool"),
    "terminate": (frozenset({"pool"}), "a pool"),
}


def _check_steps(
    sc: m.Scenario, steps: list[m.Step], path: Path, names: set[str], *, in_loop: bool
) -> None:
    for n, step in enumerate(steps):
        here = (*path, n)
        kind = m.STEP_KIND[type(step)]
        target = getattr(step, {"with": "with_"}.get(kind, kind), None)
        if kind in _NEEDS:
            allowed, what = _NEEDS[kind]
            res = _target(sc, kind, target, here, names)
            if res is None:
                raise _Problem((*here, kind), f"{kind}: unknown resource {target!r}{_known(sc)}")
            if res.type not in allowed:
                raise _Problem((*here, kind), f"{kind}: {target!r} is a {res.type}, not {what}")
        elif kind == "join":
            res = _target(sc, kind, target, here, names)
            if (res is None or res.type not in ("queue", "pool")) and target not in sc.actors:
                raise _Problem(
                    (*here, kind), f"join: {target!r} is neither an actor, a queue nor a pool"
                )
        elif kind == "start":
            if target not in sc.actors:
                raise _Problem((*here, kind), f"start: unknown actor {target!r}")
            if sc.actors[target].autostart:
                raise _Problem(
                    (*here, kind),
                    f"start: actor {target!r} starts by itself (set autostart: false)",
                )
        elif kind == "switch":
            if target not in sc.actors:
                raise _Problem((*here, kind), f"switch: unknown actor {target!r}")
            if sc.backend != "greenlet":
                raise _Problem((*here, kind), "switch needs backend: greenlet")
        elif kind == "break" and not in_loop:
            raise _Problem(here, "break outside a repeat or while loop")
        if kind in ("submit", "map") and step.task not in sc.tasks:  # type: ignore[union-attr]
            known = ", ".join(sc.tasks) or "none declared"
            raise _Problem((*here, "task"), f"{kind}: unknown task {step.task!r} (tasks: {known})")  # type: ignore[union-attr]
        for key in _EXPR_OPTIONS:
            value = getattr(step, key, None)
            if value is None:
                continue
            if key == "select" and isinstance(value, str):
                res = sc.resources.get(value)
                if res is not None and res.type == "selector":
                    continue  # select on a selector resource
            _expr(value, names, (*here, key.rstrip("_")))
        if isinstance(step, m.Start | m.Submit) and step.args:
            for key, value in step.args.items():
                if not _IDENT.match(key):
                    raise _Problem((*here, "args", key), f"bad name {key!r}", key=True)
                _expr(value, names, (*here, "args", key))
        if isinstance(step, m.Sleep):
            parts = (
                [step.sleep]
                if not isinstance(step.sleep, m.RandomRange)
                else [
                    step.sleep.min,
                    step.sleep.max,
                ]
            )
            for part in parts:
                _expr(part, names, (*here, "sleep"))
        if isinstance(step, m.Let):
            for key, value in step.let.items():
                _expr(value, names, (*here, "let", key))
        if isinstance(step, m.Log):
            _template(step.log, names, (*here, "log"))
        loop = in_loop or kind in ("repeat", "while", "each")
        for key in m.NESTED.get(kind, ()):
            inner = getattr(step, {"else": "else_"}.get(key, key)) or []
            nested_loop = loop if kind not in ("repeat", "while", "each") else True
            _check_steps(sc, inner, (*here, key), names, in_loop=nested_loop)


def _target(
    sc: m.Scenario, kind: str, target: Any, here: Path, names: set[str]
) -> m.Resource | None:
    """The resource a step names: ``q``, or a member of a family, ``fork[(i + 1) % n]``."""
    ref = family_ref(target)
    if ref is None:
        res = sc.resources.get(target)
        if res is not None and res.count is not None:
            raise _Problem(
                (*here, kind),
                f"{kind}: {target!r} is a family of {res.type}s: name a member, like {target}[i]",
            )
        return res
    family, index = ref
    res = sc.resources.get(family)
    if res is not None and res.count is None:
        raise _Problem((*here, kind), f"{kind}: {family!r} is one {res.type}, not a family")
    if res is not None:
        _expr(index, names, (*here, kind))
    return res


def _known(sc: m.Scenario) -> str:
    return (
        f" (resources: {', '.join(sc.resources)})" if sc.resources else " (no resources declared)"
    )


def _expr(value: Any, names: set[str], path: Path, funcs: Mapping[str, Any] | None = None) -> None:
    try:
        expr = compile_expr(value, funcs if funcs is not None else _STEP_CHECK_FUNCS)
    except ExprError as exc:
        raise _Problem(path, str(exc)) from None
    unknown = sorted(expr.names - names)
    if unknown:
        raise _Problem(path, f"unknown name {unknown[0]!r} in {expr.source!r}")


def _template(text: str, names: set[str], path: Path) -> None:
    try:
        tpl = compile_template(text, _STEP_CHECK_FUNCS)
    except ExprError as exc:
        raise _Problem(path, str(exc)) from None
    unknown = sorted(tpl.names - names)
    if unknown:
        raise _Problem(path, f"unknown name {unknown[0]!r} in template {text!r}")


# ---------------------------------------------------------------- knobs


def resolve_knobs(
    scenario: m.Scenario, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The knob values for a run: defaults, then ``overrides`` (strings are parsed as YAML).

    Raises :class:`ScenarioError` (file ``--set``) for an unknown knob or a value
    of the wrong type.
    """
    values = {name: knob.default for name, knob in scenario.knobs.items()}
    for name, raw in (overrides or {}).items():
        if name not in scenario.knobs:
            known = ", ".join(scenario.knobs) or "none"
            raise ScenarioError("--set", 1, f"unknown knob {name!r} (knobs: {known})")
        knob = scenario.knobs[name]
        value = _parse_scalar(raw) if isinstance(raw, str) else raw
        want = type(knob.default)
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        shown = _shown(raw)
        if want is not str and type(value) is not want:
            raise ScenarioError("--set", 1, f"knob {name!r} wants {want.__name__}, got {shown}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ScenarioError("--set", 1, f"knob {name!r} wants a finite number, got {shown}")
        try:
            _check_knob_range(name, knob, value, ())
        except _Problem as problem:
            raise ScenarioError("--set", 1, problem.message) from None
        values[name] = value if want is not str else str(raw)
    if overrides:
        try:
            check_sizes(scenario, values)
        except SizeError as problem:
            raise ScenarioError("--set", 1, problem.message) from None
    return values


def _parse_scalar(text: str) -> Any:
    """A knob value typed as YAML would type it; anything odd stays the text it is."""
    if len(text) > 1_000:
        return text
    try:
        value = yaml.safe_load(text)
    except Exception:  # a tag YAML cannot build (!!int x), a number past Python's limit
        return text
    return value if isinstance(value, bool | int | float | str) else text


def _shown(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 60 else f"{text[:57]}..."


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["workers=20", "hold=0.5"]`` → ``{"workers": "20", "hold": "0.5"}``."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ScenarioError("--set", 1, f"expected NAME=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out
