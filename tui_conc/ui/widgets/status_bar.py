"""The status line: run status, elapsed time, events, expectations."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui_conc.state.expectations import ExpectationResult
from tui_conc.state.model import Snapshot
from tui_conc.ui.widgets.styles import STATUS_STYLES


def _starting(snapshot: Snapshot) -> str:
    """ "starting 3/5 pool workers" while a pool's processes come up, before the run."""
    if snapshot.status not in ("running", "starting"):
        return ""
    for pool in snapshot.pools:
        up = sum(1 for lane in pool.lanes if lane.state != "new")
        if up < len(pool.lanes):
            return f"starting {up}/{len(pool.lanes)} workers of {pool.name}"
    return ""


class StatusBar(Static):
    """``RUNNING  3.2s  1,234 events  expectations 2/3 ✓``"""

    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; padding: 0 1; background: $boost; }
    """

    def show(
        self,
        title: str,
        snapshot: Snapshot | None,
        results: list[ExpectationResult] | None,
        at: tuple[float, float] | None = None,
        playing: str | None = None,
    ) -> None:
        """``at``: (seconds at the cursor, seconds in all) while looking back in the run;
        ``playing``: a replay's ``▶ 2×``."""
        text = Text()
        if playing is not None:
            text.append(f" REPLAY {playing} ", "bold white on #005f87")
            text.append(" ")
        if at is not None:
            text.append(f" AT {at[0]:.3f} s / {at[1]:.2f} s ", "bold black on #ffd75f")
            text.append(" ")
        status = snapshot.status if snapshot else "idle"
        text.append(f" {status.upper()} ", STATUS_STYLES.get(status, ""))
        if snapshot is not None:
            if snapshot.stopped and status != "stopped":
                text.append(" STOPPED ", STATUS_STYLES["stopped"])  # after its verdict
            failed = sum(n for state, n in snapshot.actor_states if state == "failed")
            if failed:
                text.append(f" {failed} FAILED ", "bold white on #af0000")
            if at is None:
                text.append(f"  {snapshot.elapsed_s:6.2f}s", "bold")
            text.append(f"  on {snapshot.backend}", "cyan")
            starting = _starting(snapshot)
            if starting:
                text.append(f"  {starting}", "bold yellow")
            else:
                text.append(f"  {snapshot.events_folded:,} events", "dim")
        if results and all(r.outcome == "not checked" for r in results):
            text.append("  expectations not checked", "dim")
        elif results:
            good = sum(r.passed for r in results)
            unsure = sum(r.outcome == "inconclusive" for r in results)
            failed = any(r.failed for r in results)
            style = "bold red" if failed else "bold green" if not unsure else "bold yellow"
            text.append(f"  expectations {good}/{len(results)} ", style)
            mark = "✗ " if failed else f"({unsure} inconclusive) " if unsure else "✓ "
            text.append(mark, style)
        elif snapshot is not None and snapshot.status not in ("finished", "deadlock", "stall"):
            text.append("  expectations checked at the end", "dim")
        text.append(f"  {title}", "italic")
        # one line of fixed size: no relayout of the whole screen at every tick
        self.update(text, layout=False)
