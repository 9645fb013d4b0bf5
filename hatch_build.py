"""Build hook: compile the traced Lock's fast path (``tui_conc/tracing/_fastlock.c``).

Optional by design: with no C compiler or no Python headers the wheel is built
without it and ``tui-conc trace`` uses the same fast path in Python (slower;
``python benchmarks/trace_overhead.py`` says which one it measured).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("tui_conc") / "tracing" / "_fastlock.c"


def compile_fastlock(root: Path, out_dir: Path) -> Path | None:
    """The compiled module in ``out_dir``, or None (and why, on stderr)."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    target = out_dir / f"_fastlock{suffix}"
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").exists():
        print(f"tui-conc: no Python.h in {include}: the traced Lock's fast path stays "
              "in Python", file=sys.stderr)  # fmt: skip
        return None
    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    cmd = [*cc, "-O2", "-shared", "-fPIC", f"-I{include}", str(root / SOURCE), "-o", str(target)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"tui-conc: cannot compile the traced Lock's fast path ({exc}): it stays "
              "in Python", file=sys.stderr)  # fmt: skip
        return None
    if done.returncode != 0:
        print(f"tui-conc: compiling the traced Lock's fast path failed: it stays in "
              f"Python\n{done.stderr[-2000:]}", file=sys.stderr)  # fmt: skip
        return None
    return target


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the compiled module to the wheel (an editable install finds it in place)."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        if version == "editable":
            built = compile_fastlock(root, root / SOURCE.parent)
        else:
            self._tmp = tempfile.TemporaryDirectory()
            built = compile_fastlock(root, Path(self._tmp.name))
            if built is not None:
                build_data["force_include"][str(built)] = str(SOURCE.parent / built.name)
        if built is not None:
            build_data["pure_python"] = False
            build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
