"""Trace files: a run's stream saved to disk, read back merged as it was live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui_conc.engine.wire.codec import FORMAT, TraceError, iter_raw_frames
from tui_conc.engine.wire.merge import merged


def read_trace(path: str | Path) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """A whole trace file: its header and all its events, in order (merged, as live)."""
    with open(path, "rb") as fh:
        frames = merged(iter_raw_frames(fh))
        header = next(frames, (b"", None))[1]
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise TraceError(f"{path}: not a tui-conc trace")
        events: list[tuple[Any, ...]] = []
        for _, batch in frames:
            if not isinstance(batch, list):
                raise TraceError(f"{path}: a frame after the header is not a list of events")
            events.extend(batch)
    return header, events
