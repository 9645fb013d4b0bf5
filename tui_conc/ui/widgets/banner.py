"""The banner: a deadlock's cycle, a global stall, or a runner error."""

from __future__ import annotations

from textual.widgets import Static

from tui_conc.state.model import Snapshot


class Banner(Static):
    """Hidden unless the run deadlocked, stalled or failed to run."""

    DEFAULT_CSS = """
    Banner { display: none; padding: 0 1; height: auto; }
    Banner.-deadlock { display: block; background: $error; color: $text; text-style: bold; }
    Banner.-stall { display: block; background: $warning; color: $text; text-style: bold; }
    Banner.-error { display: block; background: $error-darken-2; color: $text; }
    Banner.-hub { display: block; background: $warning-darken-2; color: $text; }
    Banner.-suspect { display: block; background: $warning-darken-3; color: $text; }
    Banner.-failed { display: block; background: $error-darken-1; color: $text; }
    """

    _shown = ""

    def show(self, snapshot: Snapshot | None) -> None:
        kind, message = "", ""
        if snapshot is not None:
            if snapshot.cycle:
                kind = "deadlock"
                message = f"DEADLOCK: {snapshot.deadlock_text}."
            elif snapshot.stalled:
                kind = "stall"
                stuck = ", ".join(
                    a.name for a in snapshot.actors if a.state in ("blocked", "waiting")
                )
                message = (
                    "STALL: all live actors are blocked for good, nothing is sleeping "
                    f"or pending a timeout ({stuck})."
                )
            elif snapshot.error:
                kind = "error"
                message = f"ERROR: {snapshot.error}"
            elif snapshot.suspect:
                kind = "suspect"
                breakers = " or ".join(snapshot.could_break) or "someone else"
                message = (
                    f"LIKELY DEADLOCK (not certain): {snapshot.deadlock_text_of(snapshot.suspect)}"
                    f" — unless {breakers} releases it; the run goes on."
                )
            elif failed := [a for a in snapshot.actors if a.state == "failed"]:
                kind = "failed"
                first = failed[0]
                more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
                where = first.detail if first.detail.startswith("line ") else f": {first.detail}"
                message = f"FAILED: {first.name} failed at {where}{more}".replace("at : ", ": ")
            elif snapshot.hub is not None and snapshot.hub.blocked:
                kind = "hub"
                worst = max(snapshot.hub.blocked, key=lambda b: b[1])
                message = (
                    f"HUB BLOCKED: {worst[0]} kept gevent's hub for {worst[1]:.0f} ms without "
                    f"yielding ({len(snapshot.hub.blocked)} warnings); nobody else could run."
                )
        for name in ("deadlock", "stall", "error", "hub", "suspect", "failed"):
            self.set_class(kind == name, f"-{name}")
        if message != self._shown:  # an update relayouts the screen: only on a change
            self._shown = message
            self.update(message)
