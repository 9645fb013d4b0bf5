"""Drawing the run: each tick, the run's latest snapshot (or the one looked back at)
into the status bar, the banner and the panels or the Timeline — only when there is
something new, and at a pace the UI thread can keep (see ``pacing``)."""

from __future__ import annotations

import contextlib
from time import monotonic_ns, perf_counter
from typing import TYPE_CHECKING, Any

from textual.css.query import NoMatches

from tui_conc.state import model as sm
from tui_conc.state.expectations import check
from tui_conc.ui.widgets.banner import Banner
from tui_conc.ui.widgets.lesson_view import LessonView
from tui_conc.ui.widgets.locks_panel import LocksPanel
from tui_conc.ui.widgets.queues_panel import QueuesPanel
from tui_conc.ui.widgets.status_bar import StatusBar
from tui_conc.ui.widgets.timeline_view import Compared, TimelineData, TimelineView

if TYPE_CHECKING:
    from tui_conc.session import RunSource


class FrameDrawing:
    """The app's drawing of a run, tick by tick (a part of ``TuiConcApp``)."""

    def _play(self) -> None:
        """A replay moves on with the clock."""
        assert self.playback is not None
        history = self._history()
        position = self.playback.advance()
        if not self.playback.playing:  # the end: the run as it ended
            self.cursor = None
            self.refresh_bindings()
        else:
            self.cursor = history.cursor_at(history.nows[0] + position)

    def _show_timeline(self, source: RunSource, snapshot: sm.Snapshot) -> None:
        data = timeline_data(source, snapshot)
        at = None
        history = self._history()
        if self.cursor is not None and history is not None:
            at = history.time_of(self.cursor)
        compared = None
        previous = self.previous
        if self.comparing and previous is not None and self.entry is not None:
            before = timeline_data(previous, previous.snapshot(log_tail=0, actor_limit=0))
            if before is not None:
                compared = Compared(before, self._title_of(previous), self._diff(previous, source))
        self._main(TimelineView).show(data, at, compared)

    @staticmethod
    def _title_of(source: RunSource) -> str:
        folder = getattr(source, "folder", None)
        knobs = ", ".join(f"{k}={v}" for k, v in (folder.knobs if folder else {}).items())
        backend = folder.backend if folder else "?"
        return f"the run before ({knobs or 'its defaults'}; on {backend})"

    def _diff(self, before: RunSource, now: RunSource) -> tuple[str, ...]:
        """What differs between the two runs' reports (cached while neither changes)."""
        key = (id(before), id(now), now.status)
        if self._differences is not None and self._differences[0] == key:
            return self._differences[1]
        from tui_conc.state.compare import diff_reports
        from tui_conc.state.report import build_report

        reports = []
        for source in (before, now):
            snap = source.snapshot(log_tail=0)
            scenario = self.entry.scenario if self.entry is not None else None
            final = snap.status in sm.FINAL_STATUSES and scenario is not None
            results = check(scenario, snap, source.log_texts()) if final else []  # type: ignore[attr-defined, arg-type]
            reports.append(build_report("", snap, results))
        lines = tuple(diff_reports(*reports))
        self._differences = (key, lines)
        return lines

    def _panels(self) -> list[Any]:
        """The live panels that are mounted (they mount lazily, after the first frame)."""
        return list(
            self._main_screen()
            .query(
                "SchedulePanel, ActorsPanel, PoolPanel, LocksPanel, QueuesPanel, SocketsPanel, "
                "LogPanel"
            )
            .results()
        )

    @staticmethod
    def _share_resources(panels: list[Any]) -> None:
        """Locks and queues both on show: on a narrow terminal, where they stack, each gets
        a share (the locks no longer push the queues out of sight)."""
        pair = [p for p in panels if isinstance(p, LocksPanel | QueuesPanel)]
        if len(pair) == 2 and pair[0].parent is not None:
            pair[0].parent.set_class(pair[0].display and pair[1].display, "-both")

    def _reset_panels(self) -> None:
        for panel in self._panels():
            panel.reset()
        with contextlib.suppress(NoMatches):
            self._main(TimelineView).reset()
        self._shown_version = -1
        self._shown_status = ""

    def _tick(self) -> None:
        if not self.screen_stack:
            return  # the app is being torn down
        started = perf_counter()
        source = self.source
        status_changed = source is not None and source.status != self._shown_status
        if not self.pacer.due(started, status_changed):
            return
        drawn = False
        with contextlib.suppress(NoMatches):  # during teardown widgets go one by one
            drawn = self._render_tick()
        if drawn:
            self.pacer.drawn(started)

    def _render_tick(self) -> bool:
        """Show the run's latest snapshot; False when there was nothing new to draw."""
        source, entry = self.source, self.entry
        if source is None or entry is None or not self._main_screen().is_attached:
            return False
        source.poll()
        if self.playback is not None and self.playback.playing:
            self._play()
        status, version = source.status, source.version
        unchanged = (version, status, self.cursor) == (
            self._shown_version,
            self._shown_status,
            self._shown_cursor,
        )
        if status in sm.FINAL_STATUSES and unchanged:
            return False  # an ended run does not change: nothing to redraw
        if self.pacer.quiet(unchanged):
            return False  # no new events: only the clocks move, and 10 redraws a second show them
        source.give_way(self.pacer.frame_cost)  # the reader holds its fold while the frame is built
        final = status in sm.FINAL_STATUSES
        if final and self.results is None and entry.scenario is not None:
            everyone = source.snapshot(log_tail=0)  # expectations see every actor
            self.results = check(entry.scenario, everyone, source.log_texts())  # type: ignore[attr-defined]
            if self.stepping is not None:  # virtual time: claims about durations cannot hold
                from tui_conc.exploration.runs import in_virtual_time

                self.results = in_virtual_time(entry.scenario, self.results)
            self._main(LessonView).show_results(self.results)
            if self.stepping is not None:
                self._judge_challenge(entry, everyone, source)
        at = None
        history = self._history()
        if self.cursor is not None and history is not None:  # looking back
            snapshot = source.snapshot_at(self.cursor, actor_limit=sm.LIVE_ACTORS)  # type: ignore[attr-defined]
            folder = getattr(source, "folder", None)
            end = folder.now if folder is not None and not final else snapshot.now
            at = (snapshot.elapsed_s, max(end - snapshot.t0, 0) / 1e9)
            if final:
                at = (snapshot.elapsed_s, max(at[1], source.snapshot(log_tail=0).elapsed_s))
        else:
            # never wait behind the fold while it runs; the panels show at most LIVE_ACTORS
            snapshot = source.snapshot(wait=final, actor_limit=sm.LIVE_ACTORS)
        with self.batch_update():
            playing = self.playback.label() if self.playback is not None else None
            self._main(StatusBar).show(entry.title, snapshot, self.results, at, playing)
            self._main(Banner).show(snapshot)
            if self._view() == "timeline":
                self._show_timeline(source, snapshot)
            else:
                panels = self._panels()
                for panel in panels:
                    panel.show(snapshot)
                self._share_resources(panels)
        if status != self._shown_status:
            self.refresh_bindings()  # the keys that apply change with the status
        self.latest = snapshot
        self._shown_version, self._shown_status = version, status
        self._shown_cursor = self.cursor
        self.frame_times.append(perf_counter())
        return True


def timeline_data(source: RunSource, snapshot: sm.Snapshot) -> TimelineData | None:
    """What the Timeline draws of ``source``: its fold's lanes, up to now (or its end)."""
    folder = getattr(source, "folder", None)
    if folder is None:
        return None
    end = getattr(source, "end_ns", None) or monotonic_ns()
    end = max(end, folder.now, folder.t0 + 1)
    cycle = frozenset(
        folder.actor_names.index(e.actor) for e in snapshot.cycle if e.actor in folder.actor_names
    )
    holders = {a for r in folder.resources for a in r.holders}
    # the interesting lanes first: a deadlock's members, then who holds something
    order = tuple(
        sorted(range(len(folder.actors)), key=lambda i: (i not in cycle, i not in holders, i))
    )
    resources = tuple(
        (r.index, r.name, kind, r.maxsize)
        for r, kind in zip(folder.resources, folder.lanes.kinds, strict=True)
        if kind
    )
    return TimelineData(
        folder.t0,
        end,
        folder.lanes,
        folder.actor_names,
        order,
        cycle,
        resources,
        full_at=folder.lanes.full_at,
    )
