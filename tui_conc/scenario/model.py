"""Typed models of the scenario YAML format.

Validated with msgspec (fast to import, precise errors). A step is a one-key
mapping naming what it does (``acquire: mutexA``) plus its options as
sibling keys (``timeout: 2``). Numbers may be given as expressions over
knobs and locals (``hold * 2``). Nested step lists (``do``, ``then``, …) are
converted by the loader, step by step, so each error knows its path.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import Struct, field

#: A number, a boolean, or an expression over knobs and locals.
Value = bool | int | float | str

BACKENDS: tuple[str, ...] = ("thread", "process", "gevent", "eventlet", "greenlet", "dask")
Backend = Literal["thread", "process", "gevent", "eventlet", "greenlet", "dask"]
#: Backends whose actors run outside the runner (unless ``runs_in: main``).
REMOTE_BACKENDS = frozenset({"process", "dask"})
LOCKLIKE = frozenset({"lock", "rlock", "semaphore", "bounded_semaphore", "condition"})


class _Strict(Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class _Step(_Strict, kw_only=True):
    #: The 1-based YAML line of the step, filled in by the loader.
    line: int = field(default=0, name="__line__")


class Knob(_Strict, kw_only=True):
    """A named parameter: its default, a line of help, and what it may be (a range for
    a number, a list of choices)."""

    default: bool | int | float | str
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: list[bool | int | float | str] | None = None


class Resource(_Strict, kw_only=True):
    """A shared primitive: lock, semaphore, event, condition, queue or variable."""

    type: Literal[
        "lock",
        "rlock",
        "semaphore",
        "bounded_semaphore",
        "event",
        "condition",
        "queue",
        "variable",
        "listener",
        "selector",
        "http_server",
        "pipe",
        "dict",
        "list",
        "pool",
        "barrier",
    ]
    #: a semaphore's or variable's initial value (an expression over knobs), an event's
    #: initial state (true: set)
    value: Any = None
    #: a family of this many (``fork[0]`` … ``fork[n-1]``), an expression over knobs
    count: Value | None = None
    #: a barrier: how many parties must arrive before any goes on
    parties: Value = 2
    lock: str | None = None
    kind: Literal["fifo", "lifo", "priority"] = "fifo"
    maxsize: Value = 0
    items: list[Any] = []
    backlog: Value = 128
    delay: Value = 0.5
    size: Value = 1024
    #: pipe: the names of its two connection ends, and whether both can send
    ends: list[str] = []
    duplex: bool = True
    #: pool: how many worker processes
    workers: Value = 4
    #: lock, semaphore on Dask: seconds a holder may go without heart-beating before
    #: the scheduler takes its lease back (Dask's own default: 30 s)
    lease: Value | None = None
    #: lock on Dask: a plain ``threading.Lock`` in each process that uses it, shared
    #: with no other worker (to compare the cost of the two)
    local: bool = False


#: The options each type of resource takes (besides ``type``); any other is refused.
RESOURCE_OPTIONS: dict[str, tuple[str, ...]] = {
    "lock": ("count", "lease", "local"),
    "rlock": ("count",),
    "semaphore": ("value", "count", "lease"),
    "bounded_semaphore": ("value", "count"),
    "event": ("value", "count"),
    "condition": ("lock",),
    "queue": ("kind", "maxsize", "items", "count"),
    "variable": ("value", "count"),
    "barrier": ("parties",),
    "listener": ("backlog",),
    "selector": (),
    "http_server": ("delay", "size"),
    "pipe": ("ends", "duplex"),
    "dict": ("value",),
    "list": ("value",),
    "pool": ("workers",),
}


class RandomRange(_Strict, kw_only=True):
    """A seeded random duration between ``min`` and ``max`` seconds."""

    min: Value
    max: Value


# ---------------------------------------------------------------- steps
# ``Steps`` fields hold lists the loader has already converted to steps.
Steps = list[Any]


class Acquire(_Step, kw_only=True):
    acquire: str
    blocking: bool = True
    timeout: Value | None = None
    as_: str | None = field(default=None, name="as")


class Release(_Step, kw_only=True):
    release: str


class With(_Step, kw_only=True):
    with_: str = field(name="with")
    do: Steps


class Wait(_Step, kw_only=True):
    wait: str
    timeout: Value | None = None
    as_: str | None = field(default=None, name="as")


class SetEvent(_Step, kw_only=True):
    set: str


class ClearEvent(_Step, kw_only=True):
    clear: str


class Notify(_Step, kw_only=True):
    notify: str
    n: Value = 1


class NotifyAll(_Step, kw_only=True):
    notify_all: str


class Put(_Step, kw_only=True):
    put: str
    item: Value | None = None
    block: bool = True
    timeout: Value | None = None
    on_full: Steps | None = None


class Get(_Step, kw_only=True):
    get: str
    as_: str | None = field(default=None, name="as")
    block: bool = True
    timeout: Value | None = None
    on_empty: Steps | None = None


class TaskDone(_Step, kw_only=True):
    task_done: str


class Sleep(_Step, kw_only=True):
    sleep: Value | RandomRange


class Compute(_Step, kw_only=True):
    compute: Value
    #: the work as one C call that never lets the GIL go (as some C extensions do):
    #: no other thread of the process runs until it returns
    in_c: bool = False


class Read(_Step, kw_only=True):
    read: str
    as_: str | None = field(default=None, name="as")


class Write(_Step, kw_only=True):
    write: str
    value: Value


class Log(_Step, kw_only=True):
    log: str


class Let(_Step, kw_only=True):
    let: dict[str, Value]


class Repeat(_Step, kw_only=True):
    repeat: Value
    as_: str | None = field(default=None, name="as")
    do: Steps


class While(_Step, kw_only=True):
    while_: Value = field(name="while")
    do: Steps


class If(_Step, kw_only=True):
    if_: Value = field(name="if")
    then: Steps = []
    else_: Steps = field(default_factory=list, name="else")


class Break(_Step, kw_only=True):
    break_: None = field(default=None, name="break")


class Start(_Step, kw_only=True):
    start: str
    args: dict[str, Value] | None = None


class Accept(_Step, kw_only=True):
    accept: str
    as_: str | None = field(default=None, name="as")
    block: bool = True
    on_empty: Steps | None = None


class Connect(_Step, kw_only=True):
    connect: str
    as_: str | None = field(default=None, name="as")


class Send(_Step, kw_only=True):
    send: Value
    data: Value


class Recv(_Step, kw_only=True):
    recv: Value
    as_: str | None = field(default=None, name="as")
    size: Value = 1024
    block: bool = True
    on_empty: Steps | None = None


class Close(_Step, kw_only=True):
    close: Value


class Select(_Step, kw_only=True):
    select: Value
    as_: str | None = field(default=None, name="as")
    timeout: Value | None = None


class Register(_Step, kw_only=True):
    register: str
    sock: Value


class Unregister(_Step, kw_only=True):
    unregister: str
    sock: Value


class Switch(_Step, kw_only=True):
    switch: str
    value: Value | None = None
    as_: str | None = field(default=None, name="as")


class Fetch(_Step, kw_only=True):
    fetch: str
    as_: str | None = field(default=None, name="as")


class Update(_Step, kw_only=True):
    update: str
    key: Value
    value: Value


class Append(_Step, kw_only=True):
    append: str
    item: Value


class Submit(_Step, kw_only=True):
    submit: str
    task: str
    args: dict[str, Value] | None = None


class Map(_Step, kw_only=True):
    map: str
    task: str
    items: Value
    as_: str | None = field(default=None, name="as")


class Terminate(_Step, kw_only=True):
    terminate: str


class Each(_Step, kw_only=True):
    each: Value
    as_: str | None = field(default=None, name="as")
    do: Steps


class Join(_Step, kw_only=True):
    join: str
    timeout: Value | None = None


Step = (
    Acquire
    | Release
    | With
    | Wait
    | SetEvent
    | ClearEvent
    | Notify
    | NotifyAll
    | Put
    | Get
    | TaskDone
    | Sleep
    | Compute
    | Read
    | Write
    | Log
    | Let
    | Repeat
    | While
    | If
    | Break
    | Start
    | Join
    | Accept
    | Connect
    | Send
    | Recv
    | Close
    | Select
    | Register
    | Unregister
    | Each
    | Fetch
    | Switch
    | Update
    | Append
    | Submit
    | Map
    | Terminate
)

#: Step kind (its key in YAML) → model.
STEP_TYPES: dict[str, type[_Strict]] = {
    "acquire": Acquire,
    "release": Release,
    "with": With,
    "wait": Wait,
    "set": SetEvent,
    "clear": ClearEvent,
    "notify": Notify,
    "notify_all": NotifyAll,
    "put": Put,
    "get": Get,
    "task_done": TaskDone,
    "sleep": Sleep,
    "compute": Compute,
    "read": Read,
    "write": Write,
    "log": Log,
    "let": Let,
    "repeat": Repeat,
    "while": While,
    "if": If,
    "break": Break,
    "start": Start,
    "join": Join,
    "accept": Accept,
    "connect": Connect,
    "send": Send,
    "recv": Recv,
    "close": Close,
    "select": Select,
    "register": Register,
    "unregister": Unregister,
    "each": Each,
    "fetch": Fetch,
    "switch": Switch,
    "update": Update,
    "append": Append,
    "submit": Submit,
    "map": Map,
    "terminate": Terminate,
}
#: Step model → its kind.
STEP_KIND: dict[type, str] = {cls: kind for kind, cls in STEP_TYPES.items()}
#: Which options of a step hold nested step lists.
NESTED: dict[str, tuple[str, ...]] = {
    "with": ("do",),
    "repeat": ("do",),
    "while": ("do",),
    "if": ("then", "else"),
    "put": ("on_full",),
    "get": ("on_empty",),
    "accept": ("on_empty",),
    "recv": ("on_empty",),
    "each": ("do",),
}


class Actor(_Strict, kw_only=True):
    """A group of identical actors (threads) running the same steps."""

    steps: Steps
    count: Value = 1
    daemon: Value = False
    autostart: bool = True
    #: On the process backend, ``main`` keeps these actors as threads of the main
    #: process (the parent that starts, joins and feeds the others).
    runs_in: Literal["main", "process"] = "process"


class Task(_Strict, kw_only=True):
    """Steps a pool worker runs for one submitted task; its args are its locals."""

    steps: Steps


class Expectation(_Strict, kw_only=True):
    """A claim about the finished run: an expression and the sentence it proves.

    ``when`` guards a claim that needs something the run may not have had (two
    idle cores, say): when it does not hold, the claim is *inconclusive*, neither
    passed nor failed, and ``needs`` says what was missing.
    """

    that: Value
    text: str = ""
    when: Value | None = None
    needs: str = ""
    #: The 1-based YAML line of the expectation, filled in by the loader.
    line: int = field(default=0, name="__line__")


class Challenge(_Strict, kw_only=True):
    """A goal for the learner in the scheduler's seat (step mode) and for ``explore``.

    ``goal`` is judged on the run as it ended (finished, deadlocked or
    stalled), with the expectations' names (``deadlock``, ``stall``, the
    variables, ``max_holders(sem)`` …); ``set`` gives the knobs it is played
    with (two threads, say, and no sleep).
    """

    goal: Value
    text: str = ""
    set: dict[str, Any] = {}
    #: The 1-based YAML line of the challenge, filled in by the loader.
    line: int = field(default=0, name="__line__")


class Scenario(_Strict, kw_only=True):
    """One scenario file, validated."""

    title: str
    chapter: str
    actors: dict[str, Actor]
    order: int = 100
    backend: Backend = "thread"
    #: Every backend the scenario runs on (its lesson and expectations hold on each).
    backends: list[Backend] = []

    @property
    def supported(self) -> list[str]:
        """The backends this scenario runs on, its own first."""
        return [self.backend] + [b for b in self.backends if b != self.backend]

    explanation: str = ""
    knobs: dict[str, Knob] = {}
    resources: dict[str, Resource] = {}
    #: Named step lists that pool workers run (``submit: pool, task: name``).
    tasks: dict[str, Task] = {}
    expect: list[Expectation] = []
    challenge: Challenge | None = None

    def in_process(self, group: str, backend: str) -> bool:
        """Do the actors of ``group`` run as child processes on a run on ``backend``?"""
        return backend in REMOTE_BACKENDS and self.actors[group].runs_in != "main"


def convert(raw: Any, cls: type[Any]) -> Any:
    """Validate ``raw`` (plain YAML data) into ``cls``; raises msgspec.ValidationError."""
    return msgspec.convert(raw, cls)
