"""The parent's side of a runner process: start it, read its frames, stop it for good."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tui_conc.engine.memory import DEFAULT_MB
from tui_conc.engine.wire import codec
from tui_conc.engine.wire.merge import StreamMerger, merged


class RunnerProcess:
    """A runner child in its own process group (so one kill ends all of it)."""

    #: The runner module for each backend (gevent's patches its own process first).
    MODULES = {
        "thread": "tui_conc.engine.runner",
        "process": "tui_conc.engine.runner",
        "gevent": "tui_conc.engine.backends.gevent_runner",
        "eventlet": "tui_conc.engine.backends.eventlet_runner",
        "greenlet": "tui_conc.engine.runner",
        "dask": "tui_conc.engine.runner",
    }

    def __init__(
        self,
        scenario: str | Path,
        overrides: dict[str, Any] | None = None,
        backend: str = "thread",
        memory_mb: float = DEFAULT_MB,
        schedule: list[str] | None = None,
        step: bool = False,
        program: list[str] | None = None,
    ) -> None:
        self.scenario = str(scenario)
        #: a traced program instead of a scenario: ``[SCRIPT, ARGS…]`` or ``["-m", MODULE, …]``
        self.program = program
        #: a controlled run: follow these actor names (then, in step mode, obey step / auto)
        self.schedule = schedule
        self.step = step
        self.overrides = dict(overrides or {})
        self.backend = backend
        self.memory_mb = memory_mb
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        #: Merges the process backend's sources; asked whether its output is a consistent cut.
        self.merger = StreamMerger()

    def start(self) -> None:
        self._stderr = tempfile.TemporaryFile()
        if self.program is not None:
            cmd = [sys.executable, "-m", "tui_conc.tracing.runner", "--memory-mb"]
            cmd += [str(self.memory_mb), "--control", *self.program]
        else:
            cmd = self._scenario_command()
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,
            bufsize=0,
        )

    def _scenario_command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            self.MODULES[self.backend],
            self.scenario,
            "--backend",
            self.backend,
            "--set-json",
            json.dumps(self.overrides),
            "--memory-mb",
            str(self.memory_mb),
            "--control",
        ]
        if self.schedule is not None:
            cmd += ["--schedule-json", json.dumps(self.schedule)]
        if self.step:
            cmd.append("--step")
        return cmd

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def frames(self) -> Iterator[tuple[bytes, Any]]:
        """(raw bytes, decoded object) for every frame until the stream ends, the
        process backend's source frames merged into event batches."""
        assert self.proc is not None and self.proc.stdout is not None
        yield from merged(self._raw_frames(self.proc.stdout), self.merger)

    @staticmethod
    def _raw_frames(stream: IO[bytes]) -> Iterator[tuple[bytes, Any]]:
        while True:
            try:
                raw = codec.read_raw_frame(stream)
            except (OSError, ValueError):
                return
            if raw is None:
                return
            yield raw, codec.decode_body(raw)

    def send(self, command: str) -> None:
        """Send a control line (pause, resume); ignored once the runner is gone."""
        if self.proc is None or self.proc.stdin is None or self.proc.poll() is not None:
            return
        try:
            self.proc.stdin.write(command.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def kill(self) -> None:
        """End the runner and every thread or child it has, then reap it."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def wait(self) -> int:
        assert self.proc is not None
        return self.proc.wait()

    def stderr_tail(self, lines: int = 3) -> str:
        """The last lines the runner wrote to stderr (for an error line, not a traceback)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])
