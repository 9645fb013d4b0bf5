"""Damaged traces: a clear TraceError, or the trace up to its last good frame with a
warning; never a crash in the fold, never an unbounded allocation, never slow."""

from __future__ import annotations

import random
import struct
import time
from pathlib import Path

import pytest

from tui_conc.engine.wire import codec
from tui_conc.engine.wire.codec import TraceError
from tui_conc.engine.wire.trace import load_trace, read_trace
from tui_conc.session import ReplayRun

from .conftest import TRACES

RECORDED = sorted(TRACES.glob("*.trace"))


def _damage(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0:  # flipped bytes
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif kind == 1:  # cut short
        del buf[rng.randrange(len(buf)) :]
    elif kind == 2:  # a length field that promises gigabytes
        offset = 0
        for _ in range(rng.randint(0, 3)):
            (size,) = struct.unpack(">I", buf[offset : offset + 4])
            if offset + 4 + size >= len(buf):
                break
            offset += 4 + size
        buf[offset : offset + 4] = struct.pack(">I", rng.choice([0xFFFFFFFF, 1 << 30, 7]))
    elif kind == 3:  # a slice repeated
        a = rng.randrange(len(buf))
        buf[a:a] = buf[a : a + rng.randint(1, 64)]
    else:  # random bytes appended
        buf += bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    return bytes(buf)


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_damaged_traces_fail_cleanly_or_replay_their_good_part(path: Path, tmp_path: Path) -> None:
    rng = random.Random(path.stem)
    data = path.read_bytes()
    damaged = tmp_path / "damaged.trace"
    outcomes = {"error": 0, "partial": 0, "whole": 0}
    # no damage makes a replay hang or crawl: each within a bound measured here, now (a
    # busy machine slows the good trace's replay as much as the damaged ones')
    started = time.perf_counter()
    ReplayRun(path).snapshot()
    bound = max(2.0, 10 * (time.perf_counter() - started))
    for _ in range(150):
        damaged.write_bytes(_damage(data, rng))
        started = time.perf_counter()
        try:
            replay = ReplayRun(damaged)
        except TraceError:
            outcomes["error"] += 1
        else:
            replay.snapshot()  # the panels can show whatever was read
            outcomes["partial" if replay.warnings else "whole"] += 1
        assert time.perf_counter() - started < bound
    assert outcomes["error"] and outcomes["partial"], outcomes


def test_a_trace_of_another_version_says_which(tmp_path: Path) -> None:
    header = {"format": codec.FORMAT, "version": codec.VERSION + 1, "t0": 0}
    path = tmp_path / "future.trace"
    path.write_bytes(codec.encode_frame(header))
    with pytest.raises(TraceError, match=rf"version {codec.VERSION + 1}.*reads version"):
        read_trace(path)
    path.write_bytes(b"GIF89a not a trace at all")
    with pytest.raises(TraceError):
        read_trace(path)


def test_a_cut_trace_opens_up_to_its_last_good_frame(tmp_path: Path) -> None:
    whole = load_trace(TRACES / "pool_five.trace")  # many frames: a run of 6 s
    data = (TRACES / "pool_five.trace").read_bytes()
    cut = tmp_path / "cut.trace"
    cut.write_bytes(data[: len(data) * 2 // 3])
    partial = load_trace(cut)
    assert partial.problem is not None and "ended inside a frame" in partial.problem
    assert 0 < len(partial.events) < len(whole.events)
    assert partial.events == whole.events[: len(partial.events)]


def test_a_huge_frame_is_read_in_linear_time(tmp_path: Path) -> None:
    """40 MB in one frame through a pipe-like stream that hands over 64 KiB at a time."""
    import io

    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data, self.at = data, 0

        def read(self, size: int = -1) -> bytes:
            chunk = self.data[self.at : self.at + min(size, 65536)]
            self.at += len(chunk)
            return chunk

    body = b"x" * (40 << 20)
    stream = Trickle(struct.pack(">I", len(body)) + body)
    started = time.perf_counter()
    frame = codec.read_raw_frame(stream)  # type: ignore[arg-type]
    assert frame is not None and len(frame) == len(body) + 4
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_each_recorded_trace_still_matches_its_scenario(path: Path) -> None:
    """A snapshot replays a recording: if the scenario file changed since, the panels
    would show steps and lines that are no longer there. Re-record it (README)."""
    from tui_conc.engine.runner import scenario_hash

    from .conftest import SCENARIOS

    header, _ = read_trace(path)
    name = Path(header["file"]).name
    scenario = next(
        p
        for p in (SCENARIOS / name, Path(__file__).parent / "snapshot_scenarios" / name)
        if p.exists()
    )
    assert header.get("scenario_sha256") == scenario_hash(str(scenario)), (
        f"{path.name} was recorded from another version of {scenario.name}: re-record it with "
        f"tui-conc run {scenario} --record tests/traces/{path.name}"
    )
