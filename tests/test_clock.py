"""Sources on other hosts: the clock offset each agrees with the runner, the merge
of their shifted batches in true time order, and the TCP door they come in by."""

from __future__ import annotations

import struct
import threading
import time

from tui_conc.engine.wire import clock
from tui_conc.engine.wire import events as ev
from tui_conc.engine.wire.channel import Channel, Relay
from tui_conc.engine.wire.codec import SourceBatch, decode_body
from tui_conc.engine.wire.merge import StreamMerger


class World:
    """Virtual time: the runner's clock reads ``now``; a host's reads ``now + skew``."""

    def __init__(self) -> None:
        self.now = 10**12

    def host(self, skew: int):
        return lambda: self.now + skew

    def asker(self, there: list[int], back: list[int]):
        """A request whose trip out and back take the given times, round by round."""
        trips = iter(zip(there, back, strict=True))

        def ask() -> bytes:
            out, ret = next(trips)
            self.now += out
            reply = struct.pack("<q", self.now)  # the runner's clock as it answers
            self.now += ret
            return reply

        return ask


def test_the_offset_is_off_by_at_most_half_the_shortest_round_trip() -> None:
    world = World()
    skew = 7_000_000_000  # this host's clock reads 7 s ahead of the runner's
    there = [900_000, 40_000, 300_000, 5_000_000]  # ns; one asymmetric trip each
    back = [100_000, 260_000, 300_000, 1_000]
    found = clock.agree(world.asker(there, back), world.host(skew), rounds=4)
    assert found.error_ns == 150_000  # the second round: 300 µs there and back
    assert abs(found.offset_ns - -skew) <= found.error_ns
    assert found.offset_ns == -skew + (40_000 - 260_000) // 2  # the asymmetry is the error


def test_shifted_batches_from_skewed_hosts_merge_in_true_order() -> None:
    world = World()
    ms = 1_000_000
    skews = {11: 5_000 * ms, 22: -3_000 * ms}  # two hosts, 5 s ahead and 3 s behind
    agreed = {
        s: clock.agree(world.asker([50_000] * 3, [70_000] * 3), world.host(k), rounds=3)
        for s, k in skews.items()
    }
    # what happened, in true (runner) time: host 11 releases, then host 22 acquires
    true_t = {11: world.now + 10 * ms, 22: world.now + 12 * ms}
    kinds = {11: ev.RELEASED, 22: ev.ACQUIRED}
    merger = StreamMerger()
    for s in skews:  # each host's hello, on the runner's clock
        merger.add(SourceBatch(s, world.now + skews[s] + agreed[s].offset_ns, []))
    out = []
    for s in (22, 11):  # they arrive in the wrong order
        local = true_t[s] + skews[s]  # what the host's own clock read
        events = clock.shift([(kinds[s], s, 0, local)], agreed[s].offset_ns)
        mark = local + ms + agreed[s].offset_ns
        out += merger.add(SourceBatch(s, mark, events))
    out += merger.release(final=True)
    got = [(e[0], e[3]) for e in out if e[0] != ev.CLOCK]
    assert [k for k, _ in got] == [ev.RELEASED, ev.ACQUIRED]
    for (_, t), s in zip(got, (11, 22), strict=True):
        assert abs(t - true_t[s]) <= agreed[s].error_ns
    # unshifted, the host 5 s ahead would have come last
    assert true_t[11] + skews[11] > true_t[22] + skews[22]


def test_a_remote_channel_agrees_with_a_tcp_relay_and_sends_on_its_clock() -> None:
    frames: list[bytes] = []
    relay = Relay(frames.append, tcp=("127.0.0.1", 0))
    relay.start()
    try:
        assert isinstance(relay.address, tuple)  # (host, port): reachable from a cluster
        chan = Channel(relay.address, source=4242, authkey=relay.authkey, remote=True)
        assert chan.clock is not None
        # one machine, one clock: the agreed offset is within its own bound of 0
        assert abs(chan.clock.offset_ns) <= chan.clock.error_ns < 50_000_000
        chan.emit((ev.LOG, 1, -1, time.monotonic_ns(), "hi"))
        chan.close()
        deadline = time.monotonic() + 3
        while not any(b"hi" in f for f in frames) and time.monotonic() < deadline:
            time.sleep(0.01)
        batches = [decode_body(f) for f in frames]
        assert {b.source for b in batches} == {4242}
        assert any(e[0] == ev.LOG for b in batches for e in b.events)
    finally:
        relay.listener.close()


def test_a_stranger_without_the_key_is_turned_away_and_the_relay_goes_on() -> None:
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Client

    frames: list[bytes] = []
    relay = Relay(frames.append, tcp=("127.0.0.1", 0))
    relay.start()
    try:
        failed = []

        def stranger() -> None:
            try:
                Client(relay.address, authkey=b"wrong")
            except AuthenticationError:
                failed.append(True)

        t = threading.Thread(target=stranger)
        t.start()
        t.join(5)
        assert failed == [True]
        chan = Channel(relay.address, source=5, authkey=relay.authkey)
        chan.close()
        deadline = time.monotonic() + 3
        while not frames and time.monotonic() < deadline:
            time.sleep(0.01)
        assert frames  # the run's own worker still gets through
    finally:
        relay.listener.close()


def test_a_silent_stranger_does_not_hold_the_door_and_forty_workers_get_in_at_once() -> None:
    import socket

    frames: list[bytes] = []
    relay = Relay(frames.append, tcp=("127.0.0.1", 0))
    relay.start()
    silent = socket.create_connection(relay.address)  # connects, never answers
    try:
        chans: list[Channel] = []
        errors: list[BaseException] = []

        def join(k: int) -> None:
            try:
                chans.append(Channel(relay.address, source=100 + k, authkey=relay.authkey))
            except BaseException as exc:
                errors.append(exc)

        began = time.monotonic()
        threads = [threading.Thread(target=join, args=(k,)) for k in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert not errors and len(chans) == 40  # multiprocessing's backlog of 1 lost some
        assert time.monotonic() - began < 4  # nobody waited for the stranger's time limit
        for c in chans:
            c.close()
        deadline = time.monotonic() + 5
        while len({decode_body(f).source for f in frames}) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert {decode_body(f).source for f in frames} == {100 + k for k in range(40)}
    finally:
        silent.close()
        relay.listener.close()
