"""Frames on the wire and in trace files.

A stream is a sequence of frames, each a 4-byte big-endian length and a
msgpack body. The first frame is the header (a mapping); every other frame
is a list of events (see :mod:`tui_conc.engine.events`) or, from the process
backend, a *source frame*: msgpack extension ``SOURCE_EXT`` holding one
process's batch ``(source, watermark, events)``, which the reader merges
(:mod:`tui_conc.engine.merge`). A trace file is
exactly this stream written to disk, so a recorded run replays through the
same reader. msgpack (via msgspec) is fast and, unlike pickle, safe to read
from a file someone sent you.
"""

from __future__ import annotations

import gc
import struct
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

import msgspec

FORMAT = "tui-conc-trace"
VERSION = 1
_LEN = struct.Struct(">I")
#: The msgpack extension code of a source frame.
SOURCE_EXT = 1
#: A whole number past msgpack's 64 bits (its decimal digits), and a value msgpack
#: cannot carry at all (its repr): see :func:`wire_value`.
BIGINT_EXT, OPAQUE_EXT = 2, 3


class Opaque(str):
    """A value the stream could not carry, as its ``repr`` (shown, never compared)."""

    def __repr__(self) -> str:
        return str(self)


def _ext_hook(code: int, data: memoryview) -> Any:
    if code == BIGINT_EXT:
        return int(bytes(data))
    if code == OPAQUE_EXT:
        return Opaque(bytes(data).decode("utf-8", "replace"))
    return msgspec.msgpack.Ext(code, bytes(data))


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(ext_hook=_ext_hook)
#: Event batches decode into tuples: cheaper to build, and the cyclic GC
#: stops tracking tuples of plain values.
_batch_decoder = msgspec.msgpack.Decoder(list[tuple], ext_hook=_ext_hook)
_source_decoder = msgspec.msgpack.Decoder(tuple[int, int, list[tuple]], ext_hook=_ext_hook)
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1
#: An opaque value keeps at most this much of its repr.
OPAQUE_CHARS = 200
#: First bytes of a msgpack extension (fixext 1-16, ext 8/16/32).
_EXT_TAGS = frozenset((0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xC7, 0xC8, 0xC9))
#: The watermark of a source frame that says its source has closed.
CLOSED = -1


class SourceBatch(NamedTuple):
    """One process's events with its watermark: its clock when it took them."""

    source: int  #: the process's pid (0: the runner itself)
    mark: int  #: monotonic ns, or CLOSED
    events: list[tuple[Any, ...]]


class TraceError(ValueError):
    """A stream or trace file that is not in our format."""


def _encode(obj: Any) -> bytes:
    """msgpack for ``obj``; a value msgpack cannot carry (a number past 64 bits, a
    socket…) is carried as :func:`wire_value` makes it, so no event is ever lost.
    Only a batch that fails pays for the second pass."""
    try:
        return _encoder.encode(obj)
    except (OverflowError, TypeError, ValueError):
        return _encoder.encode(wire_value(obj))


def wire_value(value: Any, depth: int = 0) -> Any:
    """``value`` as the stream can carry it: containers rebuilt, whole numbers past
    64 bits as their digits (decoded back exactly), anything else as its repr."""
    if value is None or isinstance(value, bool | float | str | bytes):
        return value
    if isinstance(value, int):
        if _INT_MIN <= value <= _INT_MAX:
            return value
        return msgspec.msgpack.Ext(BIGINT_EXT, str(value).encode())
    if depth < 32 and isinstance(value, list | tuple):
        items = [wire_value(v, depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if depth < 32 and isinstance(value, dict):
        return {_key(k): wire_value(v, depth + 1) for k, v in value.items()}
    text = repr(value)
    return msgspec.msgpack.Ext(OPAQUE_EXT, text[:OPAQUE_CHARS].encode("utf-8", "replace"))


def _key(key: Any) -> Any:
    return key if isinstance(key, str | int) and not isinstance(key, bool) else repr(key)


def encode_frame(obj: Any) -> bytes:
    """One frame: length prefix and msgpack body."""
    return frame_of_body(_encode(obj))


def encode_source_body(source: int, mark: int, events: list[tuple[Any, ...]]) -> bytes:
    """The body of a source frame (a child sends it; the runner prefixes its length)."""
    return _encoder.encode(msgspec.msgpack.Ext(SOURCE_EXT, _encode((source, mark, events))))


def frame_of_body(body: bytes) -> bytes:
    """A whole frame around an encoded body."""
    return _LEN.pack(len(body)) + body


def encode_source_frame(source: int, mark: int, events: list[tuple[Any, ...]]) -> bytes:
    """A whole source frame (the runner's own batches, and its word that a child closed)."""
    return frame_of_body(encode_source_body(source, mark, events))


#: No frame is longer than this (a batch is at most 20,000 events, a log line 4,000
#: characters): a longer length field is a corrupted stream, not an allocation.
MAX_FRAME = 64 << 20


def read_raw_frame(stream: IO[bytes]) -> bytes | None:
    """The next whole frame (length prefix included), or None at a clean end."""
    head = _read_exact(stream, 4)
    if head is None:
        return None
    (size,) = _LEN.unpack(head)
    if size > MAX_FRAME:
        raise TraceError(f"a frame of {size:,} bytes (at most {MAX_FRAME:,}): corrupted")
    body = _read_exact(stream, size) if size else b""
    if body is None:
        raise TraceError("stream ended inside a frame")
    return head + body


def encode_events(events: list[tuple[Any, ...]]) -> bytes:
    """A list of events, packed (ten times faster than pickling it)."""
    return _encode(events)


def decode_events(data: bytes) -> list[tuple[Any, ...]]:
    """The events :func:`encode_events` packed."""
    return _batch_decoder.decode(data)


def is_source_frame(raw: bytes) -> bool:
    """Is this raw frame a source frame (a batch the reader must merge)?"""
    return len(raw) > 4 and raw[4] in _EXT_TAGS


def decode_body(frame: bytes) -> Any:
    """The object inside a raw frame: the header (a dict), a list of event tuples
    or a :class:`SourceBatch`."""
    body = memoryview(frame)[4:]
    try:
        if body[:1] and body[0] in _EXT_TAGS:
            ext = _decoder.decode(body)
            if not isinstance(ext, msgspec.msgpack.Ext) or ext.code != SOURCE_EXT:
                raise TraceError("bad frame: an unknown extension")
            return SourceBatch(*_source_decoder.decode(ext.data))
        if (body[:1] and body[0] & 0xF0 == 0x80) or body[:1] in (b"\xde", b"\xdf"):
            return _decoder.decode(body)  # a msgpack map: the header
        return _batch_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise TraceError(f"bad frame: {exc}") from None


def _read_exact(stream: IO[bytes], size: int) -> bytes | None:
    """Exactly ``size`` bytes (None at a clean end): one buffer, filled in place (a
    pipe hands over a big frame in small pieces; joining them was quadratic)."""
    first = stream.read(size)
    if not first:
        return None
    if len(first) == size:
        return first
    buf = bytearray(size)
    view = memoryview(buf)
    got = len(first)
    view[:got] = first
    while got < size:
        more = stream.read(size - got)
        if not more:
            raise TraceError("stream ended inside a frame")
        view[got : got + len(more)] = more
        got += len(more)
    return bytes(buf)


def tune_gc_for_streaming() -> None:
    """Make the cyclic GC cheap for a process that decodes millions of events.

    Decoding allocates a container per event; with the default thresholds the
    collector runs every 700 allocations and rescans the long-lived heap (the
    app's widgets, the state), which costs more than the decoding itself.
    Freezing the startup heap and collecting the young generation less often
    cut the decode cost by more than half (``benchmarks/event_throughput.py``).

    The heap is frozen once per process: the app starts a run after run, and a
    freeze at each would keep every earlier run's garbage for good (it leaked
    ~5 MB a run).
    """
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True
    gc.set_threshold(50_000, 20, 20)


_frozen = False


def iter_raw_frames(stream: IO[bytes]) -> Iterator[tuple[bytes, Any]]:
    """(raw bytes, decoded object) for every frame of a stream until its end."""
    while (raw := read_raw_frame(stream)) is not None:
        yield raw, decode_body(raw)
