"""The event vocabulary: the one contract between the runner and whatever shows a run.

An event is a tuple whose first item is its kind. Fast-path events (an
uncontended acquire, a put that did not wait) carry no clock reading:
``(kind, actor, resource)``; they happened no earlier than the last timed
event before them in the stream, and the runner adds a ``CLOCK`` event to
every batch it sends. Timed events are ``(kind, actor, resource, t_ns, *args)``
with ``t_ns`` from ``time.monotonic_ns()``; the header's ``t0`` is the start.
The position in the stream is the sequence number.
"""

from __future__ import annotations

# -- untimed (fast path): (kind, actor, res)
ACQUIRED = 1  #: actor now holds res (lock, rlock, semaphore, condition's lock)
RELEASED = 2  #: actor let go of one hold of res
PUT = 3  #: actor put an item into queue res
GOT = 4  #: actor took an item from queue res
TASK_DONE = 5  #: actor called task_done on queue res

# -- timed: (kind, actor, res, t, *args)
CLOCK = 10  #: (CLOCK, -1, -1, t)
ACTOR_NEW = 11  #: (.., actor, -1, t, name, group, daemon) — an actor met mid-run (traced)
RESOURCE_NEW = 17  #: (.., actor, res, t, info) — a resource created mid-run (traced): info
#: is what a header's resource says ({"name", "type", "value", "maxsize", "kind"…})
SITE_NEW = 18  #: (.., -1, step, t, line, text) — a place in a traced program (a "step")
ACTOR_START = 12  #: (.., actor, -1, t, native_id[, pid, ppid[, where]]) — pids: a process actor;
#: where: the Dask worker it runs on
ACTOR_DONE = 13  #: (.., actor, -1, t[, cpu_seconds])
ACTOR_FAILED = 14  #: (.., actor, -1, t, message)
ACTOR_SPAWNED = 16  #: (.., actor, -1, t) — a child process was started; it reports ACTOR_START
ACTOR_KILLED = 15  #: (.., actor, -1, t, reason) — a daemon cut off at the end of the run
WAIT = 20  #: (.., actor, res, t, step, how, timeout) — how: see WAIT_HOWS
WAKE = 21  #: (.., actor, res, t, ok) — the wait ended; ok is False on a timeout
SLEEP = 22  #: (.., actor, -1, t, step, seconds)
COMPUTE = 23  #: (.., actor, -1, t, step, size)
PROGRESS = 28  #: (.., actor, -1, t, done) — a compute step's iterations so far
RUN = 24  #: (.., actor, -1, t) — back to running after a sleep or a compute
GOT_ITEM = 27  #: (.., actor, res, t, item) — a get or pipe recv that also says what it took
FULL = 25  #: (.., actor, res, t) — a put gave up: queue.Full
EMPTY = 26  #: (.., actor, res, t) — a get gave up: queue.Empty
SET = 30  #: (.., actor, res, t)
CLEAR = 31  #: (.., actor, res, t)
NOTIFY = 32  #: (.., actor, res, t, n)
READ = 33  #: (.., actor, res, t, value)
WRITE = 34  #: (.., actor, res, t, value)
LOG = 35  #: (.., actor, -1, t, text)
STORED = 36  #: (.., actor, dict, t, key, value) — d[key] = value
APPENDED = 37  #: (.., actor, list, t, item)
#: (.., -1, lock, t, n) — a traced lock has been taken n times in all: its
#: uncontended holds are counted, and shown only when they last (the sampler)
HOLDS = 38
#: (.., actor, res, t, lease_id) — on Dask: actor's hold of res is this scheduler lease
LEASE = 48
#: (.., -1, res, t, lease_id, seconds) — on Dask: the scheduler took a lease back: its
#: holder did not refresh it for that long (its worker hung); it still thinks it holds
LEASE_EXPIRED = 49
SOCK_OPEN = 50  #: (.., actor, sock, t, label, role, parent) — role: listen, client, conn
SOCK_CLOSE = 51  #: (.., actor, sock, t)
SENT = 52  #: (.., actor, sock, t, nbytes)
RECEIVED = 53  #: (.., actor, sock, t, nbytes) — 0 bytes: the peer closed
IO_MISS = 54  #: (.., actor, sock, t) — a non-blocking accept / recv found nothing
SELECTED = 55  #: (.., actor, selector or -1, t, ready ids, watched ids, waited ns)
REGISTER = 56  #: (.., actor, selector, t, sock)
UNREGISTER = 57  #: (.., actor, selector, t, sock)
HUB = 58  #: (.., -1, -1, t, switches) — gevent: greenlet switches so far
HUB_BLOCKED = 59  #: (.., actor, -1, t, ms) — gevent: the hub was blocked this long by actor
SUBMIT = 60  #: (.., actor, pool, t, task_id, label) — a task queued on a pool
TASK_BEGIN = 61  #: (.., worker, pool, t, task_id)
TASK_END = 62  #: (.., worker, pool, t, task_id, ok, detail)
POOL_CLOSE = 63  #: (.., actor, pool, t)
POOL_TERMINATE = 64  #: (.., actor, pool, t) — running tasks die, queued ones never run
PAUSED = 40  #: (.., -1, -1, t)
PARKED = 45  #: (.., actor, -1, t, step) — paused: the actor waits before this step
RESUMED = 41  #: (.., -1, -1, t)
#: a controlled run (step mode, a replayed schedule): who may take the next step —
#: options is [(actor, step, blocked_on), …], blocked_on "" when it can go
OFFER = 46  #: (.., -1, -1, t, options, virtual_clock_s)
CHOSEN = 47  #: (.., actor, -1, t) — the scheduler let actor take one step
END = 42  #: (.., -1, -1, t, reason) — every non-daemon actor has ended
ERROR = 43  #: (.., -1, -1, t, message) — the runner itself failed
BLOCKED_FOREVER = 44  #: (.., -1, -1, t, message) — the backend says nothing can run again

#: What a WAIT waits for; "join" waits name an actor in the res slot, IO waits
#: a socket ("accept", "recv") or a selector (-1 for a plain select); "pipe" a
#: pipe resource, "pool" a pool (join, or the results of a map).
WAIT_HOWS = (
    "acquire",
    "put",
    "get",
    "event",
    "cond",
    "join",
    "qjoin",
    "accept",
    "recv",
    "select",
    "fetch",
    "switch",
    "pipe",
    "pool",
    "await",  # an asyncio task awaiting another task (res: the task's actor)
    "future",  # an asyncio task awaiting a future, a timer or IO (res: -1)
    "barrier",  # last: the lanes number the hows by their place here
)
#: Waits on an asyncio future: what answers them (a timer, IO, a callback) is not an actor.
TASK_HOWS = frozenset({"await", "future"})
IO_HOWS = frozenset({"accept", "recv", "select", "fetch"})

NAMES = {
    value: name
    for name, value in globals().items()
    if name.isupper() and isinstance(value, int) and not name.startswith("_")
}
