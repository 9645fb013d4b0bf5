"""The traced ``threading.Lock`` a traced program gets: still a lock (mutual exclusion,
timeouts), and its stream never shows a hold that is not one, though uncontended
holds cost no event (they are published when someone waits, or when sampled)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tui_conc.engine.wire import events as ev
from tui_conc.tracing import instrument, locks

_BASES = [pytest.param(locks.PyLockBase, id="python")]
if locks.LockBase is not locks.PyLockBase:
    _BASES.insert(0, pytest.param(locks.LockBase, id="c"))
else:  # the C fast path was not compiled (no compiler at install): say so, test Python
    _BASES.insert(0, pytest.param(None, id="c", marks=pytest.mark.skip("_fastlock not built")))


@pytest.fixture(params=_BASES)
def Lock(request: pytest.FixtureRequest) -> type:
    """The traced Lock over each fast path: C (when it was compiled) and Python."""
    return locks.traced_lock_class(request.param)


@pytest.fixture
def stream() -> Iterator[list[tuple[Any, ...]]]:
    """A registry and sink of this test's own (the process is not patched)."""
    saved = instrument.REGISTRY, instrument._emit, dict(instrument._idents)
    sink: list[tuple[Any, ...]] = []
    registry = instrument._Registry("")
    registry.actors = 1
    instrument.REGISTRY = registry
    instrument._emit = sink.append
    instrument._idents[threading.get_ident()] = 0
    try:
        yield sink
    finally:
        instrument.REGISTRY, instrument._emit = saved[0], saved[1]
        instrument._idents.clear()
        instrument._idents.update(saved[2])


def _holds_are_real(sink: list[tuple[Any, ...]], index: int) -> None:
    """On a plain lock, the stream alternates: a hold, its end, a hold…"""
    held = None
    for e in sink:
        if e[2] != index:
            continue
        if e[0] == ev.ACQUIRED:
            assert held is None, f"a second hold while {held} holds: {e}"
            held = e[1]
        elif e[0] == ev.RELEASED:
            assert held is not None, f"an end of no hold: {e}"
            held = None


def test_it_is_still_a_lock_under_contention(Lock: type, stream: list[tuple[Any, ...]]) -> None:
    lock = Lock(0)
    count, errors, each = [0], [], 20_000

    def work(n: int) -> None:
        try:
            for i in range(each):
                if i % 2:
                    with lock:
                        value = count[0]
                        if i % 97 == 1:
                            time.sleep(0)  # a switch while holding: someone must wait
                        count[0] = value + 1
                else:
                    lock.acquire()
                    count[0] += 1
                    lock.release()
        except BaseException as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and count[0] == 4 * each
    locks.publish_holds()
    assert stream[-1][:3] == (ev.HOLDS, -1, 0) and stream[-1][4] == 4 * each
    waits = [e for e in stream if e[0] == ev.WAIT]
    assert waits, "no thread ever waited: the test did not test contention"
    _holds_are_real(stream, 0)


def test_a_timed_or_non_blocking_acquire_gives_up(
    Lock: type, stream: list[tuple[Any, ...]]
) -> None:
    lock = Lock(0)
    taken, done = threading.Event(), threading.Event()

    def holder() -> None:
        with lock:
            taken.set()
            done.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    taken.wait(5)
    assert lock.acquire(False) is False
    t0 = time.monotonic()
    assert lock.acquire(timeout=0.2) is False
    assert 0.15 < time.monotonic() - t0 < 2
    done.set()
    t.join()
    assert lock.acquire(timeout=1) is True
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()
    wake = [e for e in stream if e[0] == ev.WAKE]
    assert wake and wake[-1][4] is False  # the timed wait was shown, and gave up
    _holds_are_real(stream, 0)


def test_a_waiter_names_the_holder_it_waits_for(Lock: type, stream: list[tuple[Any, ...]]) -> None:
    lock = Lock(0)
    lock.acquire()  # uncontended: no event
    assert not [e for e in stream if e[0] == ev.ACQUIRED]

    waiter = threading.Thread(target=lambda: (lock.acquire(), lock.release()))
    waiter.start()
    deadline = time.monotonic() + 5
    while not [e for e in stream if e[0] == ev.WAIT] and time.monotonic() < deadline:
        time.sleep(0.005)
    lock.release()
    waiter.join()
    on_lock = (ev.ACQUIRED, ev.RELEASED, ev.WAIT, ev.WAKE)
    kinds = [(e[0], e[1]) for e in stream if e[2] == 0 and e[0] in on_lock]
    w = next(e[1] for e in stream if e[0] == ev.WAIT)
    assert kinds[:2] == [(ev.ACQUIRED, 0), (ev.WAIT, w)]  # the holder, before the wait
    assert (ev.RELEASED, 0) in kinds and (ev.ACQUIRED, w) in kinds
    assert kinds.index((ev.RELEASED, 0)) < kinds.index((ev.ACQUIRED, w))
    _holds_are_real(stream, 0)


def test_the_sampler_shows_a_lasting_hold_and_counts_the_rest(
    Lock: type, stream: list[tuple[Any, ...]]
) -> None:
    held, free = Lock(0), Lock(1)
    for _ in range(3):
        with free:
            pass
    held.acquire()
    assert locks.publish_holds() is True
    assert (ev.ACQUIRED, 0, 0) in stream
    assert not [e for e in stream if e[0] == ev.ACQUIRED and e[2] == 1]
    counts = {e[2]: e[4] for e in stream if e[0] == ev.HOLDS}
    assert counts == {0: 1, 1: 3}
    stream.clear()
    assert locks.publish_holds() is False and stream == []  # nothing new: silent
    held.release()
    assert stream == [(ev.RELEASED, 0, 0)]


def test_a_hold_ending_as_it_is_published_is_not_shown(
    Lock: type, stream: list[tuple[Any, ...]]
) -> None:
    """The publisher checks the owner after marking the hold: one that has gone (its
    owner forgotten, as a release does first) is not reported."""
    lock = Lock(0)
    lock.acquire()
    lock._owner = 0  # the holder is part-way through its release
    assert locks._publish(lock) is False
    assert stream == [] and lock._marks == []
    lock._owner = threading.get_ident()
    assert locks._publish(lock) is True
    assert locks._publish(lock) is True  # once only
    assert stream == [(ev.ACQUIRED, 0, 0)]
    lock.release()
    assert stream[-1] == (ev.RELEASED, 0, 0) and lock._marks == []


def test_a_waiter_waits_for_a_holder_that_has_not_named_itself(
    Lock: type, stream: list[tuple[Any, ...]]
) -> None:
    """Taken, its owner not written yet (a thread between the two): the waiter keeps
    waiting, unseen, and takes the lock when it is let go."""
    lock = Lock(0)
    lock._try(False)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(lock.acquire()))
    waiter.start()
    time.sleep(0.1)
    assert waiter.is_alive() and got == []
    assert not [e for e in stream if e[0] == ev.WAIT]  # no holder to name: no verdict
    lock._give()
    waiter.join(5)
    assert got == [True] and lock._owner == waiter.ident
    lock.release()


def test_it_takes_what_threading_lock_takes(Lock: type, stream: list[tuple[Any, ...]]) -> None:
    """The same arguments, errors and answers as CPython's own lock."""
    for lock in (threading.Lock(), Lock(0)):
        assert lock.acquire(blocking=False) is True and lock.locked()
        assert lock.acquire(False) is False
        assert lock.acquire(True, 0) is False
        assert lock.acquire(timeout=0.01) is False
        with pytest.raises(ValueError, match="non-blocking"):
            lock.acquire(False, 1)
        with pytest.raises(ValueError, match="timeout value must be"):
            lock.acquire(True, -2)
        with pytest.raises(TypeError):
            lock.acquire(wait=True)
        lock.release()
        assert not lock.locked()
        with pytest.raises(RuntimeError, match="release unlocked lock"):
            lock.release()
        with lock:
            assert lock.locked()
        assert not lock.locked()
        lock.acquire()
        lock._at_fork_reinit()  # what a forked child does to the locks it inherits
        assert not lock.locked() and lock.acquire(False)
        lock.release()
