"""The function names a scenario's expressions may call.

The scenario layer checks names at load time; the engine (for steps) and the
state (for expectations) provide the implementations, and a test keeps the
three in step.
"""

from __future__ import annotations

#: Plain functions both kinds of expression may call.
COMMON: dict[str, str] = {
    "len": "len(x)",
    "min": "min(a, b, …)",
    "max": "max(a, b, …)",
    "abs": "abs(x)",
    "int": "int(x)",
    "float": "float(x)",
    "str": "str(x)",
    "round": "round(x, digits)",
    "sorted": "sorted(items): the items in ascending order",
    "sum": "sum(items)",
    "range": "range(n) or range(a, b): the list of whole numbers",
    "all": "all(items): every item is true ([x > 0 for x in items] also works)",
    "any": "any(items): some item is true",
}

#: Callable inside steps: ``empty(q)``, ``uniform(0.1, 0.3)``, …
STEP_FUNCTIONS: dict[str, str] = {
    "empty": "empty(queue): true when the queue holds no item",
    "full": "full(queue): true when the queue is at its maxsize",
    "qsize": "qsize(queue): the number of items in the queue",
    "is_set": "is_set(event): true when the event is set",
    "locked": "locked(lock): true when someone holds the lock",
    "randint": "randint(a, b): a seeded random whole number in [a, b]",
    "uniform": "uniform(a, b): a seeded random number in [a, b]",
    "alive": "alive(name): is the actor (or any copy of the group) running now",
    "alive_count": "alive_count(): how many of the run's actors are running now",
    "alive_names": "alive_names(): the names of the actors running now",
    "without": "without(items, x): the list without x (e.g. a closed socket)",
    "clock": "clock(): seconds since the run began",
    **COMMON,
}

#: Callable inside expectations, on the finished run's state.
EXPECT_FUNCTIONS: dict[str, str] = {
    "max_holders": "max_holders(r): most holders of a lock or semaphore at once",
    "acquisitions": "acquisitions(r): how many times r was acquired",
    "contended": "contended(r): how many acquires of r had to wait",
    "waves": "waves(r): bursts of acquisitions of r, apart by 0.1 s or half a hold, if longer",
    "expired_leases": "expired_leases(r): leases of r the Dask scheduler took back",
    "max_depth": "max_depth(q): the deepest the queue got",
    "depth": "depth(q): items left in the queue at the end",
    "puts": "puts(q): items put",
    "gets": "gets(q): items taken",
    "put_blocks": "put_blocks(q): puts that found the queue full",
    "get_blocks": "get_blocks(q): gets that found the queue empty",
    "log_count": "log_count(text): log lines containing text",
    "hub_switches": "hub_switches(): greenlet switches (gevent backend)",
    "hub_blocked": "hub_blocked(): times a greenlet blocked the hub for over 0.1 s (gevent)",
    "log_index": "log_index(text): position of the first log line containing text",
    "log_last": "log_last(text): position of the last log line containing text",
    "log_order": "log_order(a, b, …): the first lines containing a, b, … come in that order",
    "state": "state(actor): the final state of an actor (done, failed, blocked, …)",
    "accepted": "accepted(listener): connections it accepted",
    "max_open": "max_open(listener): the most of its connections open at once",
    "misses": "misses(listener): non-blocking accepts / receives on it that found nothing",
    "found": "found(listener): accepts and receives on it that got something",
    "echoed": "echoed(listener): bytes its connections sent back",
    "received": "received(listener): bytes its connections received",
    "select_calls": "select_calls(): select calls made",
    "select_blocked": "select_blocked(): seconds spent blocked in select",
    "count_state": "count_state(s): how many actors ended in state s",
    "max_busy": "max_busy(pool): the most pool workers running a task at once",
    "tasks_submitted": "tasks_submitted(pool): tasks submitted to the pool",
    "tasks_done": "tasks_done(pool): tasks that ran to the end",
    "tasks_failed": "tasks_failed(pool): tasks that raised",
    "never_ran": "never_ran(pool): tasks still queued when the pool was terminated",
    "values_got": "values_got(q): the values taken from a process queue or pipe, in order",
    "cpu": "cpu(actor): CPU seconds the actor (or every copy of the group) used",
    "wall": "wall(actor): seconds from its start to its end (the longest copy's)",
    "cores": "cores(actor): CPU seconds per wall second of the group: the cores it got",
    "start_spread": "start_spread(actor): seconds between the first and last start of a group",
    "span": "span(r): seconds from the first acquisition of r to its last release",
    "cycle_holds": "cycle_holds(actor): what it holds in the deadlock cycle ([] if not in it)",
    "cycle_waits": "cycle_waits(actor): what the actor waits for in the cycle (none if not in it)",
    **COMMON,
}

#: Names every actor may read besides knobs, locals and shared variables.
ACTOR_NAMES = frozenset({"i", "actor", "pid", "ppid"})
#: Names every expectation may read besides knobs, variables and resources.
EXPECT_NAMES = frozenset({"outcome", "deadlock", "stall", "elapsed", "cycle", "backend"})
